"""SSH access on the lab: password-once key installation, bastion, host-key trust, bad hosts.

Everything is checked on the hosts themselves (LabHost.exec reads their files) and with the real
OpenSSH client using the workspace's known_hosts, the way Ansible will connect later. Tests that change
a host (sshd config, host key, sudo rights) use `lab_factory`, a lab of their own torn down afterwards;
tests on the shared `lab` put every file they touch back.
"""

from __future__ import annotations

import re
import shlex
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kwizard import access, ssh
from kwizard import lab as kwlab
from kwizard.hostkeys import KnownHosts, fingerprint, key_from_line, scan_host_key
from kwizard.options import RunOptions
from kwizard.paths import Workspace
from kwizard.protocol.phase import Event, HostKeyPrompt, PhaseContext
from kwizard.roles import default_roles
from kwizard.service.runs import phase_context
from kwizard.spec import Bastion, ClusterSpec, Host, SSHSettings
from kwizard.ssh import connect, forget_declined_host_keys, run
from kwizard.ssh_errors import HostKeyChanged, HostKeyNotTrusted

PASSWORD_ENV = "KWIZARD_TEST_ACCESS_PASSWORD"
LabFactory = Callable[..., kwlab.Lab]


def make_spec(hosts: list[kwlab.LabHost], user: str, key: Path, **ssh: object) -> ClusterSpec:
    spec_hosts = [Host(name=h.name, address=h.address, port=None if h.port == 22 else h.port) for h in hosts]
    return ClusterSpec(
        name="access-test",
        hosts=default_roles(spec_hosts),
        ssh=SSHSettings.model_validate({"user": user, "key": str(key), **ssh}),
    )


def make_ctx(
    spec: ClusterSpec, ws: Workspace, events: list[Event] | None = None, **options: object
) -> PhaseContext:
    # Built as every run's context is: passwords from the variables the preset names, read now.
    return phase_context(
        spec,
        ws,
        RunOptions(**options),  # type: ignore[arg-type]
        emit=(events.append if events is not None else lambda event: None),
    )


def home_of(host: kwlab.LabHost, user: str) -> str:
    return host.exec(["getent", "passwd", user]).stdout.split(":")[5]


def authorized_keys(host: kwlab.LabHost, user: str) -> str:
    return host.exec(["cat", f"{home_of(host, user)}/.ssh/authorized_keys"]).stdout


def openssh_login(host: kwlab.LabHost, user: str, key: Path, known_hosts: Path, *extra: str) -> int:
    """Log in with the real ssh client, trusting only the workspace's known_hosts (as Ansible will)."""
    options = [
        "BatchMode=yes", "StrictHostKeyChecking=yes", f"UserKnownHostsFile={known_hosts}",
        "GlobalKnownHostsFile=/dev/null", "IdentitiesOnly=yes", "ConnectTimeout=10",
    ]  # fmt: skip
    argv = ["ssh", *(f"-o{option}" for option in options), "-i", str(key), "-p", str(host.port)]
    argv += [*extra, f"{user}@{host.address}", "true"]
    return subprocess.run(argv, capture_output=True, timeout=30, check=False).returncode


def _listener(host: kwlab.LabHost) -> str:
    found = re.search(r"ino:(\d+)", host.exec("ss -Hltne 'sport = :22'").stdout)
    return found.group(1) if found else ""


def reload_sshd(host: kwlab.LabHost, *config_lines: str) -> None:
    """Put `config_lines` first in the host's sshd_config (first value wins), make its sshd (PID 1)
    re-execute, and wait until the new process listens (a new listening socket, not the old one)."""
    if config_lines:
        text = "".join(f"{line}\n" for line in config_lines)
        host.exec(
            "cat - /etc/ssh/sshd_config > /tmp/sshd_config && cat /tmp/sshd_config > /etc/ssh/sshd_config",
            input=text,
        )
    before = _listener(host)
    assert host.exec("kill -HUP 1").returncode == 0
    for _ in range(200):  # bounded: sshd re-executes within milliseconds
        now = _listener(host)
        if now and now != before:
            return
        time.sleep(0.05)
    raise AssertionError(f"sshd on {host.name} did not come back")


@pytest.fixture
def restore_user_ssh(lab: kwlab.Lab) -> Iterator[None]:
    """Put the sudo user's ~/.ssh on every shared-lab host back the way it was."""
    saved = {}
    for host in lab.hosts:
        home = home_of(host, lab.user)
        saved[host.name] = host.exec(f"tar -C {shlex.quote(home)} -cf - .ssh 2>/dev/null | base64 -w0").stdout
    yield
    for host in lab.hosts:
        home = shlex.quote(home_of(host, lab.user))
        host.exec(f"rm -rf {home}/.ssh")
        if saved[host.name]:
            host.exec(f"base64 -d | tar -C {home} -xf -", input=saved[host.name])


