"""Reusable widgets of the wizard, grouped by area."""
