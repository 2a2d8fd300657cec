"""Children get only the environment they need: never the variable holding the SSH or sudo password."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kwizard.childenv import child_environment
from kwizard.inventory import ansible_check

SECRET = "s3cret-pass-word"


def test_only_allowed_and_given_variables_pass() -> None:
    base = {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_COLLECTIONS_PATH": "/c",
        "ANSIBLE_BECOME_PASS": SECRET,
        "KWIZARD_LAB_PASSWORD": SECRET,
        "MY_PW": SECRET,  # named like nothing secret: the preset names it, or its value gives it away
        "AWS_SECRET_ACCESS_KEY": "aws",
        "PYTHONPATH": "/kwizard",
        "VIRTUAL_ENV": "/venv",
        "ANSIBLE_PRIVATE_KEY_FILE": "/k/id_ed25519",
        "https_proxy": "http://proxy:3128",
    }
    env = child_environment({"ANSIBLE_NOCOLOR": "1"}, named=["MY_PW"], base=base)
    assert env == {
        "PATH": "/usr/bin",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "ANSIBLE_COLLECTIONS_PATH": "/c",
        "ANSIBLE_PRIVATE_KEY_FILE": "/k/id_ed25519",
        "https_proxy": "http://proxy:3128",
        "ANSIBLE_NOCOLOR": "1",
    }
    by_value = child_environment(base={"PATH": "/bin", "ANSIBLE_X": f"--pw={SECRET}"}, secrets=[SECRET, ""])
    assert by_value == {"PATH": "/bin"}


def test_the_inventory_check_does_not_hand_ansible_inventory_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A stand-in ansible-inventory that records the environment it was given (issue 20 item 7).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    seen = tmp_path / "environ.json"
    fake = bin_dir / "ansible-inventory"
    fake.write_text(
        "#!/usr/bin/env python3\nimport json, os\n"
        f"json.dump(dict(os.environ), open({str(seen)!r}, 'w'))\n"
        'print(json.dumps({"_meta": {"hostvars": {}}, "all": {"children": []}}))\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("KWIZARD_LAB_PASSWORD", SECRET)
    monkeypatch.setenv("SOME_OTHER_VARIABLE", "not needed by ansible")
    hosts = tmp_path / "hosts.yaml"
    hosts.write_text("all: {}\n")
    ansible_check.parse(hosts, bin_dir=bin_dir)
    environ = json.loads(seen.read_text())
    assert SECRET not in json.dumps(environ)
    assert "KWIZARD_LAB_PASSWORD" not in environ and "SOME_OTHER_VARIABLE" not in environ
    assert environ["ANSIBLE_INVENTORY_UNPARSED_FAILED"] == "True" and environ["PATH"]
