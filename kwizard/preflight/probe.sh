# kwizard preflight probe. POSIX sh on purpose: it must run on a host WITHOUT python (that is one of
# the things it finds out). Read-only: it changes nothing on the host. One `key=value` per line; keys
# that can repeat (addr, listen, python, ...) are printed once per value. Arguments are `name=value`:
#   dev=/dev/xvdf   storage device to inspect      brick=/data/...  gluster brick directory
#   py=/path        interpreter the inventory names
LC_ALL=C
export LC_ALL
PATH="$PATH:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export PATH

dev=
brick=
want_py=
for arg in "$@"; do
  case $arg in
    dev=*) dev=${arg#dev=} ;;
    brick=*) brick=${arg#brick=} ;;
    py=*) want_py=${arg#py=} ;;
  esac
done

have() { command -v "$1" >/dev/null 2>&1; }
first_line() { [ -r "$1" ] && head -n 1 "$1" 2>/dev/null; }

echo "probe=1"
echo "epoch=$(date +%s)"
uid=$(id -u 2>/dev/null)
echo "uid=$uid"
echo "user=$(id -un 2>/dev/null)"
echo "hostname=$(uname -n 2>/dev/null)"
echo "kernel=$(uname -r 2>/dev/null)"
echo "arch=$(uname -m 2>/dev/null)"
echo "machine_id=$(first_line /etc/machine-id || first_line /var/lib/dbus/machine-id)"
[ -r /etc/os-release ] && grep -E '^(ID|ID_LIKE|VERSION_ID|PRETTY_NAME)=' /etc/os-release | sed 's/^/os_/'

# Memory and CPUs: what Ansible's facts and kubeadm will see.
awk '/^MemTotal:/ {print "mem_kb=" $2} /^SwapTotal:/ {print "swap_kb=" $2}' /proc/meminfo 2>/dev/null
echo "cpuinfo_cpus=$(grep -c '^processor' /proc/cpuinfo 2>/dev/null)"
echo "online_cpus=$(nproc 2>/dev/null || getconf _NPROCESSORS_ONLN 2>/dev/null)"
awk 'NR > 1 {print "swap_active=" $1}' /proc/swaps 2>/dev/null

echo "ip_forward=$(first_line /proc/sys/net/ipv4/ip_forward)"
if [ -d /run/systemd/system ]; then echo "systemd=1"; else echo "systemd=0"; fi
echo "pid1=$(first_line /proc/1/comm)"

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

# Python interpreters Ansible could use, each with its version ("?" when it does not run).
seen=" "
for p in "$want_py" /usr/bin/python3 "$(command -v python3 2>/dev/null)" /usr/libexec/platform-python \
  /usr/local/bin/python3 /opt/bin/python /usr/bin/python; do
  [ -n "$p" ] && [ -x "$p" ] || continue
  case $seen in *" $p "*) continue ;; esac
  seen="$seen$p "
  v=$("$p" -c 'import sys; print("%d.%d.%d" % tuple(sys.version_info[:3]))' 2>/dev/null)
  echo "python=$p ${v:-?}"
done
for pm in apt-get dnf yum zypper apk; do
  if have "$pm"; then echo "pkg_manager=$pm"; break; fi
done

# Free space (KiB available, use%, mount point) for / and /var.
for path in / /var; do
  df -Pk "$path" 2>/dev/null | awk -v p="$path" 'NR == 2 {print "disk=" p " " $4 " " $5 " " $6}'
done

# Listening TCP ports, from the kernel's own tables (no ss/netstat needed). State 0A is LISTEN.
for table in /proc/net/tcp /proc/net/tcp6; do
  [ -r "$table" ] || continue
  while read -r _ local _ state _; do
    [ "$state" = 0A ] && echo "listen=$((0x${local##*:}))"
  done <"$table"
done
# Which program holds them: only root sees other users' processes.
if [ "$uid" = 0 ] && have ss; then
  ss -Hltnp 2>/dev/null | sed 's/^/ss=/'
fi

awk '$1 == "nameserver" {print "nameserver=" $2}' /etc/resolv.conf 2>/dev/null

# The host's own addresses (Kubespray's `ip` must be one of them).
if have ip; then
  ip -o addr show 2>/dev/null | awk '{split($4, a, "/"); print "addr=" a[1]}'
elif have hostname; then
  for a in $(hostname -I 2>/dev/null); do echo "addr=$a"; done
else
  awk '/32 host LOCAL/ {print "addr=" previous} {previous = $2}' /proc/net/fib_trie 2>/dev/null
fi

# Cloud hints: on EC2 (Nitro) the DMI product name is the instance type.
echo "dmi_vendor=$(first_line /sys/devices/virtual/dmi/id/sys_vendor)"
echo "dmi_product=$(first_line /sys/devices/virtual/dmi/id/product_name)"

# The storage device named in the spec: does it exist, and is anything already on it?
if [ -n "$dev" ]; then
  if [ -b "$dev" ]; then
    real=$(readlink -f "$dev" 2>/dev/null || echo "$dev")
    name=${real##*/}
    echo "dev_exists=1"
    echo "dev_real=$real"
    echo "dev_sectors=$(first_line "/sys/class/block/$name/size")"
    fstype=
    if [ "$uid" = 0 ] && have blkid; then
      fstype=$(blkid -p -o value -s TYPE "$real" 2>/dev/null)
    fi
    if [ -z "$fstype" ] && have lsblk; then
      fstype=$(lsblk -dno FSTYPE "$real" 2>/dev/null)
    fi
    echo "dev_fstype=$fstype"
    for part in "/sys/class/block/$name/$name"*; do
      [ -e "$part" ] && echo "dev_part=${part##*/}"
    done
    for holder in "/sys/class/block/$name/holders/"*; do
      [ -e "$holder" ] && echo "dev_holder=${holder##*/}"
    done
    awk -v d="$real" -v o="$dev" '$1 == d || $1 == o {print "dev_mount=" $2}' /proc/mounts 2>/dev/null
    awk -v d="$real" '$1 == d {print "dev_swap=1"}' /proc/swaps 2>/dev/null
  elif [ -e "$dev" ]; then
    echo "dev_exists=notblock"
  else
    echo "dev_exists=0"
  fi
fi

# A directory brick: free space where it is (or would be) created.
if [ -n "$brick" ]; then
  d=$brick
  depth=0
  while [ ! -e "$d" ] && [ "$depth" -lt 64 ]; do
    d=${d%/*}
    [ -n "$d" ] || d=/
    depth=$((depth + 1))
  done
  df -Pk "$d" 2>/dev/null | awk -v p="$brick" 'NR == 2 {print "brick=" p " " $4 " " $5 " " $6}'
fi
echo "end=1"
