#!/bin/sh
# Runs inside the VM (busybox sh): the tests that need the host CPU in 32-bit compatibility
# mode, which scripts/test-in-vm.sh sends here when the real host cannot run them.
#   compat-suite.sh <build dir>
# Fails on the first failing part; a part that skips (compat mode missing here too) fails.
set -e
build=$1
cd "$build"
fail() { echo "compat-suite: FAILED: $*"; exit 1; }

gtest() {  # <binary> [gtest args...]: must pass with nothing skipped
  name=$1
  shift
  echo "== $name $*"
  "$name" "$@" > /tmp/gtest.out 2>&1 || { cat /tmp/gtest.out; fail "$name"; }
  if grep -q "SKIPPED \]" /tmp/gtest.out; then cat /tmp/gtest.out; fail "$name skipped tests"; fi
  grep -E "^\[  PASSED  \]" /tmp/gtest.out
}

gtest tests/de/de_tests
# The confined direct-execution process: i386 system calls (int 0x80) and host LDT selectors,
# which the PVM development host cannot run, come back as exit records here.
gtest tests/de/de_process_tests
# QEMU 7.2's TCG dies of a host SIGFPE on idiv of INT64_MIN by -1 (scripts/vm/README.md): the
# muldiv and exceptions classes (both divide INT_MIN by -1), and the self-test that runs every
# class natively, cannot run here.
gtest tests/diff/diff_native_tests --gtest_filter=-GeneratedCases.RunNativelyAsTheirClassExpects
gtest tests/diff/diff_tests --gtest_filter=-*muldiv*:*exceptions*

# The ring-3 guests with direct execution (paging, processes: under guest paging): every TAP
# check passes, and user code did run directly (the statistics count entries). Not fpu: the
# VM's CPU is QEMU's TCG, which raises no #XM (its ring-3 SSE checks would fail for QEMU's sake).
for g in usermode exceptions timer cpuid alu_user paging processes hostile_ring3 mmio descq fpu_irq13 debug; do
  echo "== guest $g"
  status=0
  ./bt86 run --kernel "guests/$g.elf" --stats > /tmp/$g.out 2> /tmp/$g.err || status=$?
  [ "$status" = 1 ] || { cat /tmp/$g.out /tmp/$g.err; fail "$g exited with $status"; }
  if grep -q "^not ok" /tmp/$g.out; then cat /tmp/$g.out; fail "$g: TAP failures"; fi
  entries=$(sed -n '/^direct execution/,/^time/s/^  entries \([0-9]*\)/\1/p' /tmp/$g.err)
  [ -n "$entries" ] && [ "$entries" -gt 0 ] || { cat /tmp/$g.err; fail "$g never ran directly"; }
  echo "ok: $g ($entries direct-execution entries)"
done
# One confined process per recently used address space: debench's cr3_switch row goes back
# and forth between two directories 5000 times; each directory's process keeps its window, so
# after the first visit a switch sends no window change at all (before: one per switch at least).
echo "== debench cr3_switch: switches send no window changes"
status=0
./bt86 run --kernel guests/debench.elf --append cr3_switch --stats=json --stats-file /tmp/cr3.json \
  > /tmp/cr3.out 2>&1 || status=$?
[ "$status" = 1 ] || { cat /tmp/cr3.out; fail "debench cr3_switch exited with $status"; }
switches=$(sed -n 's/.*"process_switches":\([0-9]*\).*/\1/p' /tmp/cr3.json)
processes=$(sed -n 's/.*"processes":\([0-9]*\).*/\1/p' /tmp/cr3.json)
sent=$(sed -n 's/.*"window":{[^}]*"sent":\([0-9]*\).*/\1/p' /tmp/cr3.json)
echo "process switches ${switches:-?}, processes ${processes:-?}, window changes sent ${sent:-?}"
[ -n "$switches" ] && [ "$switches" -ge 5000 ] && [ "$processes" -ge 2 ] && [ "$sent" -lt 100 ] ||
  { cat /tmp/cr3.json; fail "debench cr3_switch: window changes at every switch"; }
