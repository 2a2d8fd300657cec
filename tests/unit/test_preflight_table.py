def test_the_host_columns_stay_visible_on_an_80_column_terminal():
    import json
    from pathlib import Path

    from rich.console import Console

    from kwizard.preflight.table import render_json

    data = json.loads((Path(__file__).parents[1] / "fixtures" / "preflight" / "lab-default.json").read_text())
    console = Console(width=80, record=True, force_terminal=False)
    console.print(render_json(data))
    header = next(line for line in console.export_text().splitlines() if line.strip().startswith("check"))
    assert all(name in header for name in ("lab1", "lab2", "lab3", "lab4", "lab5"))
