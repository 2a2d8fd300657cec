"""Command line: argument parsing and dispatch.

Nothing heavy is imported at module level: `kwizard --version` and `--help` must start fast and must not
pull in textual, fabric or ansible_runner. Each subcommand lives in `kwizard/commands/<name>.py` with
`add_arguments(parser)` (cheap) and `run(args) -> int` (imports what it needs).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from types import ModuleType

from kwizard import __version__
from kwizard.errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, KwizardError
from kwizard.phases import PHASES

# name → one-line help. Order is the order shown by --help.
SUBCOMMANDS: dict[str, str] = {
    "lab": "local test hosts (real sshd in network namespaces): up, status, ssh, reset, down",
    "diagnose": "explain a failed Ansible/Kubespray log: root cause and fix",
    "runs": "list past runs of a cluster and reopen their dashboards or reports",
    "kubeconfig": "fetch the cluster's admin kubeconfig and merge it as a named context",
    "expose": "route a virtual host to a Service through the HA ingress load balancer",
    "remove-node": "remove nodes from a cluster (Kubespray remove-node.yml), then from its preset",
    "reset": "reset a cluster's hosts (Kubespray reset.yml); its folder is kept, marked reset",
    "upgrade": "upgrade Kubernetes (Kubespray upgrade-cluster.yml) one supported step, then pin it",
    "backup": "take an etcd snapshot and fetch it into the cluster's folder (--list: the snapshots)",
    "restore": "put etcd back to a snapshot of kwizard backup, on every etcd member",
    "aws": "the AWS hosts kwizard created for a cluster: destroy them",
    "add-node": "add hosts to a cluster (Kubespray scale.yml, or cluster.yml for control plane/etcd)",
    "clusters": "list the saved clusters: hosts, versions, last run and its status",
}

DESCRIPTION = """\
From a few Linux servers (bare metal or EC2) to a highly available Kubernetes cluster built by
Kubespray. Without arguments, opens the wizard (offering to continue the last cluster)."""

EPILOG = """\
examples:
  kwizard                                   open the wizard
  kwizard lab up && kwizard --preset presets/lab.yaml
  kwizard --preset my.yaml --yes --until inventory
  kwizard --preset presets/aws-3az.yaml --yes --until inventory --skip access,preflight
  kwizard --resume mycluster
  kwizard add-node mycluster 10.0.0.[21:22] --yes
  kwizard remove-node mycluster node4 --yes
  kwizard upgrade mycluster --kube-version 1.35.5 --yes
  kwizard backup mycluster
  kwizard reset mycluster --confirm mycluster
  kwizard aws destroy mycluster --yes
exit codes: 0 ok, 1 a phase failed, 2 bad input, 3 preflight failed, 130 interrupted"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kwizard",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"kwizard {__version__}")
    parser.add_argument("--preset", metavar="FILE", help="prefill every answer from a preset file")
    parser.add_argument(
        "--yes",
        "-y",
        action="store_true",
        help="no UI: run the preset headless with progress bars (for CI); needs --preset or --resume",
    )
    parser.add_argument(
        "--resume",
        nargs="?",
        const="",
        metavar="CLUSTER",
        help="continue a cluster's last run from its failed or interrupted phase (default: last)",
    )
    parser.add_argument(
        "--plain", action="store_true", help="plain prompts instead of the full-screen wizard"
    )
    phase_list = ", ".join(PHASES)
    parser.add_argument("--until", metavar="PHASE", choices=PHASES, help=f"stop after PHASE ({phase_list})")
    parser.add_argument("--only", metavar="PHASE", choices=PHASES, help="run only PHASE")
    parser.add_argument(
        "--skip",
        metavar="PHASE,...",
        default="",
        help="leave these phases out of the run, e.g. access,preflight to write the inventory of created "
        "AWS hosts without connecting to them",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="with --yes: print a machine-readable summary (phases, statuses, findings) on stdout",
    )
    parser.add_argument(
        "--workdir",
        metavar="DIR",
        help="where cluster workspaces live (default: the platform's user data dir; or set KWIZARD_WORKDIR)",
    )
    parser.add_argument(
        "--ignore-preflight",
        metavar="CHECK,...",
        default="",
        help="with --yes: preflight checks whose failure does not stop the run",
    )
    parser.add_argument(
        "--accept-new-host-keys",
        action="store_true",
        help="with --yes: trust host keys seen for the first time (changed keys are still refused)",
    )
    parser.add_argument(
        "--apply-fixes",
        action="store_true",
        help="with --resume --yes: first apply the fixes kwizard knows for the last run's diagnosed "
        "failures (as the dashboard's Apply fix and retry does)",
    )
    parser.add_argument(
        "--kubespray-dir",
        metavar="DIR",
        help="use this Kubespray checkout instead of a pinned clone",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", title="commands")
    for name, help_text in SUBCOMMANDS.items():
        sub_parser = sub.add_parser(name, help=help_text, description=help_text)
        _command_module(name).add_arguments(sub_parser)
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"kwizard.commands.{name.replace('-', '_')}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kwizard` console script; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.workdir:
        from kwizard.paths import use_workdir_option

        use_workdir_option(args.workdir)
    module = _command_module(args.command or "wizard")
    try:
        return int(module.run(args) or 0)
    except KwizardError as error:
        report_error(error)
        return error.exit_code
    except KeyboardInterrupt:
        print("\nInterrupted. Saved answers and the run journal are kept.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # last resort: never a bare traceback to the user
        return report_crash(exc)


def report_error(error: KwizardError) -> None:
    """Print a KwizardError as a panel on stderr (kwizard.headless.errors, loaded only when needed)."""
    from kwizard.headless.errors import report_error as show

    show(error)


def report_crash(exc: BaseException) -> int:
    """An unexpected exception in one panel: a disk problem with its advice, else a bug whose traceback
    is saved to a file the panel names (the same mapping the wizard uses)."""
    from kwizard.service.crash import user_error

    error = user_error(exc)
    report_error(error)
    return EXIT_BAD_INPUT if isinstance(exc, ValueError) else error.exit_code
