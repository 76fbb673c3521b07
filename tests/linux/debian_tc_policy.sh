#!/bin/sh
# The Debian boot under one translation-cache policy in a cache small enough that the policy
# acts (issue 13 item 1): boots bt86's Debian guest (the test initramfs, with bt86_probe) with
# `--tc size=SIZE,evict=POLICY`, types a short command script (uname, md5sum of the 0.8 MB
# bt86_probe binary compared with the host's digest of the same file, a fork+exec loop) and
# the power-off, and checks every answer, the clean ACPI power-off (status 0) and, in the same
# run's --stats=json, that the policy really did its work: flushes for `flush`, evictions and
# no flush for `fifo`, evictions and promotions for `generational`. A run in which the cache
# never had to make room fails. The commands make few system calls: on a host without compat
# mode each return to ring 3 costs milliseconds (docs/PERFORMANCE.md, the Debian guest).
#   debian_tc_policy.sh BT86 GUEST_DIR POLICY SIZE [further --tc settings, e.g. ,ib=inline]
set -u
bt86=$1 dir=$2 policy=$3 size=$4 more=${5:-}
case "$policy" in
  flush | fifo | generational) ;;
  *) echo "debian_tc_policy.sh: POLICY must be flush, fifo or generational, not '$policy'" >&2
     exit 2 ;;
esac
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs-test.cpio.gz" ] ||
   [ ! -f "$dir/bt86_probe" ]; then
  echo "SKIP: no Debian guest in $dir (build it: cmake --build build -t linux_guest)"
  exit 77
fi
out=$(mktemp) json=$(mktemp)
trap 'rm -f "$out" "$json"' EXIT
digest=$(md5sum < "$dir/bt86_probe" | cut -d' ' -f1)
status=0
printf '%s\n' \
  'uname -a' \
  'md5sum /bin/bt86_probe' \
  'i=0; while [ $i -lt 10 ]; do /bin/true; i=$((i + 1)); done; echo FORKS $i' \
  'poweroff' |
  "$bt86" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs-test.cpio.gz" --append console=ttyS0 \
    --mem 256M --tc "size=$size,evict=$policy$more" --stats=json --stats-file "$json" \
    > "$out" 2>&1 || status=$?
fail=0
# shellcheck source=console_checks.sh
. "$(dirname "$0")/console_checks.sh"
check '^Linux .* 6\.1\.[0-9]+-[0-9]+-686 .* i686 GNU/Linux' "uname -a"
check "^$digest  /bin/bt86_probe" "md5sum of bt86_probe in the guest equals the host's"
check '^FORKS 10' "10 fork+exec of /bin/true"
check 'reboot: Power down' "the kernel powered off"
check_kernel_log_clean
if [ "$status" != 0 ]; then
  echo "FAIL: bt86 exited with $status (0 = ACPI power-off)"
  fail=1
fi
# The final document is the file's last line; the translator's counters are plain integers.
counter() {  # name: its value in the translator object (first match: translator comes first)
  tail -n 1 "$json" | grep -Eo "[{,]\"$1\":[0-9]+" | head -n 1 | sed 's/.*://'
}
flushes=$(counter flushes) evictions=$(counter evictions) promotions=$(counter promotions)
units=$(counter units)
if [ -z "$flushes" ] || [ -z "$evictions" ] || [ -z "$promotions" ] || [ -z "$units" ]; then
  echo "FAIL: no translator counters in the --stats=json document"
  fail=1
else
  echo "translator: $units units, $flushes flushes, $evictions evictions, $promotions promotions"
  expect() {  # description test-expression...
    d=$1
    shift
    if ! [ "$@" ]; then
      echo "FAIL: $d"
      fail=1
    fi
  }
  # The kernel's switch to paging flushes once under every policy (a translation's mode
  # changes); any other flush is the flush policy's, for want of room.
  case "$policy" in
    flush)
      expect "the cache was never full: size=$size does not fill" "$flushes" -gt 1
      expect "units evicted under evict=flush" "$evictions" -eq 0 ;;
    fifo)
      expect "nothing was evicted: size=$size does not fill" "$evictions" -gt 0
      expect "the cache was flushed for room under evict=fifo" "$flushes" -le 1 ;;
    generational)
      expect "nothing was evicted: size=$size does not fill" "$evictions" -gt 0
      expect "no unit was promoted to the persistent ring" "$promotions" -gt 0
      expect "the cache was flushed for room under evict=generational" "$flushes" -le 1 ;;
  esac
  grep -q "\"policy\":\"$policy\"" "$json" || { echo "FAIL: the run's policy is not $policy"; fail=1; }
fi
if [ "$fail" != 0 ]; then
  echo "---- guest console and bt86 output ----"
  cat "$out"
  exit 1
fi
echo "ok: Debian booted, ran its commands and powered off under --tc size=$size,evict=$policy$more"
