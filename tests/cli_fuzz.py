"""Bad input through the real CLI: seeded hostile presets, host lists and `diagnose` targets.

Most cases run in-process through `kwizard.cli.main(argv)` — the function the console script calls —
with stdout/stderr captured, a 10 s alarm per case and every socket call refused and counted (a preset
must be refused, or stop after `discover`, before anything reaches a host). A sample also runs as real
subprocesses (`python -m kwizard`) under a memory limit, with the same socket guard loaded through
`sitecustomize`. Expected outcomes: a refusal is exit 2 with a title/problem/fix panel; a valid preset
runs `--until discover` (IP addresses only, so not even DNS) and exits 0; nothing prints a traceback.

Run the full count and print the figures:  python -m tests.cli_fuzz --cases 10000
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import random
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
CASE_SECONDS = 10  # a case that takes longer is a hang
SUBPROCESS_MEMORY = 1024**3  # address-space limit of each subprocess run: a blow-up fails, not swaps

REFUSE, ACCEPT = "refuse", "accept"


@dataclass(frozen=True)
class Case:
    """One CLI invocation: a category, the input it writes, the argv suffix and the expected outcome."""

    category: str
    expect: str  # REFUSE (exit 2 + panel) or ACCEPT (exit 0)
    preset: bytes | None = None  # written to a file and passed as --preset FILE --yes
    diagnose: str | None = None  # a target kind for `kwizard diagnose` (see `_diagnose_target`)
    payload: bytes = b""


@dataclass
class Figures:
    cases: Counter[str] = field(default_factory=Counter)
    seconds: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    tracebacks: int = 0
    hangs: int = 0
    network_attempts: int = 0
    slowest: float = 0.0
    peak_rss_kb: int = 0

    def merge_outcome(self, case: Case, code: int | None, stderr: str, seconds: float) -> None:
        self.cases[case.category] += 1
        self.seconds[case.category] += seconds
        self.slowest = max(self.slowest, seconds)
        if "Traceback" in stderr or "internal error" in stderr:
            self.tracebacks += 1
        problem = _judge(case, code, stderr, seconds)
        if problem:
            self.failures.append(f"{case.category}: {problem} :: {case.payload[:120]!r}")


def _judge(case: Case, code: int | None, stderr: str, seconds: float) -> str:
    if code is None or seconds > CASE_SECONDS:
        return f"hang ({seconds:.1f} s)"
    if "Traceback" in stderr or "internal error" in stderr:
        return f"traceback, exit {code}: {stderr[-400:]}"
    if case.expect == REFUSE:
        if code != 2:
            return f"exit {code}, expected 2: {stderr[-300:]}"
        if not ("╭" in stderr and "Fix:" in stderr):
            return f"exit 2 without a title/problem/fix panel: {stderr[-300:]}"
    elif code != 0:
        return f"exit {code}, expected 0: {stderr[-300:]}"
    return ""


# --- case generation ------------------------------------------------------------------------------

VALID = """\
version: 1
name: {name}
description: {description}
hosts:
  - {{name: n1, address: 192.0.2.1, roles: [control_plane, etcd]}}
  - {{name: n2, address: "{address}", roles: [worker]}}
