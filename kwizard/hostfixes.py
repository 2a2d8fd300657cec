"""Commands that repair a host, shared by the preflight fixes and the diagnostics remedies.

Each is fixed POSIX sh text, run as root as one quoted `sh -c` argument, with no user input in it, and
idempotent: running it twice is safe. The same repair must behave the same whether the user accepts it
on the Preflight step or on the Deploy step's "Apply fix and retry".
"""

from __future__ import annotations

SYSCTL_FILE = "/etc/sysctl.d/99-kwizard-ip-forward.conf"

ENABLE_IP_FORWARD = (
    f"printf 'net.ipv4.ip_forward = 1\\n' > {SYSCTL_FILE}"
    # /etc/sysctl.conf is applied after sysctl.d on many systems: an explicit 0 there would win at boot.
    " && { [ ! -f /etc/sysctl.conf ] || sed -i"
    " 's/^[[:space:]]*net\\.ipv4\\.ip_forward[[:space:]]*=[[:space:]]*0/net.ipv4.ip_forward = 1/'"
    " /etc/sysctl.conf; }"
    " && { sysctl -w net.ipv4.ip_forward=1 >/dev/null 2>&1 || echo 1 > /proc/sys/net/ipv4/ip_forward; }"
)

# Debian family: when dpkg still lists the interpreter's packages but the files are gone (deleted by
# hand, a broken image), a plain install is a no-op, so the packages owning the paths are reinstalled.
# The package lists are refreshed only when that fails. With no package source reachable at all, what
# the package cache still holds is reinstalled, and /usr/bin/python3 (python3-minimal's link to the
# versioned interpreter) is put back when dpkg says it belongs there.
INSTALL_PYTHON3 = """export DEBIAN_FRONTEND=noninteractive
if command -v apt-get >/dev/null 2>&1; then
  owners=$(dpkg -S /usr/bin/python3 '/usr/bin/python3.[0-9]*' 2>/dev/null \\
    | sed -n 's|^\\([^:, ]*\\): /usr/bin/python3[.0-9]*$|\\1|p' | sort -u)
  if [ -z "$owners" ]; then
    apt-get install -y -qq python3 || { apt-get update -qq; apt-get install -y -qq python3; }
  else
    # apt only warns (and exits 0) when a package to reinstall cannot be downloaded: the file decides.
    apt-get install -y -qq --reinstall $owners
    [ -x /usr/bin/python3 ] || { apt-get update -qq && apt-get install -y -qq --reinstall $owners; }
    if [ ! -x /usr/bin/python3 ]; then
      for package in $owners; do apt-get install -y -qq --reinstall --no-download "$package"; done
      if [ ! -e /usr/bin/python3 ] && dpkg -S /usr/bin/python3 >/dev/null 2>&1; then
        newest=$(cd /usr/bin && ls python3.[0-9]* 2>/dev/null | grep -E '^python3[.][0-9]+$' | sort -V \\
          | tail -n 1)
        [ -z "$newest" ] || ln -s "$newest" /usr/bin/python3
      fi
    fi
  fi
  [ -x /usr/bin/python3 ]
elif command -v dnf >/dev/null 2>&1; then
  dnf install -y python3
elif command -v yum >/dev/null 2>&1; then
  yum install -y python3
elif command -v zypper >/dev/null 2>&1; then
  zypper --non-interactive install python3
else
  echo "no package manager kwizard knows (apt-get, dnf, yum, zypper): install python3 by hand" >&2
  exit 1
fi"""

PACKAGE_MANAGERS = ("apt-get", "dnf", "yum", "zypper")  # the ones INSTALL_PYTHON3 knows

SCRIPTS: dict[str, str] = {
    "enable_ip_forward": ENABLE_IP_FORWARD,
    "install_python3": INSTALL_PYTHON3,
}