def test_password_once_installs_the_key_on_every_host_once(
    lab: kwlab.Lab, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, restore_user_ssh: None
) -> None:
    ws = Workspace(tmp_path / "kw", "access-test").create()
    key = ws.ssh_dir / "id_ed25519"  # absent: the phase generates it
    spec = make_spec(lab.hosts, lab.user, key, password_env=PASSWORD_ENV)
    first = lab.hosts[0]
    home = home_of(first, lab.user)
    # A key somebody put there before, in a file without a final newline: it must survive untouched.
    existing = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHByZWV4aXN0aW5nLWtleS1ub3QtdG8tYmUtbG9zdA== ops@laptop"
    first.exec(
        f"install -d -m 700 -o {lab.user} {home}/.ssh && cat > {home}/.ssh/authorized_keys"
        f" && chown {lab.user} {home}/.ssh/authorized_keys",
        input=existing,
    )
    monkeypatch.setenv(PASSWORD_ENV, lab.password)
    events: list[Event] = []

    result = access.run_phase(make_ctx(spec, ws, events, accept_new_host_keys=True))

    assert result.status == "ok", result.summary
    rows = result.data["hosts"]
    assert {name: row["status"] for name, row in rows.items()} == {h.name: "installed" for h in lab.hosts}
    assert all(row["key_added"] for row in rows.values())
    public = key.with_suffix(".pub").read_text().split()
    assert result.data["generated"] and key.stat().st_mode & 0o777 == 0o600
    for host in lab.hosts:
        text = authorized_keys(host, lab.user)
        assert text.count(public[1]) == 1
        modes = host.exec(
            ["stat", "-c", "%a %U", f"{home}/.ssh", f"{home}/.ssh/authorized_keys"]
        ).stdout.split("\n")
        assert modes[:2] == [f"700 {lab.user}", f"600 {lab.user}"]
        assert openssh_login(host, lab.user, key, ws.known_hosts) == 0
    assert authorized_keys(first, lab.user).splitlines()[0] == existing
    statuses = [(e.host, e.data["status"]) for e in events if e.kind == "host_status"]
    assert all((h.name, "installing") in statuses and (h.name, "installed") in statuses for h in lab.hosts)

    # Again, without any password: the key works everywhere and nothing is added twice.
    monkeypatch.delenv(PASSWORD_ENV)
    again = access.run_phase(make_ctx(spec, ws))
    assert again.status == "ok"
    assert {row["status"] for row in again.data["hosts"].values()} == {"ok"}
    assert all(authorized_keys(h, lab.user).count(public[1]) == 1 for h in lab.hosts)

    # The known_hosts file holds exactly the lab's own host keys, and no file holds the password.
    known = KnownHosts(ws.known_hosts)
    for host in lab.hosts:
        expected = key_from_line(*host.host_key.split()[:2])
        assert [e.key for e in known.lookup(host.address, host.port)] == [expected]
    leaks = subprocess.run(["grep", "-rlF", lab.password, str(tmp_path)], capture_output=True, text=True)
    assert leaks.returncode == 1, f"password found in {leaks.stdout}"
    assert ws.known_hosts.stat().st_mode & 0o777 == 0o600


def test_bad_hosts_get_reasons_and_the_others_continue(
    lab: kwlab.Lab, tmp_path: Path, restore_user_ssh: None
) -> None:
    ws = Workspace(tmp_path / "kw", "access-test").create()
    good, wrong = lab.hosts[0], lab.hosts[1]
    spec = make_spec([good, wrong], lab.user, ws.ssh_dir / "id_ed25519")
    unused = str(int(lab.hosts[-1].address.rsplit(".", 1)[1]) + 50)
    nowhere = Host(
        name="nowhere", address=lab.hosts[-1].address.rsplit(".", 1)[0] + "." + unused, roles=["worker"]
    )
    spec = spec.updated(hosts=[*spec.hosts, nowhere])
    ctx = make_ctx(spec, ws, accept_new_host_keys=True)
    ctx.secrets.ssh_password = lab.password
    ctx.secrets.per_host_password[wrong.name] = lab.password + "-wrong"
    key = access.ensure_key_pair(Path(spec.ssh.key), "kwizard-test")

    rows = {r.host: r for r in access.secure_hosts(ctx, spec.hosts, key, timeout=3)}

    assert rows[good.name].status == "installed"
    assert rows[wrong.name].status == "failed" and rows[wrong.name].reason == "wrong-password"
    assert "refused the password" in rows[wrong.name].detail and rows[wrong.name].fix
    assert rows["nowhere"].status == "failed" and rows["nowhere"].reason == "unreachable"
    assert key.key_data not in authorized_keys(wrong, lab.user)
    # Typing the right password for that host alone fixes it.
    ctx.secrets.per_host_password[wrong.name] = lab.password
    (retried,) = access.secure_hosts(ctx, [spec.host(wrong.name)], key)
    assert retried.status == "installed" and key.key_data in authorized_keys(wrong, lab.user)