"""
SAFE_ADDRESSES = ["192.0.2.2", "::1", "2001:db8::7", "198.51.100.9", "10.0.0.1"]
HOSTILE_HOSTS = [
    "10.0.0.[1:99999]",
    "10.0.0.[1:3]",
    "a b",
    "$(reboot)",
    "`reboot`",
    "node;rm -rf /",
    "-oProxyCommand=reboot",
    "10.0.0.256",
    "::::",
    "1.2.3.4:22",
    "",
    " ",
    "é.example",
    "x" * 10_000,
    "a." * 200 + "com",
]
UNICODE = ["ñandú", "节点", "🚀", "\u202etxt", "a\u200bb", "\x85", "\u2028", "Ωmega", "ﬁle", "\ufeff"]


def _name(rng: random.Random) -> str:
    return f"fz-{rng.randrange(10**6)}"


def _valid(rng: random.Random, description: str = "fuzz") -> str:
    return VALID.format(name=_name(rng), description=_quoted(description), address=rng.choice(SAFE_ADDRESSES))


def _quoted(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _with(rng: random.Random, key_line: str) -> str:
    """The valid preset with one more top-level line (or replacing a setting of the same key)."""
    key = key_line.split(":", 1)[0]
    lines = [line for line in _valid(rng).splitlines() if not line.startswith(f"{key}:")]
    if key == "hosts":
        lines = lines[:3]
    return "\n".join(lines) + "\n" + key_line + "\n"


def gen_malformed(rng: random.Random) -> tuple[str, bytes]:
    text = _valid(rng)
    breakers: list[Callable[[str], str]] = [
        lambda t: t + "bad: [unclosed\n",
        lambda t: t + 'bad: "unclosed\n',
        lambda t: t.replace("hosts:", "hosts: :"),
        lambda t: t.replace("  - {name: n1", "\t- {name: n1"),
        lambda t: t.replace("version: 1", "version: 1: 2"),
        lambda t: "- a\nb: c\n" + t,
        lambda t: t + "? [a\n",
        lambda t: t.replace("}", "", 1),
        lambda t: t + "x: !!python/object:os.system reboot\n",
        lambda t: t + "x: !!binary 'not base64!'\n",
        lambda t: t + "x: 2001-13-45 99:99:99\n",
        lambda t: t + "x: &a\n" * 2,
        lambda t: t + "x: *nowhere\n",
        lambda t: "%YAML 9.9\n---\n" + t,
        lambda t: t + "---\nsecond: doc\n",
        lambda t: t + "@reserved\n",
    ]
    broken = rng.choice(breakers)(text)
    cut = rng.random() < 0.3
    data = broken.encode()
    if cut:  # raw bytes that are not UTF-8
        data = data + bytes(rng.randrange(128, 256) for _ in range(rng.randrange(1, 20)))
    return "malformed-yaml", data


def gen_wrong_types(rng: random.Random) -> tuple[str, bytes]:
    line = rng.choice(
        [
            "hosts: notalist",
            "hosts: {a: 1}",
            "hosts: [1, 2, 3]",
            "hosts: [{name: n1, address: [1, 2]}]",
            "hosts: [{name: n1, address: 10.0.0.1, roles: control_plane}]",
            "hosts: [{name: n1, address: 10.0.0.1, roles: [control_plane, etcd], port: '22'}]",
            "ssh: {port: '22'}",
            "ssh: {accept_new_host_keys: 'yes'}",
            "ssh: []",
            "name: 5",
            "name: [a]",
            "name: null",
            "version: '1'",
            "version: 1.5",
            "version: true",
            "target: 7",
            "loadbalancer: {enabled: 1}",
            "storage: {gluster: {replicas: '3'}}",
            "phases: discover",
            "phases: [5]",
            "kubespray: {extra_vars: [1]}",
            "apps: {grafana: 'no'}",
            "unknown_key: 1",
            "ssh: {password: hunter2}",
            "ssh: {user: !!binary aGk=}",
            "description: !!set {a, b}",
        ]
    )
    return "wrong-types", _with(rng, line).encode()


def gen_huge_numbers(rng: random.Random) -> tuple[str, bytes]:
    digits = rng.choice([20, 400, 4299, 4301, 20_000])
    number = "9" * digits
    line = rng.choice(
        [
            f"version: {number}",
            f"ssh: {{port: {number}}}",
            f"storage: {{gluster: {{replicas: {number}, gid: -{number}}}}}",
            f"loadbalancer: {{http_node_port: {number}}}",
            f"hosts: [{{name: n1, address: 10.0.0.1, roles: [control_plane, etcd], port: {number}}}]",
            "ssh: {port: 1e309}",
            "ssh: {port: .nan}",
            "ssh: {port: -.inf}",
            f"ssh: {{port: 0x{'f' * digits}}}",
            f"ssh: {{port: 0o{'7' * digits}}}",
            "ssh: {port: 1_000_000}",
            "ssh: {port: 190:20:30}",
            f"version: -{number}",
        ]
    )
    return "huge-numbers", _with(rng, line).encode()


def gen_unicode(rng: random.Random) -> tuple[str, bytes, str]:
    text = "".join(rng.choice(UNICODE) for _ in range(rng.randrange(1, 6)))
    where = rng.randrange(4)
    if where == 0:  # free text: accepted and kept
        return "unicode", _valid(rng, description=text).encode(), ACCEPT
    if where == 1:
        return "unicode", _with(rng, f"name: {_quoted(text)}").encode(), REFUSE
    if where == 2:
        line = f"hosts: [{{name: {_quoted(text)}, address: 10.0.0.1, roles: [control_plane, etcd]}}]"
        return "unicode", _with(rng, line).encode(), REFUSE
    # Encodings and characters no YAML stream may hold.
    variants = [
        _valid(rng).encode("utf-16"),
        _valid(rng).encode() + b"\xed\xa0\x80",  # an encoded lone surrogate
        _with(rng, 'description: "\\ud800"').encode(),
        _with(rng, "description: a\x07b").encode(),
        _with(rng, "description: a\x00b").encode(),
    ]
    return "unicode", rng.choice(variants), REFUSE


def gen_duplicate_keys(rng: random.Random) -> tuple[str, bytes]:
    text = _valid(rng)
    variants = [
        text + f"name: {_name(rng)}\n",
        text + "ssh: {user: a, user: b}\n",
        text + "ssh:\n  port: 22\n  port: 23\n",
        text.replace("roles: [worker]}", "roles: [worker], roles: [etcd]}"),
        text + "hosts: []\n",
        text + "kubespray: {extra_vars: {a: 1, b: 2, a: 3}}\n",
    ]
    return "duplicate-keys", rng.choice(variants).encode()


def gen_alias_bomb(rng: random.Random) -> tuple[str, bytes]:
    if rng.random() < 0.3:
        cycles = [
            "loop: &l [*l]",
            "loop: &l {a: *l}",
            "kubespray: &k {extra_vars: {again: *k}}",
            "hosts: &h [{name: n1, address: 10.0.0.1, roles: [control_plane, etcd], az: *h}]",
        ]
        return "alias-cycle", _with(rng, rng.choice(cycles)).encode()
    levels, width = rng.randrange(5, 12), rng.randrange(6, 12)
    lines = ["version: 1", f"name: {_name(rng)}", "a0: &a0 [" + ", ".join(["lol"] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * width) + "]")
    target = rng.choice(["kubespray:\n  extra_vars:\n    bomb: *a{}", "description: *a{}", "bomb: *a{}"])
    return "alias-bomb", ("\n".join(lines) + "\n" + target.format(levels - 1) + "\n").encode()


def gen_deep_nesting(rng: random.Random) -> tuple[str, bytes]:
    depth = rng.choice([101, 150, 999, 1001, 5000, 50_000])
    if rng.random() < 0.5:
        value = "[" * depth + "]" * depth
        return "deep-nesting", _with(rng, f"kubespray: {{extra_vars: {{v: {value}}}}}").encode()
    body = "".join(" " * i + f"k{i}:\n" for i in range(min(depth, 3000)))
    return "deep-nesting", (_valid(rng) + "kubespray:\n extra_vars:\n" + body.replace("\n", "\n  ")).encode()


def gen_long_strings(rng: random.Random) -> tuple[str, bytes]:
    size = rng.choice([10_000, 100_000, 1_000_000])
    long = rng.choice(["a", "é", "x-", "9."]) * (size // 2)
    line = rng.choice(
        [
            f"name: {long}",
            f"hosts: [{{name: {long}, address: 10.0.0.1, roles: [control_plane, etcd]}}]",
            f"hosts: [{{name: n1, address: {long}, roles: [control_plane, etcd]}}]",
            f"kubespray: {{kube_version: {long}}}",
            f"ssh: {{password_env: {long}-}}",
            f"loadbalancer: {{domain: x, virtual_hosts: [{{host: {long}-, service: s}}]}}",
            f"{long}: 1",
            f"storage: {{gluster: {{volume: {long}}}}}",
        ]
    )
    return "long-strings", _with(rng, line).encode()


def gen_host_list(rng: random.Random) -> tuple[str, bytes, str]:
    address = rng.choice(HOSTILE_HOSTS)
    name = rng.choice(["n2", "n2", "x" * 10_000, "$(reboot)", "a b", "N2", "n2."])
    expect = ACCEPT if address == "::1" and name == "n2" else REFUSE  # the one valid combination
    line = f"  - {{name: {_quoted(name)}, address: {_quoted(address)}, roles: [worker]}}"
    text = _valid(rng).splitlines()[:5]
    return "host-list", ("\n".join([*text, line]) + "\n").encode(), expect


def gen_binary_preset(rng: random.Random) -> tuple[str, bytes]:
    return "binary-preset", bytes(rng.randrange(256) for _ in range(rng.randrange(1, 2000)))


def gen_valid(rng: random.Random) -> tuple[str, bytes]:
    return "valid", _valid(rng, description=rng.choice(["", "lab", "x" * 200, "ok: no"])).encode()


DIAGNOSE_TARGETS = ["binary", "empty", "sparse-2g", "dev-zero", "dir-10k", "text"]


def cases(count: int, seed: int = 14) -> Iterator[Case]:
    """`count` cases, the same for the same seed, every category represented."""
    rng = random.Random(seed)
    refusing: list[Callable[[random.Random], tuple[str, bytes]]] = [
        gen_malformed,
        gen_wrong_types,
        gen_huge_numbers,
        gen_duplicate_keys,
        gen_alias_bomb,
        gen_deep_nesting,
        gen_long_strings,
        gen_binary_preset,
    ]
    for index in range(count):
        slot = index % 12
        if slot < len(refusing):
            category, data = refusing[slot](rng)
            yield Case(category, REFUSE, preset=data, payload=data)
        elif slot == 8:
            category, data, expect = gen_unicode(rng)
            yield Case(category, expect, preset=data, payload=data)
        elif slot == 9:
            category, data, expect = gen_host_list(rng)
            yield Case(category, expect, preset=data, payload=data)
        elif slot == 10:
            kind = DIAGNOSE_TARGETS[(index // 12) % len(DIAGNOSE_TARGETS)]
            payload = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 5000)))
            if kind == "binary" and b"\0" not in payload[:8192]:
                payload = b"\0" + payload
            yield Case(
                f"diagnose-{kind}", ACCEPT if kind == "text" else REFUSE, diagnose=kind, payload=payload
            )
        else:
            category, data = gen_valid(rng)
            yield Case(category, ACCEPT, preset=data, payload=data)


# --- running ------------------------------------------------------------------------------------------


class CaseTimeout(BaseException):
    """Raised by the alarm; a BaseException so that the CLI's last-resort handler does not catch it."""


