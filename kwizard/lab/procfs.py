"""Fake /proc/meminfo and /proc/cpuinfo, so each lab host reports its own memory size and CPU count."""

from __future__ import annotations

import re
from pathlib import Path


def meminfo(memory_mb: int) -> str:
    """A plausible /proc/meminfo of a freshly booted machine with `memory_mb` MB and no swap."""
    total = memory_mb * 1024  # kB, as MemTotal is shown
    fields = [
        ("MemTotal", total),
        ("MemFree", total * 80 // 100),
        ("MemAvailable", total * 88 // 100),
        ("Buffers", total * 2 // 100),
        ("Cached", total * 6 // 100),
        ("SwapCached", 0),
        ("Active", total * 6 // 100),
        ("Inactive", total * 4 // 100),
        ("SwapTotal", 0),
        ("SwapFree", 0),
        ("Dirty", 0),
        ("Writeback", 0),
        ("AnonPages", total * 5 // 100),
        ("Mapped", total * 2 // 100),
        ("Shmem", total // 100),
        ("KReclaimable", total // 100),
        ("Slab", total * 2 // 100),
        ("SReclaimable", total // 100),
        ("SUnreclaim", total // 100),
        ("CommitLimit", total // 2),
        ("Committed_AS", total * 10 // 100),
        ("VmallocTotal", 34359738367),
        ("HugePages_Total", 0),
        ("HugePages_Free", 0),
        ("Hugepagesize", 2048),
    ]
    lines = []
    for key, value in fields:
        unit = "" if key.startswith("HugePages_") else " kB"
        lines.append(f"{key + ':':<16}{value:>8}{unit}")
    return "\n".join(lines) + "\n"


_PROCESSOR = re.compile(r"^(processor|core id|apicid|initial apicid)(\s*:\s*)\d+$", re.MULTILINE)
_COUNTS = re.compile(r"^(siblings|cpu cores)(\s*:\s*)\d+$", re.MULTILINE)


def cpuinfo(cpus: int, real_cpuinfo: str) -> str:
    """This machine's first CPU entry repeated `cpus` times, numbered 0..cpus-1 (one socket)."""
    first = real_cpuinfo.strip().split("\n\n")[0] if real_cpuinfo.strip() else "processor\t: 0"
    first = _COUNTS.sub(rf"\g<1>\g<2>{cpus}", first)
    blocks = [_PROCESSOR.sub(rf"\g<1>\g<2>{i}", first) for i in range(cpus)]
    return "\n\n".join(blocks) + "\n\n"


def real_cpuinfo() -> str:
    """This machine's /proc/cpuinfo ('' if unreadable)."""
    try:
        return Path("/proc/cpuinfo").read_text()
    except OSError:
        return ""
