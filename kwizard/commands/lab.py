"""`kwizard lab`: local test hosts (real sshd in network namespaces): up, status, ssh, down."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from kwizard.errors import InputError

if TYPE_CHECKING:
    from kwizard.lab import Lab

ENV_LAB_NAME = "KWIZARD_LAB"
DEFAULT_NAME = "kwlab"  # kwizard.lab.DEFAULT_NAME; repeated so --help does not import the lab package
DEFAULT_SUBNET = "10.77.0.0/24"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="lab_action", metavar="ACTION", required=True)
    default_name = os.environ.get(ENV_LAB_NAME, DEFAULT_NAME)

    def with_name(sub: argparse.ArgumentParser) -> argparse.ArgumentParser:
        sub.add_argument(
            "--name", default=default_name, help=f"lab name (default: {default_name}; env {ENV_LAB_NAME})"
        )
        return sub

    up = with_name(actions.add_parser("up", help="create the lab's hosts (idempotent)"))
    source = up.add_mutually_exclusive_group()
    source.add_argument("--hosts", type=int, metavar="N", help="N hosts of the default profile (default: 5)")
    source.add_argument("--profile", metavar="FILE", help="a YAML profile: hosts and their traits")
    up.add_argument(
        "--subnet", default=DEFAULT_SUBNET, help=f"private /24 for the lab (default: {DEFAULT_SUBNET})"
    )
    up.add_argument(
        "--timeout", type=float, default=15.0, help="seconds to wait for every sshd (default: 15)"
    )

    status = with_name(
        actions.add_parser("status", help="hosts, addresses, users, key path, traits and what they have now")
    )
    shown = status.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="machine-readable output")
    shown.add_argument(
        "--password", action="store_true", help="print only the sudo user's password (for scripts)"
    )

    ssh = with_name(actions.add_parser("ssh", help="open a shell (or run COMMAND) on a lab host"))
    ssh.add_argument("host", metavar="HOST")
    ssh.add_argument("--user", default="root", help="log in as this user (default: root, with the lab key)")
    ssh.add_argument(
        "remote_command", nargs=argparse.REMAINDER, metavar="COMMAND", help="command to run on the host"
    )

    reset = with_name(
        actions.add_parser("reset", help="restart hosts from pristine disks (keeps addresses and keys)")
    )
    reset.add_argument("hosts", nargs="*", metavar="HOST", help="hosts to reset (default: all)")

    with_name(actions.add_parser("down", help="remove the lab: processes, namespaces, interfaces, files"))


def run(args: argparse.Namespace) -> int:
    from kwizard.lab import checks

    checks.check_platform()  # the lab, its key and its state are root's: say so instead of "no lab"
    action = {"up": _up, "down": _down, "status": _status, "ssh": _ssh, "reset": _reset}[args.lab_action]
    return action(args)


def _up(args: argparse.Namespace) -> int:
    import time

    from kwizard import lab

    profile = (
        lab.load_profile(args.profile)
        if args.profile
        else lab.default_profile(5 if args.hosts is None else args.hosts)
    )
    started = time.monotonic()
    result = lab.up(profile, name=args.name, subnet=args.subnet, timeout=args.timeout)
    elapsed = time.monotonic() - started
    if result.reused:
        print(
            f"Lab {result.name} is already up ({len(result.hosts)} hosts on {result.subnet}): "
            "nothing changed."
        )
    else:
        print(f"Lab {result.name} is up: {len(result.hosts)} hosts on {result.subnet} in {elapsed:.1f} s.")
    _print_lab(result)
    return 0


def _down(args: argparse.Namespace) -> int:
    import time

    from kwizard import lab

    started = time.monotonic()
    if lab.down(args.name):
        print(
            f"Lab {args.name} is down ({time.monotonic() - started:.1f} s): every host, namespace, interface "
            "and file of it is gone."
        )
    else:
        print(f"No lab named {args.name} is up: nothing to do.")
    return 0


def _reset(args: argparse.Namespace) -> int:
    import time

    from kwizard import lab

    started = time.monotonic()
    result = lab.reset(args.name, hosts=args.hosts or None)
    names = ", ".join(args.hosts) if args.hosts else f"all {len(result.hosts)} hosts"
    print(f"Lab {result.name}: {names} restarted from pristine disks in {time.monotonic() - started:.1f} s.")
    return 0


def _status(args: argparse.Namespace) -> int:
    import json

    from kwizard import lab

    current = lab.load(args.name)
    if args.json:
        print(json.dumps(_as_json(args.name, current), indent=2))
        return 0
    if current is None:
        where = _looked_in(args.name)
        if args.password:
            raise InputError("No lab is up", f"no lab named {args.name} is up ({where})", _START_HINT)
        print(f"No lab named {args.name} is up ({where}). {_START_HINT}")
        return 0
    if args.password:
        print(current.password)
        return 0
    running = sum(h.is_running() for h in current.hosts)
    print(f"Lab {current.name}: {running} of {len(current.hosts)} hosts running on {current.subnet}.")
    _print_lab(current)
    return 0


_START_HINT = "Start it with `kwizard lab up`."


def _looked_in(name: str) -> str:
    """Where `kwizard lab status` looked for lab `name`, and why there when KWIZARD_WORKDIR chose it: a lab
    started under another workdir is not found."""
    from kwizard.lab.lifecycle import layout_for
    from kwizard.paths import ENV_WORKDIR

    looked = f"looked for {layout_for(name).state_file}"
    if os.environ.get(ENV_WORKDIR):
        looked += (
            f", under {ENV_WORKDIR}={os.environ[ENV_WORKDIR]}; a lab started with another workdir is "
            f"found with that {ENV_WORKDIR} or --workdir"
        )
    return looked


def _ssh(args: argparse.Namespace) -> int:
    from kwizard import lab

    current = lab.load(args.name)
    if current is None:
        raise InputError("No lab is up", f"no lab named {args.name} is up", "Start it with `kwizard lab up`.")
    try:
        host = current.host(args.host)
    except KeyError:
        names = ", ".join(h.name for h in current.hosts)
        raise InputError(
            "Unknown lab host", f"lab {current.name} has no host {args.host!r}", f"Use one of: {names}."
        ) from None
    command = args.remote_command
    command = command[1:] if command[:1] == ["--"] else command
    argv = host.ssh_argv(command, user=args.user)
    os.execvp(argv[0], argv)  # noqa: S606 - argv, no shell; ssh takes over the terminal
    return 0  # not reached


def _print_lab(current: Lab) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("HOST", "ADDRESS", "STATE", "NOW", "PROFILE (AS STARTED)"):
        table.add_column(column)
    for host in current.hosts:
        now = host.observed()
        state = "running" if now is not None or host.is_running() else "[red]stopped[/red]"
        table.add_row(host.name, f"{host.address}:{host.port}", state, _now_text(now), host.traits.summary())
    # Not a terminal (a pipe, a log): don't wrap at 80 columns, the paths must stay copyable.
    console = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
    console.print(table)
    print(f"root:   key only, key {current.key_path}")
    print(
        f"{current.user}: password {current.password} (sudo asks for it; lab-only: these hosts are throwaway)"
    )
    print(f"host keys: {current.known_hosts}")
    print(f"ssh control masters: {current.control_path_dir} (use as ANSIBLE_SSH_CONTROL_PATH_DIR)")
    print(
        f"try: kwizard lab ssh {current.hosts[0].name}  |  "
        "export KWIZARD_LAB_PASSWORD=$(kwizard lab status --password)  |  kwizard lab down"
    )


def _now_text(now: dict[str, int] | None) -> str:
    # Read from the host at this moment: the profile column only says how it was started.
    if now is None:
        return "-"
    python = "python3" if now["python3"] else "[yellow]no python3[/yellow]"
    forward = f"ip_forward {now['ip_forward']}"
    return f"{python}, " + (forward if now["ip_forward"] else f"[yellow]{forward}[/yellow]")


def _as_json(name: str, current: Lab | None) -> dict[str, Any]:
    if current is None:
        return {"name": name, "up": False, "hosts": []}
    return {
        "name": current.name,
        "up": True,
        "subnet": current.subnet,
        "gateway": current.gateway,
        "state_dir": str(current.state_dir),
        "key_path": str(current.key_path),
        "known_hosts": str(current.known_hosts),
        "control_path_dir": str(current.control_path_dir),
        "user": current.user,
        "password": current.password,
        "hosts": [
            {
                "name": h.name,
                "address": h.address,
                "port": h.port,
                "running": h.is_running(),
                "users": {"root": "key", h.user: "password" + (" or key" if h.traits.user_key else "")},
                "key_path": str(h.key_path),
                "host_key": h.host_key,
                "traits": h.traits.model_dump(exclude={"name"}),  # as started
                "now": h.observed(),  # read from the host: {"python3": 0/1, "ip_forward": n} or null
            }
            for h in current.hosts
        ],
    }