class NetworkGuard:
    """Refuse and count every socket connection and name lookup while active."""

    def __init__(self) -> None:
        self.attempts = 0
        self._saved: list[tuple[Any, str, Any]] = []

    def _refuse(self, *_args: Any, **_kwargs: Any) -> Any:
        self.attempts += 1
        raise OSError("network access refused by the fuzz harness")

    def __enter__(self) -> NetworkGuard:
        for owner, name in (
            (socket.socket, "connect"),
            (socket.socket, "connect_ex"),
            (socket, "getaddrinfo"),
            (socket, "create_connection"),
        ):
            self._saved.append((owner, name, getattr(owner, name)))
            setattr(owner, name, self._refuse)
        return self

    def __exit__(self, *_exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)


class Runner:
    """Writes each case's input under `root` and runs it through the CLI."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.workdir = root / "workdir"
        self.figures = Figures()
        self._targets: dict[str, Path] = {}

    def argv(self, case: Case, index: int) -> list[str]:
        if case.preset is not None:
            path = self.root / f"preset-{index % 64}.yaml"
            path.write_bytes(case.preset)
            return ["--workdir", str(self.workdir), "--preset", str(path), "--yes", "--until", "discover"]
        assert case.diagnose is not None
        return ["diagnose", str(self._diagnose_target(case, index))]

    def _diagnose_target(self, case: Case, index: int) -> Path:
        kind = case.diagnose or ""
        if kind in ("binary", "text"):
            path = self.root / f"log-{index % 64}"
            data = case.payload
            if kind == "text":
                data = data.replace(b"\0", b" ") + b"\nfatal: [n1]: FAILED! => {}\n"
            path.write_bytes(data)
            return path
        if kind not in self._targets:
            self._targets[kind] = self._make_target(kind)
        return self._targets[kind]

    def _make_target(self, kind: str) -> Path:
        if kind == "dev-zero":
            return Path("/dev/zero")
        path = self.root / kind
        if kind == "empty":
            path.write_bytes(b"")
        elif kind == "sparse-2g":
            with path.open("wb") as handle:
                handle.truncate(2 * 1024**3)
        elif kind == "dir-10k":
            path.mkdir()
            for number in range(10_000):
                (path / f"f{number}").write_bytes(b"")
        return path

    def run_in_process(self, case: Case, index: int) -> None:
        from kwizard.cli import main

        argv = self.argv(case, index)
        out, err = io.StringIO(), io.StringIO()
        code: int | None = None
        previous = signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, CASE_SECONDS)
        started = time.monotonic()
        saved_env = os.environ.get("KWIZARD_WORKDIR")
        try:
            with NetworkGuard() as guard, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    code = main(argv)
                except SystemExit as exit_:  # argparse
                    code = int(exit_.code or 0)
        except CaseTimeout:
            self.figures.hangs += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            _restore_env("KWIZARD_WORKDIR", saved_env)
        seconds = time.monotonic() - started
        self.figures.network_attempts += guard.attempts
        if guard.attempts:
            self.figures.failures.append(f"{case.category}: {guard.attempts} network attempt(s)")
        self.figures.merge_outcome(case, code, err.getvalue(), seconds)
        self.figures.peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def run_subprocess(self, case: Case, index: int) -> None:
        argv = self.argv(case, index)
        guard_dir = self.root / "guard"
        guard_dir.mkdir(exist_ok=True)
        (guard_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(self.root),
            "PYTHONPATH": f"{guard_dir}{os.pathsep}{REPO}",
            "COLUMNS": "120",
        }
        started = time.monotonic()
        try:
            done = subprocess.run(
                [sys.executable, "-m", "kwizard", *argv],
                cwd=REPO,
                env=env,
                capture_output=True,
                text=True,
                errors="replace",
                timeout=CASE_SECONDS + 5,  # interpreter start-up is not the case's time
                preexec_fn=_limit_memory,
                check=False,
            )
            code: int | None = done.returncode
            stderr = done.stderr
        except subprocess.TimeoutExpired:
            self.figures.hangs += 1
            code, stderr = None, ""
        seconds = time.monotonic() - started
        if "NETWORK ATTEMPT" in stderr:
            self.figures.network_attempts += stderr.count("NETWORK ATTEMPT")
            self.figures.failures.append(f"{case.category} (subprocess): network attempt")
        self.figures.merge_outcome(case, code, stderr, max(0.0, seconds - 5))
        children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        self.subprocess_peak_rss_kb = max(getattr(self, "subprocess_peak_rss_kb", 0), children)


SITECUSTOMIZE = """\
import socket, sys