def test_needs_password_without_one_and_prompt_asked_once(
    lab: kwlab.Lab, tmp_path: Path, restore_user_ssh: None
) -> None:
    ws = Workspace(tmp_path / "kw", "access-test").create()
    spec = make_spec(lab.hosts[:3], lab.user, ws.ssh_dir / "id_ed25519")
    key = access.ensure_key_pair(Path(spec.ssh.key), "kwizard-test")
    ctx = make_ctx(spec, ws, accept_new_host_keys=True)
    rows = access.secure_hosts(ctx, spec.hosts, key)
    assert {r.status for r in rows} == {"needs-password"}
    asked: list[list[str]] = []

    def prompt(names: list[str]) -> str:
        asked.append(names)
        return lab.password

    rows = access.secure_hosts(ctx, spec.hosts, key, ask_password=prompt)
    assert asked == [[h.name for h in spec.hosts]]  # once, for all of them
    assert {r.status for r in rows} == {"installed"}


def test_key_only_host_and_sudo_user_without_sudo(lab_factory: LabFactory, tmp_path: Path) -> None:
    made = lab_factory(
        kwlab.HostTraits(name="keyonly"), kwlab.HostTraits(name="nosudo"), kwlab.HostTraits(name="fine")
    )
    key_only, no_sudo, _ = made.hosts
    reload_sshd(key_only, "PasswordAuthentication no")
    no_sudo.exec(f"rm -f /etc/sudoers.d/kwizard-lab && gpasswd -d {made.user} sudo")
    ws = Workspace(tmp_path / "kw", "access-test").create()
    spec = make_spec(made.hosts, made.user, ws.ssh_dir / "id_ed25519")
    ctx = make_ctx(spec, ws, accept_new_host_keys=True)
    ctx.secrets.ssh_password = made.password
    key = access.ensure_key_pair(Path(spec.ssh.key), "kwizard-test")

    rows = {r.host: r for r in access.secure_hosts(ctx, spec.hosts, key)}

    assert rows["keyonly"].reason == "key-only" and "no passwords" in rows["keyonly"].detail
    assert rows["nosudo"].reason == "no-sudo" and "cannot use sudo" in rows["nosudo"].detail
    assert "usermod -aG sudo" in rows["nosudo"].fix
    assert rows["fine"].status == "installed" and rows["fine"].sudo == "password"
    assert any("become_password_env" in w for w in rows["fine"].warnings)


def test_bastion_reaches_hosts_that_accept_only_the_bastion(lab_factory: LabFactory, tmp_path: Path) -> None:
    made = lab_factory(
        kwlab.HostTraits(name="gate"), kwlab.HostTraits(name="inner1"), kwlab.HostTraits(name="inner2")
    )
    gate, *inner = made.hosts
    for host in inner:  # sessions from anywhere but the bastion are refused
        reload_sshd(host, f"AllowUsers *@{gate.address}")
    ws = Workspace(tmp_path / "kw", "access-test").create()
    spec = make_spec(inner, made.user, ws.ssh_dir / "id_ed25519")
    # The bastion has its own user and key (the lab's root key); the cluster key is a different one.
    spec = spec.updated(bastion=Bastion(address=gate.address, user="root", key=str(made.key_path)))
    ctx = make_ctx(spec, ws, accept_new_host_keys=True)
    ctx.secrets.ssh_password = made.password
    key = access.ensure_key_pair(Path(spec.ssh.key), "kwizard-test")

    direct = make_ctx(spec.updated(bastion=None), ws, accept_new_host_keys=True)
    direct.secrets.ssh_password = made.password
    (refused,) = access.secure_hosts(direct, [spec.hosts[0]], key)
    assert refused.status == "failed"  # without the bastion, inner hosts refuse every login

    rows = access.secure_hosts(ctx, spec.hosts, key)

    assert [(r.host, r.status) for r in rows] == [("inner1", "installed"), ("inner2", "installed")]
    for host in inner:
        assert key.key_data in authorized_keys(host, made.user)
        # Real OpenSSH through the bastion with the same known_hosts (what Ansible's ProxyCommand does).
        hop = (
            f"ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile={ws.known_hosts} "
            f"-o GlobalKnownHostsFile=/dev/null -i {made.key_path} -W %h:%p root@{gate.address}"
        )
        assert (
            openssh_login(host, made.user, Path(spec.ssh.key), ws.known_hosts, "-o", f"ProxyCommand={hop}")
            == 0
        )
        assert openssh_login(host, made.user, Path(spec.ssh.key), ws.known_hosts) != 0
    assert {e.pattern for e in KnownHosts(ws.known_hosts).lookup(gate.address, 22)} == {gate.address}


