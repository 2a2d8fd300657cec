"""Lab profiles, names and addresses: validation and the default profile."""

from __future__ import annotations

from pathlib import Path

import pytest

from kwizard.errors import InputError
from kwizard.lab import default_profile, load_profile, parse_profile
from kwizard.lab.layout import LabLayout, check_lab_name, check_subnet


def test_default_profile_carries_the_guides_traps() -> None:
    profile = default_profile()
    assert [h.name for h in profile.hosts] == ["lab1", "lab2", "lab3", "lab4", "lab5"]
    assert not profile.host("lab3").python3
    assert profile.host("lab4").memory_mb == 1024
    assert profile.host("lab5").ip_forward == 0
    assert [h.name for h in profile.hosts if h.glusterd and h.disk] == ["lab1", "lab2", "lab5"]
    assert profile.user == "kwuser"


def test_default_profile_grows_with_plain_hosts_and_shrinks() -> None:
    assert [h.name for h in default_profile(2).hosts] == ["lab1", "lab2"]
    twelve = default_profile(12)
    assert len(twelve.hosts) == 12
    assert twelve.host("lab12").python3 and twelve.host("lab12").memory_mb == 4096
    with pytest.raises(InputError):
        default_profile(0)


def test_profile_yaml_with_traits() -> None:
    profile = parse_profile(
        "user: ops\nhosts:\n  - {name: s1, disk: loop, disk_size_mb: 256, glusterd: true}\n"
        "  - {name: s2, sudo_nopasswd: true, user_key: true, root_password: true, az: eu-1a}\n"
    )
    assert profile.user == "ops"
    assert profile.host("s1").disk == "loop"
    assert "sudo NOPASSWD" in profile.host("s2").summary()


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("hosts: [{name: a, memory: 5}]", "hosts.0.memory"),
        ("hosts: [{name: a}, {name: a}]", "used twice"),
        ("hosts: []", "at least one host"),
        ("hosts: [{name: A_1}]", "not a valid lab host name"),
        ("hosts: [{name: a, ip_forward: 2}]", "hosts.0.ip_forward"),
        ("hosts: [{name: a, python3: 'no'}]", "hosts.0.python3"),
        ("hosts: [{name: a, disk: block}]", "hosts.0.disk"),
        ("- just a list", "wrong shape"),
        ("hosts: [\n", "not valid YAML"),
    ],
)
def test_bad_profiles_are_clear_input_errors(text: str, fragment: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_profile(text, "p.yaml")
    assert fragment in caught.value.render_text()


def test_missing_profile_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot be read"):
        load_profile(tmp_path / "nope.yaml")


@pytest.mark.parametrize("name", ["", "Lab", "1lab", "toolongname", "a-b"])
def test_lab_names_fit_interface_names(name: str) -> None:
    with pytest.raises(InputError):
        check_lab_name(name)


@pytest.mark.parametrize(
    "subnet", ["10.77.0.0/33", "8.8.8.0/24", "10.77.0.1/24", "fd00::/64", "10.0.0.0/29", "x"]
)
def test_bad_subnets(subnet: str) -> None:
    with pytest.raises(InputError):
        check_subnet(subnet, 5)


def test_layout_names_and_addresses(tmp_path: Path) -> None:
    layout = LabLayout(name="kwlab", subnet="10.77.0.0/24", root=tmp_path)
    assert layout.gateway == "10.77.0.1"
    assert [layout.address(i) for i in (1, 5)] == ["10.77.0.11", "10.77.0.15"]
    assert layout.bridge == "kwb-kwlab"
    longest = LabLayout(name="abcdefgh", subnet="10.77.0.0/24", root=tmp_path)
    assert len(longest.veth(99)) <= 15 and len(longest.bridge) <= 15
    assert layout.state_dir == tmp_path / "lab" / "kwlab"
    assert layout.lock_file.parent != layout.state_dir  # down deletes the folder, not the lock


def test_lab_preset_matches_the_default_lab(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """presets/lab.yaml must reach the hosts `kwizard lab up` makes: addresses, key, storage hosts."""
    from kwizard import preset
    from kwizard.lab.lifecycle import layout_for

    monkeypatch.delenv("KWIZARD_WORKDIR", raising=False)
    monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    spec = preset.load(Path(__file__).resolve().parents[2] / "presets" / "lab.yaml")
    layout = layout_for()
    profile = default_profile()
    assert Path(spec.ssh.key).expanduser() == layout.key_path
    assert [(h.name, h.address) for h in spec.hosts] == [
        (h.name, layout.address(i)) for i, h in enumerate(profile.hosts, start=1)
    ]
    storage = [h.name for h in spec.hosts if h.has("storage")]
    assert storage == [h.name for h in profile.hosts if h.glusterd and h.disk]
    assert spec.storage.gluster is not None and spec.storage.gluster.brick_dir.startswith("/data/")
