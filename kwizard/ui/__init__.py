"""The user interfaces: the Textual wizard (`app`), its screens and widgets, and plain prompts.

This is the only package that imports textual or questionary; the core never imports it.
"""
