#!/bin/sh
# Boots bt86's Debian guest (guests/linux, with guests/linux/probe's bt86_probe added), types a
# command script into its console through a pipe, and checks every answer and the clean ACPI power-off or reset (exit status 0). Extra arguments
# go to `bt86 run` (--no-direct, --cpu NAME); EXPECT_CPU is the model name /proc/cpuinfo must
# show. MODE `full` runs the whole script; `short` only what needs no user-space volume
# (uname, cpuinfo, arithmetic, a pipeline), for variants that would repeat the slow parts.
#   debian_script.sh BT86 GUEST_DIR EXPECT_CPU full|short [bt86 run options...]
# The environment may change the end: END=reboot types `reboot` instead of `poweroff` and then
# expects the kernel's restart and bt86's "guest requested a reset (RESET_BY)" with status 0
# (RESET_BY, a regex, defaults to port 0xcf9: the FADT's reset register, Linux's default);
# KERNEL_ARGS is added to the kernel command line (e.g. reboot=pci).
set -u
bt86=$1 dir=$2 expect_cpu=$3 mode=$4
shift 4
end=${END:-poweroff}
reset_by=${RESET_BY:-port 0xcf9}
case "$end" in
  poweroff | reboot) ;;
  *) echo "debian_script.sh: END must be poweroff or reboot, not '$end'" >&2; exit 2 ;;
esac
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs-test.cpio.gz" ]; then
  echo "SKIP: no Debian guest in $dir (build it: cmake --build build -t linux_guest)"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
zeros_md5=$(head -c 16777216 /dev/zero | md5sum | cut -d' ' -f1)
status=0
commands() {
  printf '%s\n' \
    'uname -a' \
    'sed -n "s/^model name.*: /CPU /p" /proc/cpuinfo' \
    'echo SUM $((6 * 7))' \
    'echo piped text | tr a-z A-Z | sed "s/^/PIPE /"'
  if [ "$mode" = full ]; then
    printf '%s\n' \
      'i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i + 1)); done; echo FORKS $i' \
      'dd if=/dev/zero of=/tmp/z bs=1M count=16 2>/dev/null; md5sum /tmp/z; ls -l /tmp/z' \
      'echo PROCSELF $(ls -R /proc/self 2>/dev/null | grep -c status)' \
      'awk "BEGIN { x = 1; for (i = 1; i <= 20; i++) x = x * 1.5 + 0.25; printf \"AWK %.4f\\n\", x / 7 }"' \
      'n=0; for i in $(seq 1 1000); do n=$((n + i * i)); done; echo SQUARES $n' \
      'bt86_probe'
  fi
  echo "$end"
}
commands | "$bt86" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs-test.cpio.gz" \
    --append "console=ttyS0${KERNEL_ARGS:+ $KERNEL_ARGS}" --mem 256M "$@" > "$out" 2>&1 || status=$?
fail=0
# shellcheck source=console_checks.sh
. "$(dirname "$0")/console_checks.sh"
check '^Linux .* 6\.1\.[0-9]+-[0-9]+-686 .* i686 GNU/Linux' "uname -a"
check "^CPU $expect_cpu" "/proc/cpuinfo names the --cpu model"
check '^SUM 42' "shell arithmetic"
check '^PIPE PIPED TEXT' "a pipeline"
if [ "$end" = poweroff ]; then
  check 'reboot: Power down' "the kernel powered off"
else
  check 'reboot: Restarting system' "the kernel restarted"
  check "^bt86: guest requested a reset \\($reset_by\\)" "bt86 ended on the guest's reset"
fi
if [ "$mode" = full ]; then
  check '^FORKS 200' "200 fork+exec of /bin/true"
  check "^$zeros_md5  /tmp/z" "md5sum of 16 MiB written to tmpfs with dd"
  check ' 16777216 .*/tmp/z' "dd wrote 16 MiB"
  check '^PROCSELF [1-9]' "ls -R /proc/self"
  check '^AWK 712\.4836' "awk floating point"
  check '^SQUARES 333833500' "a shell loop"
  check '^PROBE signal 10 delivered 10' "bt86_probe: a signal handler"
  check '^PROBE mmap sum 32640 write-protect fault 1' "bt86_probe: mmap, mprotect (SIGSEGV), munmap"
  check '^PROBE threads 4 sum 333332833333500000' "bt86_probe: four threads"
  case "$expect_cpu" in
    *III*) check '^PROBE sse 1\.7321 1\.9843 3\.2404 0\.2795 mxcsr 0x1fa0' "bt86_probe: SSE" ;;
    *) check '^PROBE sse absent, addps raises SIGILL 1' "bt86_probe: no SSE on this model (#UD)" ;;
  esac
  check '^PROBE ALL OK' "bt86_probe"
fi
check_kernel_log_clean
if [ "$status" != 0 ]; then
  echo "FAIL: bt86 exited with $status (0 = ACPI power-off or a reset)"
  fail=1
fi
if [ "$fail" != 0 ]; then
  echo "---- guest console and bt86 output ----"
  cat "$out"
  exit 1
fi
echo "ok: Debian booted, ran the $mode script and ended with $end ($* ${KERNEL_ARGS:-})"