def _refuse(*args, **kwargs):
    sys.stderr.write("NETWORK ATTEMPT\\n")
    raise OSError("network access refused by the fuzz harness")

for _owner, _name in ((socket.socket, "connect"), (socket.socket, "connect_ex"),
                      (socket, "getaddrinfo"), (socket, "create_connection")):
    setattr(_owner, _name, _refuse)
"""


def _alarm(_signum: int, _frame: object) -> None:
    raise CaseTimeout


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (SUBPROCESS_MEMORY, SUBPROCESS_MEMORY))


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def run(count: int, subprocesses: int, seed: int = 14) -> tuple[Figures, int]:
    """Run `count` cases in-process and `subprocesses` of them again as real processes."""
    # tmpfs when there is one: every valid case writes a workspace and a journal (fsync'd on disk).
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    with tempfile.TemporaryDirectory(prefix="kwizard-fuzz-", dir=shm) as tmp:
        runner = Runner(Path(tmp))
        # Cases are generated one at a time (10,000 held at once would dwarf kwizard's own memory);
        # an evenly spread sample is kept for the subprocess runs.
        step = max(1, count // max(1, subprocesses))
        sample: list[tuple[int, Case]] = []
        for index, case in enumerate(cases(count, seed)):
            runner.run_in_process(case, index)
            if index % step == 0 and len(sample) < subprocesses:
                sample.append((index, case))
        for index, case in sample:
            runner.run_subprocess(case, index)
        return runner.figures, getattr(runner, "subprocess_peak_rss_kb", 0)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--cases", type=int, default=int(os.environ.get("KWIZARD_FUZZ_CASES", "10000")))
    parser.add_argument("--subprocesses", type=int, default=50)
    parser.add_argument("--seed", type=int, default=14)
    options = parser.parse_args()
    started = time.monotonic()
    figures, child_peak = run(options.cases, options.subprocesses, options.seed)
    total = sum(figures.cases.values())
    print(f"cases: {total} ({options.cases} in-process + {options.subprocesses} subprocesses)")
    for category, number in sorted(figures.cases.items()):
        print(f"  {category:24} {number:6}  {figures.seconds[category]:7.1f} s")
    print(f"tracebacks: {figures.tracebacks}  hangs (> {CASE_SECONDS} s): {figures.hangs}")
    print(f"network attempts: {figures.network_attempts}  slowest case: {figures.slowest:.2f} s")
    print(f"peak RSS: in-process {figures.peak_rss_kb / 1024:.0f} MB, subprocess {child_peak / 1024:.0f} MB")
    print(f"failures: {len(figures.failures)}  wall time: {time.monotonic() - started:.0f} s")
    for failure in figures.failures[:30]:
        print("  " + failure[:400])
    return 1 if figures.failures or figures.tracebacks or figures.hangs else 0


if __name__ == "__main__":
    sys.exit(main())
