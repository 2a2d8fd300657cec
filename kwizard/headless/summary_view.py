"""Rich renderables of the end-of-run Summary: used by the Summary screen and printed by headless mode."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from kwizard.loadbalancer.dns import route53_json
from kwizard.summary import Summary, run_lines

RUN_STYLES = {"✓": "green", "✗": "red", "-": "dim", "·": "dim"}


def run_panel(summary: Summary) -> Panel:
    """What each phase of the run did, and what the preset does not build at all."""
    body = Text()
    for index, (mark, text) in enumerate(run_lines(summary)):
        if index:
            body.append("\n")
        body.append(f"{mark} ", style=RUN_STYLES.get(mark, ""))
        body.append(text, style="yellow" if text.startswith("Not built") else "")
    return Panel(body, title="What was built", title_align="left")


def kubeconfig_panel(summary: Summary) -> Panel:
    body = Text()
    body.append("kubectl --context ", style="bold")
    body.append(summary.context, style="bold cyan")
    body.append(" get nodes\n", style="bold")
    if summary.merged_into:
        body.append(f"context {summary.context} in {summary.merged_into}\n")
        body.append(f"cluster-only copy: {summary.kubeconfig}")
    else:
        body.append(f"not merged yet — run: kwizard kubeconfig {summary.cluster}", style="yellow")
    if summary.server:
        body.append(f"\nAPI server: {summary.server} (checked against the cluster's CA, no insecure-skip)")
    if summary.api_problem:
        body.append(f"\n! kubectl will fail: {summary.api_problem}", style="yellow")
    return Panel(body, title="Kubeconfig", title_align="left")


def dns_panel(summary: Summary) -> Panel:
    parts: list[RenderableType] = []
    if summary.dns_kept:
        parts.append(Text("kwizard keeps these in Route53 (provision.dns):", style="bold"))
        parts.append(Text("\n".join(summary.dns_kept), style="green"))
    if summary.dns_lines:
        parts.append(Text("\n".join(summary.dns_lines), style="green"))
    elif not summary.dns_kept:
        parts.append(Text("No virtual hosts yet: kwizard expose SERVICE --host NAME", style="dim"))
    if summary.route53_batch:
        parts.append(Text("Route53 change batch:", style="bold"))
        parts.append(Syntax(route53_json(summary.route53_batch), "json", theme="ansi_dark", word_wrap=True))
    for line in summary.dns_advice:
        parts.append(Text(f"! {line}", style="yellow"))
    title = "DNS records to add" if summary.dns_lines or not summary.dns_kept else "DNS records"
    return Panel(Group(*parts), title=title, title_align="left")


def urls_table(summary: Summary) -> Table:
    table = Table(title="URLs", title_justify="left", expand=True, show_header=False)
    table.add_column("name", style="bold", no_wrap=True)
    table.add_column("url")
    for name, url in summary.urls:
        table.add_row(name, url)
    return table


def lb_table(summary: Summary) -> Table:
    """What each LB node serves: one row per node, one column per verified virtual host."""
    hosts = list(dict.fromkeys(h for row in summary.lb_nodes for h, _, _ in row.served))
    table = Table(title="Load-balancer nodes", title_justify="left", expand=True)
    table.add_column("node", style="bold", no_wrap=True)
    table.add_column("address", no_wrap=True)
    for host in hosts or ["served"]:
        table.add_column(host)
    for row in summary.lb_nodes:
        cells = {h: Text(cell, style="green" if ok else "red") for h, cell, ok in row.served}
        values = (
            [cells.get(h, Text("-", style="dim")) for h in hosts]
            if hosts
            else [Text("not verified yet", "dim")]
        )
        table.add_row(row.node, row.address, *values)
    return table


def nat_panel(summary: Summary) -> Panel:
    title = "Outbound traffic (HA NAT) — " + ("AWS" if summary.target == "aws" else "bare metal")
    return Panel(Text("\n".join(f"• {line}" for line in summary.nat_advice)), title=title, title_align="left")


def steps_panel(summary: Summary) -> Panel:
    body = Text()
    for index, step in enumerate(summary.next_steps):
        if index:
            body.append("\n")
        body.append(step.title, style="bold")
        if step.note:
            body.append(f"  ({step.note})", style="dim")
        for command in step.commands:
            body.append(f"\n  {command}", style="cyan")
    return Panel(body, title="Next steps", title_align="left")


def renderables(summary: Summary, *, phase_table_shown: bool = False) -> list[RenderableType]:
    """Every part of the summary, top to bottom.

    Headless output has just printed the run's phase table: the "What was built" panel would repeat it,
    so only what the preset does not build is said there.
    """
    parts: list[RenderableType] = []
    if phase_table_shown:
        parts += [
            Text(line, style="yellow") for mark, line in run_lines(summary) if line.startswith("Not built")
        ]
    elif summary.ran or summary.not_built:
        parts.append(run_panel(summary))
    if summary.has_cluster:
        parts.append(kubeconfig_panel(summary))
    if summary.has_loadbalancer:
        parts.append(dns_panel(summary))
        if summary.urls:
            parts.append(urls_table(summary))
        parts.append(lb_table(summary))
    parts.append(nat_panel(summary))
    if summary.next_steps:
        parts.append(steps_panel(summary))
    parts += [Panel(Text(text), title=title, title_align="left") for title, text in summary.extra]
    return parts


def print_summary(summary: Summary, console: Console | None = None) -> None:
    """Headless: print the summary to the terminal."""
    console = console or Console()
    for part in renderables(summary, phase_table_shown=True):
        console.print(part)
