"""Services both front ends call (the Textual wizard and headless mode): no UI toolkit in here.

Each module is one thing the two front ends must do the same way: where passwords come from
(`secrets`), which fixes a stopped run offers and how they are applied (`fixes`), how an unexpected
crash is recorded (`crash`).
"""
