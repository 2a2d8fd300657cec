"""Drive the Textual wizard with real keys, the same answers the plain-mode test gives."""

from __future__ import annotations

from textual.pilot import Pilot

HOSTS = [("node1", "10.0.0.1", ""), ("node2", "10.0.0.2", ""), ("node3", "10.0.0.3", "")]


async def type_into(pilot: Pilot[int], selector: str, text: str, clear: bool = True) -> None:
    await pilot.click(selector)
    if clear:
        await pilot.press("ctrl+a", "ctrl+k") if False else None
        widget = pilot.app.screen.query_one(selector)
        widget.value = ""  # type: ignore[attr-defined]
    await pilot.press(*text)


async def add_hosts(pilot: Pilot[int], hosts: list[tuple[str, str, str]] = HOSTS) -> None:
    """Type each host as `name=address` into the Hosts step's host list (roles in their own field)."""
    for name, address, roles in hosts:
        await type_into(pilot, "#add-hosts", f"{name}={address}")
        if roles:
            await type_into(pilot, "#host-roles", roles)
        await pilot.press("enter")
        await pilot.pause()
