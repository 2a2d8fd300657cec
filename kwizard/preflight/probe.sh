# kwizard preflight probe. POSIX sh on purpose: it must run on a host WITHOUT python (that is one of
# the things it finds out). Read-only: it changes nothing on the host. One `key=value` per line; keys
# that can repeat (addr, listen, python, ...) are printed once per value. Arguments are `name=value`:
#   devcmd=...      command inspecting the storage disk     brick=/data/...  gluster brick directory
#   py=/path        interpreter the inventory names    ports=6443,2379  ports the host's roles need
# Few processes on purpose: files are read with the shell's own `read`, and one awk reads the rest, so
# probing many hosts at once stays cheap for each of them.
LC_ALL=C
export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

devcmd=
brick=
want_py=
ports=
for arg in "$@"; do
  case $arg in
    devcmd=*) devcmd=${arg#devcmd=} ;;
    brick=*) brick=${arg#brick=} ;;
    py=*) want_py=${arg#py=} ;;
    ports=*) ports=,${arg#ports=}, ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1; }
# first_line KEY FILE: "KEY=<first line of FILE>" without starting a process ("KEY=" when unreadable).
first_line() {
  line=
  [ -r "$2" ] && IFS= read -r line <"$2"
  echo "$1=$line"
}

echo "probe=1"
uid=
while read -r key value _; do
  [ "$key" = Uid: ] && uid=$value && break
done </proc/self/status
echo "uid=$uid"
echo "user=${LOGNAME:-${USER:-$(id -un 2>/dev/null)}}"
first_line hostname /proc/sys/kernel/hostname
first_line kernel /proc/sys/kernel/osrelease
if [ -r /proc/sys/kernel/arch ]; then first_line arch /proc/sys/kernel/arch; else echo "arch=$(uname -m)"; fi
if [ -r /etc/machine-id ]; then first_line machine_id /etc/machine-id; else first_line machine_id /var/lib/dbus/machine-id; fi
first_line ip_forward /proc/sys/net/ipv4/ip_forward
first_line pid1 /proc/1/comm
first_line dmi_vendor /sys/devices/virtual/dmi/id/sys_vendor
first_line dmi_product /sys/devices/virtual/dmi/id/product_name
if [ -d /run/systemd/system ]; then echo "systemd=1"; else echo "systemd=0"; fi

# One awk for the clock and the small text files: OS, memory and swap, CPUs (as Ansible counts them and
# as kubeadm does: the ones this process may run on), DNS, and the host's own addresses (IPv4 from the
# kernel's LOCAL routes, IPv6 from if_inet6) so no `ip` command is needed.
awk '
  BEGIN { srand(); print "epoch=" srand() }  # POSIX: srand() returns the previous seed, the time of day
  FILENAME == "/etc/os-release" && /^(ID|ID_LIKE|VERSION_ID|PRETTY_NAME)=/ { print "os_" $0 }
  FILENAME == "/proc/meminfo" && $1 == "MemTotal:" { print "mem_kb=" $2 }
  FILENAME == "/proc/meminfo" && $1 == "SwapTotal:" { print "swap_kb=" $2 }
  FILENAME == "/proc/cpuinfo" && /^processor/ { cpus++ }
  FILENAME == "/proc/self/status" && $1 == "Cpus_allowed_list:" {
    n = split($2, ranges, ",")
    for (i = 1; i <= n; i++) {
      if (split(ranges[i], ends, "-") == 2) online += ends[2] - ends[1] + 1; else online++
    }
    print "online_cpus=" online
  }
  FILENAME == "/proc/swaps" && FNR > 1 { print "swap_active=" $1 }
  FILENAME == "/etc/resolv.conf" && $1 == "nameserver" { print "nameserver=" $2 }
  FILENAME == "/proc/net/fib_trie" && $1 == "|--" { last = $2 }
  FILENAME == "/proc/net/fib_trie" && /\/32 host LOCAL/ { print "addr=" last }
  FILENAME == "/proc/net/if_inet6" {
    a = ""
    for (i = 0; i < 8; i++) a = a (i ? ":" : "") substr($1, i * 4 + 1, 4)
    print "addr=" a
  }
  END { print "cpuinfo_cpus=" cpus + 0 }
' /etc/os-release /proc/meminfo /proc/cpuinfo /proc/self/status /proc/swaps /etc/resolv.conf \
  /proc/net/fib_trie /proc/net/if_inet6 2>/dev/null

# Privileges: root needs no sudo; otherwise only a non-interactive attempt (-n never prompts).
if [ "$uid" = 0 ]; then
  echo "sudo=root"
elif ! have sudo; then
  echo "sudo=absent"
elif sudo -n true >/dev/null 2>&1; then
  echo "sudo=nopasswd"
else
  echo "sudo=password"
fi

# Python interpreters Ansible could use, each with its version ("?" when it does not run). A distro
# interpreter's real file name carries its version (python3 -> python3.11) and its standard library
# sits next to it: then it is not started at all, which keeps the probe cheap on many hosts at once.
python_version() {
  real=$(readlink -f "$1" 2>/dev/null) || real=$1
  case ${real##*/} in
    python[0-9].[0-9] | python[0-9].[0-9][0-9])
      v=${real##*/python}
      for lib in "/usr/lib/python$v" "/usr/lib64/python$v" "${real%/bin/*}/lib/python$v"; do
        if [ -f "$lib/os.py" ]; then
          echo "$v"
          return
        fi
      done
      ;;
  esac
  # -S -E: no site packages or environment, so the interpreter starts quickly.
  "$1" -S -E -c 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3]))' 2>/dev/null
}
seen=" "
for p in "$want_py" /usr/bin/python3 "$(command -v python3 2>/dev/null)" /usr/libexec/platform-python \
  /usr/local/bin/python3 /opt/bin/python /usr/bin/python; do
  [ -n "$p" ] && [ -x "$p" ] || continue
  case $seen in *" $p "*) continue ;; esac
  seen="$seen$p "
  v=$(python_version "$p")
  echo "python=$p ${v:-?}"