echo "ok: debench cr3_switch ($switches switches, $processes processes, $sent window changes)"
./guests/alu_native > /tmp/alu_native.out
cmp /tmp/alu_user.out /tmp/alu_native.out || fail "alu_user output differs from alu_native"
echo "ok: alu_user output matches alu_native"
# Ring 3 far-jumps to the host's 64-bit selector and spins there: the first timer tick must
# stop the VM with a security report (never a return into that code, never a crash or hang).
echo "== guest hostile_escape64"
status=0
./bt86 run --kernel guests/hostile_escape64.elf > /tmp/escape64.out 2>&1 || status=$?
[ "$status" = 4 ] || { cat /tmp/escape64.out; fail "hostile_escape64 exited with $status"; }
grep -q "security: guest user code ran as 64-bit host code" /tmp/escape64.out ||
  { cat /tmp/escape64.out; fail "hostile_escape64: no security report"; }
echo "ok: hostile_escape64 (security stop)"
# The same far jump, then a host system call through the stub's own syscall instruction: the
# confined process's filter kills it, the VM stops with a report, the canary never appears.
echo "== guest hostile_escape64_syscall"
rm -f /tmp/bt86-escape-canary
status=0
./bt86 run --kernel guests/hostile_escape64_syscall.elf > /tmp/escape64s.out 2>&1 || status=$?
[ "$status" = 4 ] || { cat /tmp/escape64s.out; fail "hostile_escape64_syscall exited with $status"; }
grep -q "security: direct-execution process killed by signal 31 (SIGSYS)" /tmp/escape64s.out ||
  { cat /tmp/escape64s.out; fail "hostile_escape64_syscall: no SIGSYS report"; }
[ ! -e /tmp/bt86-escape-canary ] || fail "hostile_escape64_syscall: the canary was created"
echo "ok: hostile_escape64_syscall (stub killed by its filter, canary absent)"
# The same far jump, then rt_sigreturn through the stub's own instruction with a frame that
# blocks every signal, then a 64-bit spin: the kicks go unanswered and bt86 ends the process.
echo "== guest hostile_escape64_blocked"
status=0
./bt86 run --kernel guests/hostile_escape64_blocked.elf > /tmp/escape64b.out 2>&1 || status=$?
[ "$status" = 4 ] || { cat /tmp/escape64b.out; fail "hostile_escape64_blocked exited with $status"; }
grep -q "security: direct-execution process ended by the monitor: it did not answer a kick" \
  /tmp/escape64b.out || { cat /tmp/escape64b.out; fail "hostile_escape64_blocked: no report"; }
echo "ok: hostile_escape64_blocked (unanswered kick: process ended)"
# Escapes that stay inside the process and turn on the guest kernel (no timer runs): by
# default (approvals on; --de-approve-maps says so explicitly), a mmap of a supervisor-only
# page's frame and an mprotect of its page through the stub's own syscall instruction wait for
# the monitor, which did not ask for them (with --no-de-approve-maps the mmap goes through:
# SECURITY.md); with --no-de-approve-maps, the mprotect finds nothing to unprotect (the
# process never holds a supervisor page) and the write faults in 64-bit mode;
# a forged exit record
# (an int 0x80 where ring 3 cannot run; the same with EFLAGS.IF clear) is refused. Each stops
# the VM with its own report before the guest kernel sees anything (it would exit 3).
inside() {  # <attack> <report> [bt86 options]
  echo "== guest hostile_escape64_inside $1 $3"
  status=0
  timeout 300 ./bt86 run --kernel guests/hostile_escape64_inside.elf --append "$1" $3 \
    > /tmp/inside.out 2>&1 || status=$?
  [ "$status" = 4 ] || { cat /tmp/inside.out; fail "hostile_escape64_inside $1 exited with $status"; }
  grep -q "security: $2" /tmp/inside.out ||
    { cat /tmp/inside.out; fail "hostile_escape64_inside $1: no report '$2'"; }
  echo "ok: hostile_escape64_inside $1 ($2)"
}
inside mmap "direct-execution process: a mapping call the monitor did not ask for: mmap(0x40000000"
inside mprotect "direct-execution process: a mapping call the monitor did not ask for: mprotect(0x40000000" \
  --de-approve-maps
inside mprotect "guest user code ran as 64-bit host code (a far transfer to the host's selector 0x33) in the direct-execution process; host signal 11 (trap 14)" \
  --no-de-approve-maps
inside forge "direct-execution process: impossible exit record (an i386 system call at 0x40000002"
inside forge_flags "direct-execution process: impossible register state for compatibility-mode code (EFLAGS without IF"
echo "compat-suite: all passed"
