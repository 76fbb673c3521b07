#!/bin/bash
# The guest's clock against the host's over a minute (issue 11: within 1%). Boots bt86's Debian
# guest, has it print its uptime 8 times, sleep 60 s and print it 8 times again, and time-stamps
# those console lines on the host as they arrive: the guest's clock must not move against the
# host's by more than 1% of the time between. Both ends avoid forks between reading the clock and
# printing it (the guest's `read` is a shell builtin, bash's EPOCHREALTIME a variable).
# It also checks the rest of issue 11's timekeeping on the default command line: the kernel's
# fast TSC calibration against the PIT succeeds, the ACPI PM timer passes its rate check, and
# `tsc` becomes and stays the clocksource (no watchdog marks it unstable). The issue asks for
# these on an idle host: a vCPU thread descheduled for milliseconds during calibration is time
# the guest sees pass between two reads, as steal time is in any VM (the fast calibration then
# fails, the PM timer "runs at 143%"). So bt86 runs here at the highest priority (nice -20,
# when permitted: CI runs as root), which gives it the CPU as an idle host would whatever else
# ctest runs beside it, and ctest runs this test alone (RUN_SERIAL).
# Even so, a host that stalls the vCPU thread for tens of microseconds at random (a PVM guest's
# own interrupts do: 20-60 us, several per 10 ms, measured with the kernel's loops in a test
# guest) fails the fast calibration in some boots, as an SMI does on real hardware: about 1 boot
# in 8 here when idle, 1 in 2 beside another bt86. So a boot that did not calibrate against the
# PIT is followed by up to two short ones (boot, power off), and one of the three must do it.
# A bt86 whose PIT or TSC is wrong fails all three; each try is printed.
# APPEND adds kernel parameters to console=ttyS0 (for example a clocksource that counts PIT
# ticks; the timekeeping checks then apply only to the default); further arguments go to
# `bt86 run`.
#   debian_clock.sh BT86 GUEST_DIR [APPEND [bt86 run options...]]
set -u
bt86=$1 dir=$2 append=${3:-}
shift 2
[ $# -gt 0 ] && shift
run_options=("$@")
if [ ! -f "$dir/vmlinuz" ] || [ ! -f "$dir/initramfs.cpio.gz" ]; then
  echo "SKIP: no Debian guest in $dir (build it: cmake --build build -t linux_guest)"
  exit 77
fi
out=$(mktemp) stamps=$(mktemp) status_file=$(mktemp)
trap 'rm -f "$out" "$stamps" "$status_file"' EXIT
commands() {
  printf '%s\n' \
    'for i in 1 2 3 4 5 6 7 8; do read up idle < /proc/uptime; echo CLOCK0 $up; done' \
    'sleep 60' \
    'for i in 1 2 3 4 5 6 7 8; do read up idle < /proc/uptime; echo CLOCK1 $up; done' \
    'cat /sys/devices/system/clocksource/clocksource0/current_clocksource' \
    'poweroff'
}
prio=()
if [ "$(id -u)" = 0 ]; then
  prio=(nice -n -20)
else
  echo "note: not root, so bt86 runs at normal priority: the timekeeping checks assume an idle host"
fi
# bt86 flushes the console at each newline: a line reaches this loop when the guest prints it.
{
  commands | "${prio[@]}" "$bt86" run --kernel "$dir/vmlinuz" --initrd "$dir/initramfs.cpio.gz" \
      --append "console=ttyS0${append:+ $append}" --mem 256M "$@" 2>&1
  echo $? > "$status_file"
} | while IFS= read -r line || [ -n "$line" ]; do
  printf '%s\n' "$line" >> "$out"
  case "$line" in
    CLOCK[01]\ *) printf '%s %s\n' "$EPOCHREALTIME" "$line" >> "$stamps" ;;
  esac
done
status=$(cat "$status_file")
# calibrated LOG: the kernel's fast TSC calibration against the PIT succeeded in that boot.
calibrated() {
  grep -q 'tsc: Fast TSC calibration using PIT' "$1" && ! grep -q 'Unable to calibrate' "$1"
}
# check_pit_calibration: this run, or one of two short boots after it, calibrated (see above).
check_pit_calibration() {
  local try log
  if calibrated "$out"; then return; fi
  echo "note: boot 1 of 3 did not calibrate against the PIT:"
  grep -E 'TSC calibration|calibrate against PIT' "$out" | sed 's/^/  guest: /'
  log=$(mktemp)
  for try in 2 3; do
    echo poweroff | "${prio[@]}" "$bt86" run --kernel "$dir/vmlinuz" \
        --initrd "$dir/initramfs.cpio.gz" --append console=ttyS0 --mem 256M "${run_options[@]}" > "$log" 2>&1
    if calibrated "$log"; then
      echo "ok: boot $try of 3 calibrated the TSC against the PIT"
      rm -f "$log"
      return
    fi
    echo "note: boot $try of 3 did not calibrate against the PIT either:"
    grep -E 'TSC calibration|calibrate against PIT' "$log" | sed 's/^/  guest: /'
  done
  rm -f "$log"
  echo "FAIL: the kernel's fast TSC calibration against the PIT, in none of 3 boots"
  fail=1
}
fail=0
# shellcheck source=console_checks.sh
. "$(dirname "$0")/console_checks.sh"
# Each line reaches the host some time after the guest read its clock (the guest runs, the host
# schedules): host - guest = offset + latency, latency >= 0. The smallest value of eight samples
# at each end estimates the offset (NTP's minimum filter); the drift is how much it moved.
verdict=$(awk '
  function min(a, b) { return a == "" || b < a ? b : a }
  $2 == "CLOCK0" { n0++; o0 = min(o0, $1 - $3); if (h0 == "") h0 = $1 }
  $2 == "CLOCK1" { n1++; o1 = min(o1, $1 - $3); h1 = $1 }
  END {
    if (n0 != 8 || n1 != 8) { print "FAIL: the guest did not print its uptime 8 times at each end"; exit }
    h = h1 - h0; d = (o0 - o1) / h * 100
    printf "%s: over %.3f s of host time the guest clock moved %+.3f s against it (%+.3f%%)\n",
           (d < -1 || d > 1) ? "FAIL" : "ok", h, o0 - o1, d
  }' "$stamps")
echo "$verdict"
case "$verdict" in ok:*) ;; *) fail=1 ;; esac
grep -E "^(tsc|acpi_pm|pit|jiffies|hpet)\s*$|clocksource|tsc:|TSC|PM-Timer" "$out" |
  sed 's/^/  guest: /'
if [ -z "$append" ]; then
  check_pit_calibration
  check 'clocksource: Switched to clocksource tsc\s*$' "tsc as the clocksource"
  check '^tsc\s*$' "tsc still the clocksource after the minute"
  check 'clocksource: acpi_pm: mask' "the ACPI PM timer accepted as a clocksource"
  if grep -E "unstable|PM-Timer running at invalid rate" "$out"; then
    # (also the issue's "may be unstable")
    echo "FAIL: the kernel found the TSC or the PM timer unreliable (lines above)"
    fail=1
  fi
fi
if [ "$status" != 0 ]; then
  echo "FAIL: bt86 exited with $status (0 = ACPI power-off)"
  fail=1
fi
if [ "$fail" != 0 ]; then
  echo "---- guest console and bt86 output ----"
  cat "$out"
  exit 1
fi
