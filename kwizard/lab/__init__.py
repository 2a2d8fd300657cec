"""The local lab: real SSH test hosts on one Linux machine (network namespaces, own sshd each).

lab = kwizard.lab.up()                  # default profile: lab1..lab5 with the guide's traps
lab.host("lab3").exec("command -v python3").returncode   # 1: really absent
kwizard.lab.down(lab.name)
"""

from __future__ import annotations

from kwizard.lab.layout import DEFAULT_NAME, DEFAULT_SUBNET
from kwizard.lab.lifecycle import down, load, reset, up
from kwizard.lab.model import Lab, LabHost
from kwizard.lab.profile import HostTraits, LabProfile, default_profile, load_profile, parse_profile

__all__ = [
    "DEFAULT_NAME",
    "DEFAULT_SUBNET",
    "HostTraits",
    "Lab",
    "LabHost",
    "LabProfile",
    "default_profile",
    "down",
    "load",
    "load_profile",
    "parse_profile",
    "reset",
    "up",
]
