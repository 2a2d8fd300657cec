"""A KwizardError as the command line shows it: one panel on stderr with its title, problem and fix.
Rich is imported only when there is an error to show (kwizard's start stays fast)."""

from __future__ import annotations

from kwizard.errors import KwizardError


def report_error(error: KwizardError) -> None:
    """Print a KwizardError as a panel on stderr."""
    from rich.panel import Panel
    from rich.text import Text

    from kwizard.headless.output import output_console

    body = Text(error.problem)
    if error.fix:
        body.append("\n\nFix: ", style="bold green")
        body.append(error.fix)
    # In a CI log each problem stays on its line (file:line: key: message), as grep expects.
    output_console(stderr=True).print(Panel(body, title=f"[bold red]{error.title}", expand=False))
