// One owner for the host signals every execution engine depends on (DESIGN §4.2).
//
// Translated code leaves through host signals (faults in the translation cache), and the
// monitor's asynchronous events arrive as signals (the virtual timer, Ctrl-C, SIGTERM), which
// also kick directly executed code out of its own process (DirectExec). A process can have only
// one handler per signal, so this module installs one trampoline for all of them and asks the
// registered claimers, in order, whose signal it is. The trampoline restores the host FS base
// before any C++ runs: a safeguard from when guest code ran in this process (nothing in the
// monitor's process loads guest selectors now).
#pragma once

#include <signal.h>
#include <ucontext.h>

#include <cstdint>

namespace hostexec::host_signals {

// Returns true if it handled the signal (it may have rewritten the context to resume elsewhere).
// Runs on the alternate signal stack, with the host FS base in place; must be async-signal-safe.
using Claimer = bool (*)(int sig, siginfo_t* si, ucontext_t* uc);
// Asynchronous signals: the callback records the event (stores bytes only); claimers then get a
// chance to cut the interrupted guest code short.
using AsyncCallback = void (*)(int sig);

// Sets up the alternate stack of the calling thread (the vCPU thread) and the synchronous fault
// signals (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS). Idempotent.
void init();

// Claimers are asked in registration order. Unclaimed synchronous signals get their default
// action (a crash with a core dump: a bug in the monitor, never a guest event).
void add_claimer(Claimer c);
void remove_claimer(Claimer c);

// Called (async-signal-safe code only) before an unclaimed synchronous signal kills the process,
// e.g. to restore the terminal.
void set_crash_hook(void (*hook)());

// Routes an asynchronous signal (SIGALRM, SIGINT, ...) through the trampoline; remove_async
// puts back what the signal did before (its handler, or the default action).
void add_async(int sig, AsyncCallback cb);
void remove_async(int sig);
// Whether `sig` is routed as an asynchronous signal (add_async).
bool is_async(int sig);

// Whether the host lets user code use rdfsbase/wrfsbase/rdgsbase/wrgsbase (Linux 5.9+ on a CPU
// with FSGSBASE). Without them, FS/GS bases are set with arch_prctl. Valid after init().
bool have_fsgsbase();

}  // namespace hostexec::host_signals