done
for pm in apt-get dnf yum zypper apk; do
  if have "$pm"; then echo "pkg_manager=$pm"; break; fi
done

# Free space for / and /var (and the brick's folder): KiB available, use%, mount point. df prints
# one line per path, in order; a brick folder not created yet is measured at its nearest parent.
brick_at=
if [ -n "$brick" ]; then
  brick_at=$brick
  depth=0
  while [ ! -e "$brick_at" ] && [ "$depth" -lt 64 ]; do
    brick_at=${brick_at%/*}
    [ -n "$brick_at" ] || brick_at=/
    depth=$((depth + 1))
  done
fi
df -Pk / /var ${brick_at:+"$brick_at"} 2>/dev/null | {
  IFS= read -r _header
  for label in "disk=/" "disk=/var" ${brick_at:+"brick=$brick"}; do
    read -r _ _ _ avail used mount || break
    echo "$label $avail $used $mount"
  done
}

# Listening TCP ports. `ss` asks the kernel for listening sockets only (netlink); reading /proc/net/tcp
# walks every socket of the machine, which costs milliseconds on a busy host, so it is only the fallback
# for hosts without a working ss. As root, ss also names the program holding a port: that line is
# passed on for the ports the roles need. State 0A in /proc/net/tcp is LISTEN.
if [ "$uid" = 0 ]; then ssflags=-ltnp; else ssflags=-ltn; fi
if have ss && sockets=$(ss $ssflags 2>/dev/null); then
  set -f  # the peer column ("0.0.0.0:*") must not be expanded as a file name pattern
  while IFS= read -r line; do
    set -- $line
    [ "$1" = LISTEN ] && [ $# -ge 4 ] || continue
    port=${4##*:}
    echo "listen=$port"
    case $ports in *",$port,"*) [ "$uid" = 0 ] && echo "ss=$line" ;; esac
  done <<SOCKETS
$sockets
SOCKETS
  set +f
else
  for table in /proc/net/tcp /proc/net/tcp6; do
    [ -r "$table" ] || continue
    while read -r _ local _ state _; do
      [ "$state" = 0A ] && echo "listen=$((0x${local##*:}))"
    done <"$table"
  done
fi

# The storage device named in the spec: the storage module's own read-only probe (devcmd=), run as root
# because blkid and pvs must read the disk; without root or passwordless sudo it is left unchecked.
if [ -n "$devcmd" ]; then
  echo "device_probe_begin"
  if [ "$uid" = 0 ]; then
    sh -c "$devcmd" 2>/dev/null
  elif have sudo && sudo -n true >/dev/null 2>&1; then
    sudo -n sh -c "$devcmd" 2>/dev/null
  else
    echo "device_unprobed"
  fi
  echo "device_probe_end"
fi
echo "end=1"
