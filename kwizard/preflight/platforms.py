"""Operating systems the pinned Kubespray (v2.31) supports, by /etc/os-release ID and VERSION_ID.

Kubespray's assert ("<distro> is not a known OS") only checks the distribution; the versions come from
its README. So: an unknown distribution fails, a known one at an unlisted version warns.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Platform:
    name: str
    versions: tuple[str, ...]  # major versions or exact VERSION_IDs; empty = any (rolling releases)
    experimental: bool = False

    def supports(self, version_id: str) -> bool:
        if not self.versions:
            return True
        major = version_id.split(".")[0]
        return version_id in self.versions or major in self.versions

    def describe(self) -> str:
        versions = ", ".join(self.versions) if self.versions else "any version"
        return f"{self.name} {versions}" + (" (experimental)" if self.experimental else "")


_FEDORA = tuple(str(v) for v in range(39, 43))

PLATFORMS: dict[str, Platform] = {
    "ubuntu": Platform("Ubuntu", ("22.04", "24.04")),
    "debian": Platform("Debian", ("11", "12", "13")),
    "rhel": Platform("RHEL", ("9", "10")),
    "centos": Platform("CentOS Stream", ("9", "10")),
    "rocky": Platform("Rocky Linux", ("9", "10")),
    "almalinux": Platform("AlmaLinux", ("9", "10")),
    "ol": Platform("Oracle Linux", ("9", "10")),
    "fedora": Platform("Fedora", _FEDORA),
    "opensuse-leap": Platform("openSUSE Leap", ("15",)),
    "opensuse-tumbleweed": Platform("openSUSE Tumbleweed", ()),
    "sles": Platform("SUSE Linux Enterprise", ("15",)),
    "flatcar": Platform("Flatcar Container Linux", ()),
    "amzn": Platform("Amazon Linux", ("2",), experimental=True),
    "kylin": Platform("Kylin", ("V10",), experimental=True),
    "uos": Platform("UOS", (), experimental=True),
    "openeuler": Platform("openEuler", (), experimental=True),
}

SUPPORTED_SUMMARY = (
    "Ubuntu 22.04/24.04, Debian 11-13, RHEL/Rocky/Alma/Oracle 9-10, CentOS Stream 9-10, "
    "Fedora 39-42, openSUSE, Flatcar (Kubespray v2.31)"
)


def platform_for(os_id: str) -> Platform | None:
    return PLATFORMS.get(os_id.lower())
