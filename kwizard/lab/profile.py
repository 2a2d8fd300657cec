"""Lab profiles: which hosts a lab has and the traits that make each one differ (memory, python3, …)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kwizard import yamltext
from kwizard.errors import InputError
from kwizard.spec import is_rfc1123

MAX_HOSTS = 99  # interface names are limited to 15 characters; two digits of host index fit
DEFAULT_USER = "kwuser"

DiskKind = Literal["dir", "loop"]


class _Model(BaseModel):
    # Strict like the preset: a misspelt trait must be an error, not silently ignored.
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class HostTraits(_Model):
    """One lab host and what makes it different from the others."""

    name: str
    memory_mb: Annotated[int, Field(ge=128, le=1 << 20)] = 4096
    cpus: Annotated[int, Field(ge=1, le=256)] = 2
    ip_forward: Literal[0, 1] = 1
    python3: bool = True
    root_password: bool = False  # may root log in with the lab password (else key only)?
    sudo_nopasswd: bool = False  # may the sudo user run sudo without its password?
    user_key: bool = False  # is the lab key already in the sudo user's authorized_keys?
    disk: DiskKind | None = None  # a brick at /data: a private directory or an ext4 loop file
    disk_size_mb: Annotated[int, Field(ge=64, le=1 << 20)] = 512
    glusterd: bool = False  # start glusterd when the host starts (as the package's service would)
    az: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # The name becomes the hostname and part of a namespace name: keep it a plain DNS label.
        if not is_rfc1123(value) or "." in value or len(value) > 32:
            raise ValueError(
                f"{value!r} is not a valid lab host name: use up to 32 lower-case letters, digits "
                "and '-', starting and ending with a letter or digit"
            )
        return value

    def summary(self) -> str:
        """Short human description of the traits, e.g. '1024 MB, 1 CPU, no python3'."""
        parts = [f"{self.memory_mb} MB", f"{self.cpus} CPU" + ("s" if self.cpus > 1 else "")]
        if not self.python3:
            parts.append("no python3")
        if self.ip_forward == 0:
            parts.append("ip_forward 0")
        if self.root_password:
            parts.append("root password login")
        if self.sudo_nopasswd:
            parts.append("sudo NOPASSWD")
        if self.user_key:
            parts.append("user has lab key")
        if self.disk:
            parts.append(f"disk {self.disk}" + (f" {self.disk_size_mb} MB" if self.disk == "loop" else ""))
        if self.glusterd:
            parts.append("glusterd")
        if self.az:
            parts.append(f"az {self.az}")
        return ", ".join(parts)


class LabProfile(_Model):
    """The hosts of a lab and the name of the sudo user every host has."""

    version: Literal[1] = 1
    user: str = DEFAULT_USER
    hosts: list[HostTraits]

    @field_validator("user")
    @classmethod
    def _user(cls, value: str) -> str:
        if not is_rfc1123(value) or "." in value or len(value) > 32 or value == "root":
            raise ValueError(f"{value!r} is not a valid sudo user name (lower-case letters, digits, '-')")
        return value

    @model_validator(mode="after")
    def _hosts(self) -> LabProfile:
        if not self.hosts:
            raise ValueError("a lab needs at least one host")
        if len(self.hosts) > MAX_HOSTS:
            raise ValueError(f"a lab has at most {MAX_HOSTS} hosts, this profile has {len(self.hosts)}")
        twice = [name for name, count in Counter(h.name for h in self.hosts).items() if count > 1]
        if twice:
            raise ValueError(f"host name {twice[0]!r} is used twice")
        return self

    def host(self, name: str) -> HostTraits:
        """The traits of host `name` (KeyError if the profile has no such host)."""
        for host in self.hosts:
            if host.name == name:
                return host
        raise KeyError(name)


# The field guide's traps: a host without python3 (Ansible fails with a confusing error), a 1 GiB
# "t2.micro" and a host with IP forwarding off. lab1, lab2 and lab5 are the Gluster hosts of
# presets/lab.yaml (glusterd needs python3 for its geo-replication check, so lab3 cannot be one).
_DEFAULT_HOSTS: tuple[HostTraits, ...] = (
    HostTraits(name="lab1", disk="dir", glusterd=True, az="a"),
    HostTraits(name="lab2", disk="dir", glusterd=True, az="b"),
    HostTraits(name="lab3", az="c", python3=False),
    HostTraits(name="lab4", memory_mb=1024, cpus=1, az="a"),
    HostTraits(name="lab5", ip_forward=0, disk="dir", glusterd=True, az="b"),
)


def default_profile(hosts: int = len(_DEFAULT_HOSTS)) -> LabProfile:
    """The default lab: lab1..labN, the first five carrying the guide's traps, the rest plain."""
    if not 1 <= hosts <= MAX_HOSTS:
        raise InputError(
            "Invalid number of lab hosts",
            f"{hosts} hosts were asked for",
            f"Choose between 1 and {MAX_HOSTS} hosts.",
        )
    chosen = list(_DEFAULT_HOSTS[:hosts])
    chosen += [HostTraits(name=f"lab{i}") for i in range(len(chosen) + 1, hosts + 1)]
    return LabProfile(hosts=chosen)


def parse_profile(text: str, source: str = "<profile>") -> LabProfile:
    """Parse profile YAML; every failure is an InputError naming the source and the key."""
    data = yamltext.load(text, source, "Lab profile is not valid YAML", "Fix the YAML syntax at that line.")
    if not isinstance(data, dict):
        raise InputError(
            "Lab profile has the wrong shape",
            f"{source}: expected a mapping with a 'hosts' list",
            "Write e.g.\nhosts:\n  - {name: lab1, memory_mb: 2048}",
        )
    try:
        return LabProfile.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            key = ".".join(str(part) for part in err.get("loc", ())) or "(top level)"
            lines.append(f"{source}: {key}: {str(err.get('msg', 'invalid')).removeprefix('Value error, ')}")
        raise InputError(
            "Invalid lab profile",
            "\n".join(lines),
            "Traits: memory_mb, cpus, ip_forward (0/1), python3, root_password, sudo_nopasswd, user_key, "
            "disk (dir/loop), disk_size_mb, glusterd, az.",
        ) from None


def load_profile(path: Path | str) -> LabProfile:
    """Read a profile file."""
    path = Path(path).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(
            "Lab profile cannot be read",
            f"{path}: {exc.strerror or exc}",
            "Check the path given to --profile.",
        ) from None
    return parse_profile(text, str(path))
