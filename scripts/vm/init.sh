#!/.vm/bin/busybox sh
# shellcheck shell=dash
# /init of the VM that run-in-vm.sh boots (runs as PID 1 under busybox sh).
# Serial ports: ttyS0 = kernel console + status marker, ttyS1 = the command's stdout,
# ttyS2 = its stderr. The host script streams ttyS1/ttyS2 to its own stdout/stderr.
# Files from the host: /.vm/cmd (the command as a sh script: env, cd, exec), /.vm/sanity
# (1 = print the sanity line), /.vm/bin/{busybox,vm-exit,compat32-check}.
BB=/.vm/bin/busybox
$BB mkdir -p /proc /sys /dev /tmp /run /root
$BB mount -t proc proc /proc
$BB mount -t sysfs sysfs /sys
$BB mount -t devtmpfs devtmpfs /dev 2>/dev/null
$BB mkdir -p /dev/pts /dev/shm
$BB mount -t devpts devpts /dev/pts
$BB mount -t tmpfs -o mode=1777 tmpfs /dev/shm
# /tmp and /run stay on the root file system (a tmpfs already): copied files may live there.
$BB chmod 1777 /tmp
[ -e /dev/fd ] || $BB ln -s /proc/self/fd /dev/fd
[ -e /dev/stdin ] || $BB ln -s /proc/self/fd/0 /dev/stdin
[ -e /dev/stdout ] || $BB ln -s /proc/self/fd/1 /dev/stdout
[ -e /dev/stderr ] || $BB ln -s /proc/self/fd/2 /dev/stderr
$BB --install -s /.vm/bin
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/.vm/bin
export HOME=/root TERM=dumb LANG=C
hostname bt86-vm
ip link set lo up 2>/dev/null
OUT=/dev/ttyS1 ERR=/dev/ttyS2
# Raw: no \n -> \r\n, no echo; bytes reach the host unchanged.
stty -F $OUT raw -echo 2>/dev/null
stty -F $ERR raw -echo 2>/dev/null

finish() {
  # Marker first (the exact status; the debug-exit port keeps only 7 bits), then stop QEMU.
  echo "BT86-VM-EXIT-STATUS=$1" >/dev/ttyS0
  /.vm/bin/vm-exit "$1" $OUT $ERR /dev/ttyS0
  poweroff -f
  sleep 5
  reboot -f
}

if [ "$(cat /.vm/sanity 2>/dev/null)" = 1 ]; then
  if [ -x /.vm/bin/compat32-check ]; then
    /.vm/bin/compat32-check </dev/null >/dev/null 2>&1
    st=$?
    if [ $st = 0 ]; then c32="32-bit static program: ok"; else c32="32-bit static program: FAILED (status $st)"; fi
  else
    c32="32-bit static program: not built (no gcc -m32 on the host)"
  fi
  echo "run-in-vm: sanity: $(uname -a); $c32" >$ERR
fi

sh /.vm/cmd </dev/null >$OUT 2>$ERR
finish $?
