#!/bin/sh
# PID 1 of a kwizard lab host, run by `unshare --pid --mount --uts --ipc --fork` inside the host's network
# namespace. It builds the host's root file system in its private mount namespace, pivots into it and
# becomes the host's sshd. Nothing it mounts is visible outside the host; everything vanishes with it.
#
# Environment (set by kwizard.lab): KWLAB_DIR (the host's folder), KWLAB_HOSTNAME, KWLAB_IP_FORWARD (0/1),
# KWLAB_PYTHON3 (1/0), KWLAB_DISK (none/dir/loop), KWLAB_GLUSTERD (1/0).
set -eu
dir=$KWLAB_DIR
new=$dir/rootfs

# A tmpfs root: anything created at the top level (e.g. /data) stays private to the host.
mount -t tmpfs -o mode=0755 kwlab-root "$new"
cd "$new"
mkdir etc var usr opt proc sys dev run tmp root home srv mnt media data .oldroot
# Top-level links (merged /usr: /bin -> usr/bin) are copied; real top-level system folders are bound read-only.
for entry in bin sbin lib lib32 lib64 libx32; do
  if [ -L "/$entry" ]; then
    ln -s "$(readlink "/$entry")" "$entry"
  elif [ -d "/$entry" ]; then
    mkdir "$entry"
    mount --rbind "/$entry" "$entry"
    mount -o remount,bind,ro "$entry"
  fi
done
# Copy-on-write views of the system: the host may install, delete and edit without touching this machine.
for entry in etc var usr opt; do
  mount -t overlay overlay -o "lowerdir=/$entry,upperdir=$dir/upper/$entry,workdir=$dir/work/$entry" "$entry"
done
mount -t proc proc proc
mount --bind "$dir/meminfo" proc/meminfo
mount --bind "$dir/cpuinfo" proc/cpuinfo
mount -t sysfs sysfs sys
mount --rbind /dev dev
mount -t tmpfs -o mode=1777 shm dev/shm
mount -t tmpfs -o mode=0755 run run
mkdir -p run/sshd run/lock run/gluster
chmod 0711 run/sshd
mount -t tmpfs -o mode=1777 tmp tmp
mount --bind "$dir/root" root
mount --bind "$dir/home" home
case "$KWLAB_DISK" in
  dir) mount --bind "$dir/disk" data ;;
  loop) mount -o loop "$dir/disk.img" data ;;
esac

pivot_root . .oldroot
cd /
umount -l /.oldroot
rmdir /.oldroot

hostname "$KWLAB_HOSTNAME"
echo "$KWLAB_IP_FORWARD" > /proc/sys/net/ipv4/ip_forward
# Most sysctls are global to the machine: read-only for the host, except its own network namespace's.
mount --bind /proc/sys /proc/sys
mount --bind /proc/sys/net /proc/sys/net
mount -o remount,bind,ro /proc/sys
# Only the host's own ed25519 key: the machine's other host keys are not the host's.
rm -f /etc/ssh/ssh_host_rsa_key* /etc/ssh/ssh_host_ecdsa_key* /etc/ssh/ssh_host_dsa_key*
# Gluster state of this machine (if it ever ran glusterd) must not be inherited: each host is a new peer.
rm -rf /var/lib/glusterd/glusterd.info /var/lib/glusterd/peers /var/lib/glusterd/vols
if [ "$KWLAB_PYTHON3" = 0 ]; then
  # The interpreter is really gone (whiteouts in the host's /usr), as on a minimal cloud image.
  rm -f /usr/bin/python /usr/bin/python2* /usr/bin/python3* /usr/local/bin/python*
fi
if [ "$KWLAB_GLUSTERD" = 1 ]; then
  # What the package's service would do at boot. In the background so sshd answers at once; a glusterd
  # that fails leaves the host up (its log is /var/log/glusterfs/glusterd.log inside the host).
  (/usr/sbin/glusterd -p /run/glusterd.pid --log-level WARNING || echo "glusterd failed to start" >&2) &
fi
exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config
