"""A real etcd (Debian's etcd-server) on a lab host, laid out as Kubespray lays it out.

Certificates are made with openssl at Kubespray's paths (`/etc/ssl/etcd/ssl/ca.pem`, `member-<host>.pem`,
`admin-<host>.pem` and their keys), the settings go to `/etc/etcd.env` as ETCD_* variables (Kubespray's
etcd-host.service reads the same file), and, because the lab has no systemd, a `systemctl` on the host
starts and stops that etcd from /etc/etcd.env the way the unit would (other units: a no-op that says so);
`fail_next_start` makes its next start fail once; every call is appended to /run/systemctl.calls.
"""

from __future__ import annotations

import time

from kwizard import lab as kwlab

CERTS = "/etc/ssl/etcd/ssl"
PID_FILE = "/run/etcd.pid"
SYSTEMCTL = r"""#!/bin/sh
# The lab has no systemd: this stands in for `systemctl start|stop|restart etcd` (Kubespray's etcd unit
# runs etcd with /etc/etcd.env as its environment). Other units are reported and left alone.
unit=${2%.service}
echo "$1 $unit" >> /run/systemctl.calls
stop() {
  [ -s /run/etcd.pid ] || return 0
  kill "$(cat /run/etcd.pid)" 2>/dev/null
  i=0; while kill -0 "$(cat /run/etcd.pid)" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  rm -f /run/etcd.pid
}
start() {
  set -a; . /etc/etcd.env; set +a
  setsid etcd >>/var/log/etcd.log 2>&1 </dev/null &
  echo $! > /run/etcd.pid
}
case "$1:$unit" in
  stop:etcd) stop ;;
  start:etcd)
    # A test's switch: the next start fails once, as a unit that does not come up.
    if [ -e /run/etcd-fail-start ]; then rm -f /run/etcd-fail-start; echo "etcd did not start" >&2; exit 1; fi
    start ;;
  restart:etcd) stop; start ;;
  *) echo "lab systemctl: $* ignored (no systemd here)" >&2 ;;
esac
"""


CA_SCRIPT = f"""
set -e
mkdir -p {CERTS}; cd {CERTS}
openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=etcd-ca 2>/dev/null
"""


def certificates_script(host: str, address: str) -> str:
    """The member and admin certificates of `host`, signed by the CA already in the folder."""
    return f"""
set -e
cd {CERTS}
printf '[ext]\\nsubjectAltName=%s\\nextendedKeyUsage=serverAuth,clientAuth\\n' \\
  IP:127.0.0.1,IP:{address},DNS:localhost,DNS:{host} > ext.cnf
for c in member-{host} admin-{host}; do
  openssl req -newkey rsa:2048 -nodes -keyout $c-key.pem -out $c.csr -subj /CN=etcd-$c 2>/dev/null
  openssl x509 -req -in $c.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out $c.pem -days 2 \\
    -extfile ext.cnf -extensions ext 2>/dev/null
done
chmod 0600 *-key.pem
"""


def etcd_env(host: str, address: str, initial_cluster: str) -> str:
    member, ca = f"{CERTS}/member-{host}", f"{CERTS}/ca.pem"
    return "\n".join(
        [
            "ETCD_DATA_DIR=/var/lib/etcd",
            f"ETCD_NAME={host}",
            f"ETCD_ADVERTISE_CLIENT_URLS=https://{address}:2379",
            f"ETCD_LISTEN_CLIENT_URLS=https://{address}:2379,https://127.0.0.1:2379",
            f"ETCD_INITIAL_ADVERTISE_PEER_URLS=https://{address}:2380",
            f"ETCD_LISTEN_PEER_URLS=https://{address}:2380",
            f"ETCD_INITIAL_CLUSTER={initial_cluster}",
            "ETCD_INITIAL_CLUSTER_TOKEN=k8s_etcd",
            "ETCD_INITIAL_CLUSTER_STATE=new",
            f"ETCD_TRUSTED_CA_FILE={ca}",
            f"ETCD_CERT_FILE={member}.pem",
            f"ETCD_KEY_FILE={member}-key.pem",
            "ETCD_CLIENT_CERT_AUTH=true",
            f"ETCD_PEER_TRUSTED_CA_FILE={ca}",
            f"ETCD_PEER_CERT_FILE={member}.pem",
            f"ETCD_PEER_KEY_FILE={member}-key.pem",
            "ETCD_PEER_CLIENT_CERT_AUTH=true",
            "",
        ]
    )


