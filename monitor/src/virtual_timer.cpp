#include "virtual_timer.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace monitor {

namespace {

timespec to_timespec(uint64_t ns) {
  return {time_t(ns / 1'000'000'000u), long(ns % 1'000'000'000u)};
}
}  // namespace

VirtualTimer::VirtualTimer(cpu::Vcpu& vcpu) {
  sigevent ev{};
  // SIGEV_THREAD_ID, not SIGEV_SIGNAL: a process-directed signal could land on another thread,
  // and only the vCPU thread can make its own translated code leave.
  ev.sigev_notify = SIGEV_THREAD_ID;
  ev.sigev_signo = kSignal;
  ev._sigev_un._tid = pid_t(syscall(SYS_gettid));
  if (timer_create(CLOCK_MONOTONIC, &ev, &timer_) != 0)
    throw std::system_error(errno, std::generic_category(), "timer_create");
  target_.store(&vcpu, std::memory_order_relaxed);
}

VirtualTimer::~VirtualTimer() {
  target_.store(nullptr, std::memory_order_relaxed);
  timer_delete(timer_);
}

void VirtualTimer::arm(uint64_t deadline_ns) {
  // 0 would disarm; the epoch of CLOCK_MONOTONIC is long past, so 1 ns fires at once all the same.
  set(deadline_ns ? deadline_ns : 1);
}

void VirtualTimer::disarm() {
  set(0);
}

void VirtualTimer::set(uint64_t deadline_ns) {
  itimerspec spec{};
  spec.it_value = to_timespec(deadline_ns);
  if (timer_settime(timer_, TIMER_ABSTIME, &spec, nullptr) != 0)
    throw std::system_error(errno, std::generic_category(), "timer_settime");
}

void VirtualTimer::on_tick() {
  ticks_.fetch_add(1, std::memory_order_relaxed);
  if (cpu::Vcpu* v = target_.load(std::memory_order_relaxed)) v->pending.async = 1;
}

}  // namespace monitor
