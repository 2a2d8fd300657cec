"""The Kubespray workspace for real: git clone of a tag from a local stand-in upstream, a real venv from its
requirements.txt (a small wheel, so nothing is downloaded), reuse, and rebuild when requirements change."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest

from kwizard.errors import InputError, KwizardError
from kwizard.kubespray import checkout as checkouts
from kwizard.kubespray import command_line, prepare, run_phase
from kwizard.kubespray.process import run_streaming
from kwizard.kubespray.venv import MARKER
from kwizard.options import RunOptions
from kwizard.paths import Workspace, workspace
from kwizard.protocol.phase import Event, PhaseContext
from kwizard.spec import ClusterSpec, Host, KubesprayOptions

pytestmark = pytest.mark.slow
TAG = "v9.9.0"


def _git(repo: Path, *args: str) -> str:
    completed = subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.invalid", *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return completed.stdout.strip()


def _wheel(directory: Path, version: str) -> Path:
    """A real, minimal wheel of a package `kwtiny` whose module knows its version."""
    name = f"kwtiny-{version}-py3-none-any.whl"
    files = {
        "kwtiny/__init__.py": f"VERSION = {version!r}\n",
        f"kwtiny-{version}.dist-info/METADATA": f"Metadata-Version: 2.1\nName: kwtiny\nVersion: {version}\n",
        f"kwtiny-{version}.dist-info/WHEEL": (
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        ),
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"kwtiny-{version}.dist-info/RECORD,,")
    files[f"kwtiny-{version}.dist-info/RECORD"] = "\n".join(record) + "\n"
    directory.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(directory / name, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return directory / name


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository standing in for Kubespray's: cluster.yml, ansible.cfg, requirements.txt, a tag,
    and a later commit on the branch so that a checkout of the tag can be told apart from HEAD."""
    repo = tmp_path_factory.mktemp("upstream") / "kubespray"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "master")
    (repo / "cluster.yml").write_text("- hosts: all\n  gather_facts: false\n  tasks: []\n")
    (repo / "ansible.cfg").write_text("[defaults]\nhost_key_checking=False\n")
    _wheel(repo / "wheels", "1.0")
    (repo / "requirements.txt").write_text("./wheels/kwtiny-1.0-py3-none-any.whl\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "release")
    _git(repo, "tag", "-a", TAG, "-m", TAG)
    (repo / "NEWS").write_text("after the release\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "later")
    return repo


def _spec(upstream: Path, **kubespray: object) -> ClusterSpec:
    options = KubesprayOptions(version=TAG, repo_url=f"file://{upstream}", **kubespray)  # type: ignore[arg-type]
    return ClusterSpec(
        name="ws",
        hosts=[Host(name="n1", address="192.0.2.1", roles=["control_plane", "etcd"])],
        kubespray=options,
    )


def _context(
    spec: ClusterSpec, ws: Workspace, events: list[Event], options: RunOptions | None = None
) -> PhaseContext:
    return PhaseContext(spec=spec, ws=ws, options=options or RunOptions(), emit=events.append)


def _venv_python(ws_path: Path) -> Path:
    return ws_path / "bin" / "python"


def _kwtiny_version(python: Path) -> str:
    return subprocess.run(
        [str(python), "-c", "import kwtiny; print(kwtiny.VERSION)"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.strip()


@pytest.fixture(scope="module")
def pinned_ws(tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    """One workspace for the pinned-clone tests, so its venv is built once (each build costs seconds)."""
    return workspace("ws", tmp_path_factory.mktemp("pinned")).create()


def test_clone_and_venv_then_reuse(upstream: Path, pinned_ws: Workspace) -> None:
    ws = pinned_ws
    events: list[Event] = []
    ctx = _context(_spec(upstream), ws, events)

    first = prepare(ctx)

    checkout = first.checkout
    assert checkout.path == ws.kubespray_cache / TAG
    assert not checkout.user_supplied
    assert _git(checkout.path, "rev-parse", "HEAD") == _git(upstream, "rev-parse", f"{TAG}^{{commit}}")
    assert _git(checkout.path, "rev-parse", "--is-shallow-repository") == "true"
    assert not (checkout.path / "NEWS").exists()  # the tag, not the branch head
    assert not list(ws.kubespray_cache.glob(".*partial*"))
    assert first.venv.path == ws.kubespray_cache / "venvs" / TAG
    assert not first.venv.reused
    assert _kwtiny_version(_venv_python(first.venv.path)) == "1.0"
    assert (first.venv.path / MARKER).is_file()
    progress = [e.data["text"] for e in events if e.kind == "log"]
    assert any(line.startswith(f"cloning Kubespray {TAG}") for line in progress)
    assert any("Successfully installed kwtiny-1.0" in line for line in progress)  # pip's own output

    python_inode = _venv_python(first.venv.path).stat().st_ino
    events.clear()
    second = prepare(ctx)
    assert second.venv.reused
    assert second.checkout.path == checkout.path
    assert _venv_python(second.venv.path).stat().st_ino == python_inode
    assert [e.data["text"] for e in events] == [f"reusing the Kubespray environment {second.venv.path}"]


def test_users_checkout_venv_is_rebuilt_when_requirements_change(upstream: Path, tmp_path: Path) -> None:
    mine = tmp_path / "my kubespray"  # a space in the path on purpose
    subprocess.run(["git", "clone", "-q", str(upstream), str(mine)], check=True, timeout=60)
    ws = workspace("ws", tmp_path / "work").create()
    events: list[Event] = []
    ctx = _context(_spec(upstream), ws, events, RunOptions(kubespray_dir=str(mine)))

    first = prepare(ctx)
    assert first.checkout.user_supplied and first.checkout.path == mine
    assert not (ws.kubespray_cache / TAG).exists()  # nothing cloned
    assert _kwtiny_version(_venv_python(first.venv.path)) == "1.0"
    assert prepare(ctx).venv.reused

    _wheel(mine / "wheels", "2.0")
    (mine / "requirements.txt").write_text("./wheels/kwtiny-2.0-py3-none-any.whl\n")
    rebuilt = prepare(ctx)
    assert not rebuilt.venv.reused
    assert rebuilt.venv.path == first.venv.path
    assert _kwtiny_version(_venv_python(rebuilt.venv.path)) == "2.0"

    # A venv without its marker (an install killed half way) is rebuilt, not trusted.
    (rebuilt.venv.path / MARKER).unlink()
    assert not prepare(ctx).venv.reused


def test_broken_cached_clone_is_cloned_again(upstream: Path, tmp_path: Path) -> None:
    ws = workspace("ws", tmp_path).create()
    events: list[Event] = []
    ctx = _context(_spec(upstream), ws, events)
    checkout = checkouts.ensure(ctx.spec, ws, ctx.options, lambda line: None)
    (checkout.path / "cluster.yml").unlink()
    again = checkouts.ensure(
        ctx.spec, ws, ctx.options, lambda line: events.append(Event("log", "t", data={"text": line}))
    )
    assert (again.path / "cluster.yml").is_file()
    assert any("is not usable (cluster.yml missing)" in e.data["text"] for e in events)


def test_missing_tag_is_an_input_error(upstream: Path, tmp_path: Path) -> None:
    ws = workspace("ws", tmp_path).create()
    spec = _spec(upstream).model_copy(
        update={"kubespray": KubesprayOptions(version="v0.0.1", repo_url=f"file://{upstream}")}
    )
    with pytest.raises(InputError) as raised:
        checkouts.ensure(spec, ws, None, lambda line: None)
    assert raised.value.title == "Kubespray version not found"
    assert not (ws.kubespray_cache / "v0.0.1").exists()
    assert not list(ws.kubespray_cache.glob(".*partial*"))


def test_repository_that_is_not_kubespray_is_refused(tmp_path: Path) -> None:
    repo = tmp_path / "other"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "README").write_text("not kubespray\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "x")
    _git(repo, "tag", TAG)
    ws = workspace("ws", tmp_path / "work").create()
    with pytest.raises(KwizardError) as raised:
        checkouts.ensure(_spec(repo), ws, None, lambda line: None)
    assert "cluster.yml, ansible.cfg, requirements.txt missing" in raised.value.problem


def test_unreachable_upstream_says_what_to_do(tmp_path: Path) -> None:
    ws = workspace("ws", tmp_path).create()
    with pytest.raises(KwizardError) as raised:
        checkouts.ensure(_spec(tmp_path / "nowhere"), ws, None, lambda line: None)
    assert raised.value.title == "Could not clone Kubespray"
    assert "--kubespray-dir" in raised.value.fix


def test_user_dir_that_is_not_kubespray(tmp_path: Path) -> None:
    (tmp_path / "cluster.yml").write_text("[]\n")
    with pytest.raises(InputError) as raised:
        checkouts.use_existing(tmp_path)
    assert "has no ansible.cfg, requirements.txt" in raised.value.problem
    with pytest.raises(InputError):
        checkouts.use_existing(tmp_path / "absent")


def test_kubespray_phase_refuses_a_venv_without_ansible(upstream: Path, pinned_ws: Workspace) -> None:
    """The stand-in's requirements do not install ansible: the phase stops before running anything."""
    with pytest.raises(KwizardError) as raised:
        run_phase(_context(_spec(upstream), pinned_ws, []))
    assert raised.value.title == "Kubespray's environment has no ansible-playbook"


def test_equivalent_command_line(tmp_path: Path) -> None:
    spec = ClusterSpec(
        name="c1", hosts=[Host(name="n1", address="192.0.2.1", roles=["control_plane", "etcd"])]
    )
    ws = workspace("c1", tmp_path / "my work")
    line = command_line(spec, ws)
    ks = ws.kubespray_cache / "v2.31.0"
    key = Path("~/.ssh/id_ed25519").expanduser()
    assert line == (
        f"cd '{ks}' && ANSIBLE_CONFIG='{ks}/ansible.cfg' "
        f"'{ws.kubespray_cache}/venvs/v2.31.0/bin/ansible-playbook' "
        f"-i '{ws.inventory_dir}/hosts.yaml' cluster.yml -b --private-key {key}"
    )
    sudo = spec.model_copy(update={"ssh": spec.ssh.model_copy(update={"become_password_env": "BECOME"})})
    assert command_line(sudo, ws).endswith(" --ask-become-pass")
    mine = command_line(spec, ws, RunOptions(kubespray_dir="/opt/kubespray"))
    assert mine.startswith("cd /opt/kubespray && ANSIBLE_CONFIG=/opt/kubespray/ansible.cfg ")


def test_streaming_stops_on_cancel(tmp_path: Path) -> None:
    cancel = threading.Event()
    lines: list[str] = []

    def on_line(line: str) -> None:
        lines.append(line)
        cancel.set()

    outcome = run_streaming(
        ["sh", "-c", "echo started; sleep 30; echo never"], on_line=on_line, timeout=60, cancel=cancel
    )
    assert outcome.cancelled and lines == ["started"]
    timed = run_streaming(["sh", "-c", "printf 'a\\rb\\n'; sleep 30"], on_line=lambda line: None, timeout=0.5)
    assert timed.timed_out and timed.tail == "a\nb"