def test_new_host_keys_are_asked_and_a_changed_key_is_refused(
    lab_factory: LabFactory, tmp_path: Path
) -> None:
    made = lab_factory(
        kwlab.HostTraits(name="moved", user_key=True), kwlab.HostTraits(name="steady", user_key=True)
    )
    moved, steady = made.hosts
    ws = Workspace(tmp_path / "kw", "access-test").create()
    spec = make_spec(made.hosts, made.user, made.key_path)
    asked: list[HostKeyPrompt] = []

    # Declined: nothing is stored, and the error names the fingerprint.
    declining = make_ctx(spec, ws)
    declining.confirm_host_key = lambda prompt: asked.append(prompt) or False
    with pytest.raises(HostKeyNotTrusted) as declined:
        connect(declining, spec.host("moved"))
    old = fingerprint(key_from_line(*moved.host_key.split()[:2]))
    assert fingerprint(scan_host_key(moved.address, 22, timeout=5)) == old  # read without logging in
    assert (
        asked[0].fingerprint == old and asked[0].key_type == "ssh-ed25519" and old in declined.value.problem
    )
    assert KnownHosts(ws.known_hosts).lookup(moved.address, 22) == []

    # Headless without --accept-new-host-keys: refused with the flag as the fix.
    with pytest.raises(HostKeyNotTrusted) as headless:
        connect(make_ctx(spec, ws), spec.host("moved"))
    assert "--accept-new-host-keys" in headless.value.fix

    # Accepted once (declines are remembered until forgotten), then the host is reinstalled.
    forget_declined_host_keys()
    accepting = make_ctx(spec, ws)
    accepting.confirm_host_key = lambda prompt: True
    for name in ("moved", "steady"):
        with connect(accepting, spec.host(name)) as conn:
            assert run(conn, ["id", "-un"]).stdout.strip() == made.user
    host_key_file = "/etc/ssh/ssh_host_ed25519_key"
    moved.exec(f"rm -f {host_key_file}* && ssh-keygen -q -t ed25519 -N '' -f {host_key_file}")
    reload_sshd(moved)
    new_line = moved.exec("cat /etc/ssh/ssh_host_ed25519_key.pub").stdout.split()
    new = fingerprint(key_from_line(new_line[0], new_line[1]))
    before = ws.known_hosts.read_text()

    with pytest.raises(HostKeyChanged) as changed:
        connect(accepting, spec.host("moved"))
    assert changed.value.old_fingerprint == old and changed.value.new_fingerprint == new
    assert old in changed.value.problem and new in changed.value.problem
    assert "ssh-keygen -R" in changed.value.fix and str(ws.known_hosts) in changed.value.fix
    assert ws.known_hosts.read_text() == before  # never silently replaced

    # In the access phase the changed host is one failed row; the other host continues.
    result = access.run_phase(make_ctx(spec, ws, accept_new_host_keys=True))
    rows = result.data["hosts"]
    assert result.status == "failed"
    assert rows["moved"]["reason"] == "host-key-changed" and new in rows["moved"]["detail"]
    assert rows["steady"]["status"] == "ok"
    # Real OpenSSH agrees with the file: it refuses the changed host too.
    assert openssh_login(moved, made.user, made.key_path, ws.known_hosts) != 0
    assert openssh_login(steady, made.user, made.key_path, ws.known_hosts) == 0


def test_connections_turn_nagle_off_ack_at_once_and_prefer_aes_gcm(lab: kwlab.Lab, tmp_path: Path) -> None:
    """The socket options that keep sshd's back-to-back small packets from waiting on delayed ACKs."""
    ws = Workspace(tmp_path / "kw", "access-test").create()
    spec = make_spec(lab.hosts[:1], "root", lab.key_path)
    with connect(make_ctx(spec, ws, accept_new_host_keys=True), spec.hosts[0]) as conn:
        sock = conn.transport.sock
        assert isinstance(sock, ssh._PromptAckSocket)
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        assert conn.transport.remote_cipher == conn.transport.local_cipher == "aes128-gcm@openssh.com"
        assert run(conn, ["echo", "a b"]).stdout == "a b\n"
