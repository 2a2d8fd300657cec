"""The default command: open the wizard (TUI or plain), or run a preset headless with --yes."""

from __future__ import annotations

import argparse
import sys

from kwizard.errors import EnvironmentProblem, InputError
from kwizard.options import RunOptions
from kwizard.paths import workspace
from kwizard.spec import ClusterSpec


def add_arguments(parser: argparse.ArgumentParser) -> None:  # the top-level parser holds them
    pass


def run(args: argparse.Namespace) -> int:
    options = RunOptions.from_args(args)
    # Headless, the preset must be complete; the wizard also opens a draft without hosts yet.
    spec = _load_preset(args.preset, options, complete=bool(args.yes)) if args.preset else None
    if options.apply_fixes and (args.resume is None or not args.yes):
        raise InputError(
            "--apply-fixes needs --resume and --yes",
            "Fixes are applied to a stopped run before it is resumed headless.",
            f"Run: kwizard --resume CLUSTER --yes --apply-fixes{_workdir()}  (in the wizard, use the Deploy "
            "step's Apply fix and retry).",
        )

    if args.resume is not None:
        from kwizard.commands._cluster import open_cluster

        _, ws = open_cluster(args.resume or (spec.name if spec else None))
        cluster = ws.cluster
        if args.yes:
            from kwizard.headless import resume_headless

            return resume_headless(ws.create(), options)
        return _interactive(args, spec=None, resume=cluster, options=options)

    if args.yes:
        if spec is None:
            raise InputError(
                "--yes needs a preset",
                "Headless mode runs a saved preset; none was given.",
                "Pass --preset FILE (save one from the wizard, or start from presets/*.yaml).",
            )
        from kwizard import preset as presets
        from kwizard.engine.journal import cluster_lock
        from kwizard.headless import run_headless

        if spec.provision is not None and "provision" in options.selected_phases(spec):
            from kwizard.commands.aws import print_provision_plan

            print_provision_plan(spec, to_stderr=options.json)
        ws = workspace(spec.name).create()
        # The lock first: a kwizard refused because another one runs this cluster must change nothing.
        with cluster_lock(ws):
            presets.save(spec, ws.preset_file)
            return run_headless(spec, ws, options, holds_lock=True)

    return _interactive(args, spec=spec, resume=None, options=options)


def _workdir() -> str:
    """ " --workdir DIR" for a command printed for later, when this run was given another --workdir."""
    from kwizard.paths import default_root, workdir_option

    return workdir_option(default_root())


def _headless_command(args: argparse.Namespace, resume: str | None) -> str:
    """The command line that does headless what this invocation asked of the wizard."""
    import shlex

    if resume:
        return f"kwizard --resume {shlex.quote(resume)} --yes"
    preset = getattr(args, "preset", None)
    return f"kwizard --preset {shlex.quote(preset) if preset else 'FILE'} --yes"


def _load_preset(path: str, options: RunOptions, *, complete: bool) -> ClusterSpec:
    """The preset, refused with every problem the checks that need no host find (before any host is
    contacted)."""
    from kwizard import preset as presets
    from kwizard.inventory.checks import preset_checks

    return presets.load(path, check=preset_checks(options, require_hosts=complete))


def _interactive(
    args: argparse.Namespace, spec: ClusterSpec | None, resume: str | None, options: RunOptions
) -> int:
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise EnvironmentProblem(
            "No terminal",
            "The wizard needs an interactive terminal, and stdin/stdout are not one.",
            f"Run headless instead: {_headless_command(args, resume)}{_workdir()}  (or use a real terminal).",
        )
    if args.plain:
        from kwizard.ui.plain import run_plain

        return run_plain(spec, options)
    from kwizard.ui.app import run_app

    return run_app(spec=spec, resume=resume, options=options)
