"""Integration tests run against the lab: real sshd hosts in network namespaces on this machine.

They need root on Linux; elsewhere every test in this folder is skipped with that reason. The lab's name
and subnet come from KWIZARD_TEST_LAB / KWIZARD_TEST_SUBNET so parallel runs do not collide; a second
range (KWIZARD_TEST_LAB2 / KWIZARD_TEST_SUBNET2) is used by `lab_factory` for labs with other traits.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kwizard import lab as kwlab
from tests.etcd_lab import etcdctl, install_systemctl, start_etcd, stop_etcd
from tests.kubespray_standin import ROLES, make_stand_in

LAB_NAME = os.environ.get("KWIZARD_TEST_LAB", "kwtest")
LAB_SUBNET = os.environ.get("KWIZARD_TEST_SUBNET", "10.78.0.0/24")
FACTORY_NAME = os.environ.get("KWIZARD_TEST_LAB2", LAB_NAME[:7] + "f")
FACTORY_SUBNET = os.environ.get("KWIZARD_TEST_SUBNET2", "10.79.0.0/24")

HERE = Path(__file__).parent


def lab_unavailable() -> str | None:
    """Why the lab cannot run here, or None."""
    if not sys.platform.startswith("linux"):
        return "the lab needs Linux (network namespaces)"
    if os.geteuid() != 0:
        return "the lab needs root (run the tests with sudo)"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Everything in this folder is an integration test; skip it all, clearly, where the lab cannot run.
    reason = lab_unavailable()
    for item in items:
        if HERE in item.path.parents:
            item.add_marker(pytest.mark.integration)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The data root the test labs keep their folders (keys, host layers) in."""
    return tmp_path_factory.mktemp("labroot")


@pytest.fixture(scope="session")
def lab(lab_root: Path) -> Iterator[kwlab.Lab]:
    """The default lab (lab1..lab5 with the guide's traps), up for the whole session, always torn down."""
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)
    try:
        yield kwlab.up(name=LAB_NAME, subnet=LAB_SUBNET, root=lab_root)
    finally:
        kwlab.down(LAB_NAME, root=lab_root)


@pytest.fixture
def clean_lab(lab: kwlab.Lab) -> kwlab.Lab:
    """The session lab with every host restarted from pristine disks (same addresses and keys).

    Use it when a test needs hosts nobody has changed yet (other tests install keys, flip sysctls…).
    """
    return lab.reset()


LabFactory = Callable[..., kwlab.Lab]


@pytest.fixture
def lab_factory(lab_root: Path) -> Iterator[LabFactory]:
    """Bring up a lab with a custom profile (one at a time, in the second range), torn down after the test.

    Call it with a LabProfile, or with host traits: `lab_factory(kwlab.HostTraits(name="s1", disk="loop"))`.
    """
    reason = lab_unavailable()
    if reason:
        pytest.skip(reason)

    def make(
        *hosts: kwlab.HostTraits, profile: kwlab.LabProfile | None = None, **kwargs: object
    ) -> kwlab.Lab:
        chosen = profile or (kwlab.LabProfile(hosts=list(hosts)) if hosts else kwlab.default_profile())
        return kwlab.up(chosen, name=FACTORY_NAME, subnet=FACTORY_SUBNET, root=lab_root, **kwargs)  # type: ignore[arg-type]

    try:
        yield make
    finally:
        kwlab.down(FACTORY_NAME, root=lab_root)


@pytest.fixture(scope="session")
def stand_in(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Kubespray-shaped checkout of the day-2 tests, whose playbooks record how they were run
    (tests/kubespray_standin.py). Shared by the session; `saved_cluster` clears its records."""
    return make_stand_in(tmp_path_factory.mktemp("kubespray-stand-in"))


@pytest.fixture(scope="session")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The kwizard data root of the day-2 tests: the stand-in's venv is built in it once per session."""
    return tmp_path_factory.mktemp("kwizard-day2")


@pytest.fixture
def etcd(lab: kwlab.Lab) -> Iterator[kwlab.LabHost]:
    """A real etcd (Debian's etcd-server, TLS at Kubespray's paths) on lab1, the only etcd member of the
    day-2 tests' cluster (tests.kubespray_standin.ROLES), holding one key; stopped afterwards."""
    host = lab.host("lab1")
    for name in ROLES:  # the restore restarts every node's kubelet
        install_systemctl(lab.host(name))
    start_etcd(host)
    etcdctl(host, "put", "/registry/kwizard/state", "before-backup")
    try:
        yield host
    finally:
        stop_etcd(host)
