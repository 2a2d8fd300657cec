"""The contract between the engine and the phases, a leaf every layer may import: what a phase is and
is given (`phase`), and the events it reports (`events`)."""
