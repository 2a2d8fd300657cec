"""Phase engine: runs the selected phases, journals them, resumes them (`pipeline.Engine`).

UI-free: the wizard and headless mode get an Engine from `kwizard.service.runs` and show its events
their own way (`kwizard.ui.dashboard`, `kwizard.headless`).
"""