def etcdctl(host: kwlab.LabHost, *args: str) -> str:
    """etcdctl on the host with the admin certificate; the command's stdout (AssertionError on failure)."""
    env = [
        "env",
        "ETCDCTL_API=3",
        "ETCDCTL_ENDPOINTS=https://127.0.0.1:2379",
        f"ETCDCTL_CACERT={CERTS}/ca.pem",
        f"ETCDCTL_CERT={CERTS}/admin-{host.name}.pem",
        f"ETCDCTL_KEY={CERTS}/admin-{host.name}-key.pem",
    ]
    done = host.exec([*env, "etcdctl", *args], timeout=30)
    assert done.returncode == 0, done.stderr
    return done.stdout


def start_etcd(host: kwlab.LabHost, timeout: float = 30.0) -> None:
    start_etcd_cluster([host], timeout)


def start_etcd_cluster(hosts: list[kwlab.LabHost], timeout: float = 30.0) -> None:
    """One CA for all, each member's certificates, /etc/etcd.env, the stand-in systemctl, then
    `systemctl start etcd` on every member; waits until each answers healthy."""
    initial = ",".join(f"{host.name}=https://{host.address}:2380" for host in hosts)
    ca: dict[str, str] = {}
    for host in hosts:
        stop_etcd(host)
        done = host.exec(["sh", "-c", f"rm -rf {CERTS} /var/lib/etcd /var/lib/etcd.before-restore-*"])
        assert done.returncode == 0, done.stderr
        if not ca:
            assert host.exec(["sh", "-c", CA_SCRIPT]).returncode == 0
            ca = {name: host.exec(["cat", f"{CERTS}/{name}"]).stdout for name in ("ca.pem", "ca-key.pem")}
        else:
            for name, text in ca.items():
                host.exec(["sh", "-c", f"mkdir -p {CERTS} && cat > {CERTS}/{name}"], input=text)
        done = host.exec(["sh", "-c", certificates_script(host.name, host.address)])
        assert done.returncode == 0, done.stderr
        host.exec(["sh", "-c", "cat > /etc/etcd.env"], input=etcd_env(host.name, host.address, initial))
        install_systemctl(host)
    for host in hosts:
        assert host.exec(["systemctl", "start", "etcd"]).returncode == 0
    for host in hosts:
        wait_healthy(host, timeout)


def wait_healthy(host: kwlab.LabHost, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            etcdctl(host, "endpoint", "health")
            return
        except AssertionError:
            if time.monotonic() > deadline:
                log = host.exec(["tail", "-20", "/var/log/etcd.log"]).stdout
                raise AssertionError(
                    f"etcd on {host.name} is not healthy after {timeout:g} s:\n{log}"
                ) from None
            time.sleep(0.3)


def stop_etcd(host: kwlab.LabHost) -> None:
    if host.exec(["test", "-x", "/usr/local/bin/systemctl"]).returncode == 0:
        host.exec(["systemctl", "stop", "etcd"])


def fail_next_start(host: kwlab.LabHost) -> None:
    assert host.exec(["touch", "/run/etcd-fail-start"]).returncode == 0


def install_systemctl(host: kwlab.LabHost) -> None:
    """The stand-in systemctl on `host`, with an empty call log."""
    install = (
        "cat > /usr/local/bin/systemctl && chmod 0755 /usr/local/bin/systemctl && : > /run/systemctl.calls"
    )
    done = host.exec(["sh", "-c", install], input=SYSTEMCTL)
    assert done.returncode == 0, done.stderr


def systemctl_calls(host: kwlab.LabHost) -> list[str]:
    return host.exec(["cat", "/run/systemctl.calls"]).stdout.splitlines()
