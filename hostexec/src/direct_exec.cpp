// Direct execution: choosing host selectors, entering guest code in the confined
// direct-execution process (DeProcess), and turning each way back out into a guest event
// (DESIGN §4.2; trap costs in HOST-MECHANISMS §1; SECURITY.md).
#include "hostexec/direct_exec.h"

#include <Zydis/Zydis.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>

#include <atomic>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "de_context.h"
#include "de_segments.h"
#include "de_stub_abi.h"
#include "de_windows.h"
#include "hostexec/de_process.h"
#include "hostexec/host_compat.h"
#include "hostexec/host_signals.h"
#include "shadowmmu/address_space.h"
#include "shadowmmu/shadow.h"

namespace hostexec {

using namespace cpu;  // the architectural semantics this engine drives

namespace {
using de::DeContext;

// The process the one DirectExec enters next (one vCPU per monitor process).
std::atomic<DeProcess*> g_process{nullptr};
bool g_engine = false;

// The monitor's asynchronous signals (timer, Ctrl-C, SIGTERM) have recorded their event when
// this runs: interrupt guest code in the direct-execution process so the loop sees it.
bool kick_on_async(int sig, siginfo_t*, ucontext_t*) {
  DeProcess* p = g_process.load();
  if (p && host_signals::is_async(sig)) p->kick();
  return false;
}

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// TF too: guest code single-steps on the host CPU (each step a SIGTRAP, decode_trap), and a
// popf there may change it.
constexpr uint32_t kHostVisible = fl::ARITH | fl::DF | fl::TF;
// What guest code may change in EFLAGS without a trap (popf at CPL 3 with IOPL < 3); entry
// needs AC clear (eligible()), so it is only taken back at exits.
constexpr uint32_t kGuestWritable = kHostVisible | fl::AC;
}  // namespace

const char* de_reason_name(DeReason r) {
  static const char* names[] = {"syscall (int 0x80)",
                                "int n",
                                "int3",
                                "into",
                                "#DB",
                                "#DE",
                                "#UD",
                                "#GP to guest",
                                "sensitive insn -> BT",
                                "#SS",
                                "FPU error",
                                "#BR (bound)",
                                "#AC / AC with CR0.AM clear",
                                "segment fix-up",
                                "code page scan",
                                "write to DE code page",
                                "memory fault",
                                "async (timer/kick)",
                                "64-bit escape",
                                "other"};
  static_assert(std::size(names) == size_t(DeReason::kCount));
  return names[size_t(r)];
}

std::string DeStats::report() const {
  std::string s = fmt::format("direct execution\n  entries {}\n  time in guest {:.3f} s\n", entries,
                              double(ns_in_guest) / 1e9);
  s += fmt::format("  LDT alias writes {}\n", ldt_writes);
  s += fmt::format(
      "  processes {} (one per recent guest address space; {} taken over for another), "
      "switches between them {}\n",
      processes, processes_taken_over, process_switches);
  s += fmt::format(
      "  window changes mirrored {} ({} sent, the rest superseded or already there; in {} "
      "commands)\n  window differences sent at switches between processes {}\n"
      "  windows dropped at a process's mapping limit {}\n"
      "  kept from the process (ring 3 may not use them): maps {} (sent as unmaps), "
      "protections {}\n"
      "  exits by reason\n",
      window_changes, window_sent, window_commands, window_diffs, window_full, window_maps_withheld,
      window_protects_dropped);
  for (size_t i = 0; i < size_t(DeReason::kCount); ++i)
    if (exits[i]) s += fmt::format("    {:<24} {}\n", de_reason_name(DeReason(i)), exits[i]);
  return s;
}

struct DirectExec::Impl {
  Impl(Cpu& c, shadowmmu::AddressSpace& a, bool approve_maps)
      : cpu(c), v(c.vcpu()), as(a), windows(a.ram_fd(), approve_maps, &v.pending.any) {
    ZydisDecoderInit(&decoder, ZYDIS_MACHINE_MODE_LEGACY_32, ZYDIS_STACK_WIDTH_32);
    std::memset(&ctx, 0, sizeof ctx);
  }

  Exit run();
  // One entry into the current process and its exit (the pieces of enter() follow it).
  Exit enter();
  std::optional<Exit> load_aliases(de::DeStub& stub);
  DeProcess::Regs entry_regs() const;
  void record_exit(const DeProcess::Exit& x, const DeProcess::Regs& r);
  std::optional<Exit> take_back(const DeProcess::Exit& x, const DeProcess::Regs& r,
                                const uint8_t (&fpu)[512]);
  std::optional<Exit> exit_for_kind();
  Exit decode_trap();
  Exit forged(const std::string& what);
  std::optional<Exit> refuse_impossible();
  bool fetched_at_eip();
  Exit alignment_check();
  bool reconcile_selectors(Exit& x);
  Exit deliver(DeReason r, const Fault& f);
  Exit software_int(DeReason r, uint8_t vector, uint32_t insn_eip, uint32_t next_eip);
  bool sensitive(uint32_t eip);
  de::DeStub& choose_process();
  Exit count(DeReason r, Exit x) {
    stats.exits[size_t(r)]++;
    return x;
  }

  Cpu& cpu;
  Vcpu& v;
  shadowmmu::AddressSpace& as;
  ZydisDecoder decoder;
  de::DeWindows windows;                      // the processes and their windows
  const shadowmmu::Shadow* shadow = nullptr;  // guest paging: one process per address space
  uint64_t cr3_writes_seen = 0;               // the shadow's count at the last entry
  std::function<void()> resync;
  DeContext ctx;
  DeStats stats;
};

DirectExec::DirectExec(Cpu& c, shadowmmu::AddressSpace& as, bool approve_maps) {
  if (g_engine) throw std::logic_error("only one direct-execution engine per process");
  std::string why;
  if (!compat_mode_available(&why)) throw std::runtime_error(why);
  if (c.vcpu().paging())
    throw std::logic_error("direct execution must be set up while guest paging is off");
  impl_ = std::make_unique<Impl>(c, as, approve_maps);
  host_signals::init();
  // The process starts with an empty window: from now on it sees every change of a page ring 3
  // may use, beginning with the whole identity window again (paging is off).
  as.set_window_sink(&impl_->windows.sink());
  try {
    as.unmap_window();
    as.map_identity();
  } catch (...) {
    as.set_window_sink(nullptr);
    throw;
  }
  g_engine = true;
  g_process = &impl_->windows.stubs().current().process;
  host_signals::add_claimer(kick_on_async);
}

DirectExec::~DirectExec() {
  host_signals::remove_claimer(kick_on_async);
  g_process = nullptr;
  g_engine = false;
  impl_->as.set_window_sink(nullptr);
}

void DirectExec::set_window_resync(std::function<void()> drop_window) {
  impl_->resync = std::move(drop_window);
}

void DirectExec::set_shadow(const shadowmmu::Shadow* shadow) {
  impl_->shadow = shadow;
}

const DeStats& DirectExec::stats() const {
  Impl& i = *impl_;
  de::DeStubs& stubs = i.windows.stubs();
  const de::DeWindows::Stats& w = i.windows.stats();
  i.stats.ldt_writes = stubs.ldt_writes();
  i.stats.processes = stubs.started();
  i.stats.processes_taken_over = stubs.taken_over();
  i.stats.process_switches = w.switches;
  i.stats.window_changes = w.changes;
  i.stats.window_sent = w.sent;
  i.stats.window_commands = w.commands;
  i.stats.window_diffs = w.diffs;
  i.stats.window_full = w.full;
  i.stats.window_maps_withheld = i.windows.ring3().maps_withheld();
  i.stats.window_protects_dropped = i.windows.ring3().protects_dropped();
  return impl_->stats;
}

bool DirectExec::eligible(const char** why) const {
  auto no = [&](const char* w) {
    if (why) *why = w;
    return false;
  };
  const Vcpu& v = impl_->v;
  if (v.cpl != 3) return no("CPL is not 3");
  if (!v.protected_mode()) return no("real mode");
  if (v.eflags & fl::VM) return no("virtual-8086 mode");
  if (!v.if_flag) return no("virtual IF = 0");
  // With IOPL 3 the guest may change IF with cli/sti/popf, which the host would not show us.
  if ((v.eflags & fl::IOPL) == fl::IOPL) return no("IOPL 3");
  if (v.eflags & fl::AC) return no("AC set");
  if (v.irq_shadow) return no("interrupt shadow");
  // The host runs guest FPU instructions and rdtsc without asking: where the guest wants them
  // to fault (#NM for lazy FPU switching, #GP for CR4.TSD) or to read an offset TSC, translate.
  if (v.cr0 & (cr0::TS | cr0::EM)) return no("CR0.TS or CR0.EM set");
  if (v.cr4 & cr4::TSD) return no("CR4.TSD set");
  if (v.tsc_offset != 0) return no("guest TSC offset");
  for (Seg s : {CS, SS, DS, ES, FS, GS})
    if (!de::HostSegments::mirrorable(s, v.seg[s], why)) return false;
  return true;
}

DirectExec::Exit DirectExec::run() {
  return impl_->run();
}

// The process to enter: under guest paging, the one of the current address space. A CR3 write
// since the last entry (even of the same value: the shadow has taken up that space's pages
// afresh) makes it get the difference between its window and what the shadow says it should
// hold. A queue grown too long is replaced by dropping the whole window (the shadow refills it).
de::DeStub& DirectExec::Impl::choose_process() {
  auto drop_window = [&] {
    if (v.paging()) {
      if (!resync) throw std::runtime_error("direct execution: no way to drop the window");
      resync();
    } else {
      as.unmap_window();
      as.map_identity();
    }
  };
  if (windows.needs_resync()) drop_window();
  const uint32_t space = v.paging() && shadow ? v.cr3 & ~0xfffu : de::DeStubs::kNoPaging;
  const uint64_t cr3_writes = shadow ? shadow->stats().cr3_switches : 0;
  const bool cr3_written = cr3_writes != cr3_writes_seen;
  cr3_writes_seen = cr3_writes;
  de::DeStub& s = windows.prepare(
      space, cr3_written, [&] { return shadow->ring3_pages(); }, drop_window);
  g_process = &s.process;
  return s;
}

DirectExec::Exit DirectExec::Impl::run() {
  try {
    return enter();
  } catch (const DeProcess::Died& d) {
    return count(DeReason::Escape,
                 Exit{Exit::Kind::Escape, 0, false,
                      std::string(d.what()) + "; guest user code ran there as host code"});
  } catch (const DeProcess::Hostile& h) {
    return count(DeReason::Escape, Exit{Exit::Kind::Escape, 0, false, h.what()});
  } catch (const std::runtime_error& e) {  // a window change or LDT entry the host refused
    return count(DeReason::Other, Exit{Exit::Kind::Unsupported, 0, false, e.what()});
  }
}

namespace {
// A genuine fxsave never sets MXCSR's reserved bits; an image with them would fault the
// monitor's own fxrstor.
bool valid_fxsave(const uint8_t* image) {
  static const uint32_t mask = [] {
    alignas(16) uint8_t area[512] = {};
    asm volatile("fxsave %0" : "=m"(area));
    uint32_t m;
    std::memcpy(&m, area + 28, 4);
    return m ? m : 0xffbfu;
  }();
  uint32_t mxcsr;
  std::memcpy(&mxcsr, image + 24, 4);
  return (mxcsr & ~mask) == 0;
}
}  // namespace

// The host selectors (LDT aliases of the guest's descriptors) for CS, SS, DS, ES, FS, GS in
// ctx.sel; an Unsupported exit if one has none.
std::optional<DirectExec::Exit> DirectExec::Impl::load_aliases(de::DeStub& stub) {
  const char* why = nullptr;
  static constexpr Seg kOrder[6] = {CS, SS, DS, ES, FS, GS};
  for (int i = 0; i < 6; ++i) {
    auto sel = stub.segs.alias(kOrder[i], v.seg[kOrder[i]], &why);
    if (!sel) return count(DeReason::Other, Exit{Exit::Kind::Unsupported, 0, false, why});
    ctx.sel[i] = *sel;
  }
  return std::nullopt;
}

DeProcess::Regs DirectExec::Impl::entry_regs() const {
  DeProcess::Regs r;
  for (int i = 0; i < 8; ++i) r.gpr[i] = v.gpr[i];
  r.rip = v.eip;
  r.rflags = (v.eflags & kHostVisible) | fl::IF | fl::FIXED1;
  r.cs = ctx.sel[0];
  r.ss = ctx.sel[1];
  r.ds = ctx.sel[2];
  r.es = ctx.sel[3];
  r.fs = ctx.sel[4];
  r.gs = ctx.sel[5];
  return r;
}

// How the process came back, in ctx; escaped 64-bit code is recognised by its CS.
void DirectExec::Impl::record_exit(const DeProcess::Exit& x, const DeProcess::Regs& r) {
  ctx.kind = x.kind == DeProcess::Exit::Kind::Trap         ? de::kTrap
             : x.kind == DeProcess::Exit::Kind::Kick       ? de::kAsync
             : x.kind == DeProcess::Exit::Kind::EntryFault ? de::kEntryFault
                                                           : de::kBailed;
  ctx.signo = x.signo;
  ctx.trapno = x.trapno;
  ctx.err = x.err;
  ctx.addr = x.addr;
  ctx.si_code = x.code;
  if ((ctx.kind == de::kTrap || ctx.kind == de::kAsync) && r.cs == DE_HOST_CS64) {
    ctx.kind = de::kEscaped;  // never taken back into the vCPU
    ctx.escaped_rip = r.rip;
  }
}

// The registers and FPU image compatibility-mode code left go back into the vCPU (only the
// EFLAGS bits ring 3 may change); an Escape exit for an FPU image no CPU writes.
std::optional<DirectExec::Exit> DirectExec::Impl::take_back(const DeProcess::Exit& x,
                                                            const DeProcess::Regs& r,
                                                            const uint8_t (&fpu)[512]) {
  if (!valid_fxsave(fpu))
    return count(DeReason::Escape,
                 Exit{Exit::Kind::Escape, 0, false,
                      "the direct-execution process returned an FPU image no CPU writes"});
  std::memcpy(v.fpu, fpu, sizeof fpu);
  for (int i = 0; i < 8; ++i) v.gpr[i] = uint32_t(r.gpr[i]);
  v.eip = ctx.eip = uint32_t(r.rip);
  v.eflags = (v.eflags & ~kGuestWritable) | (uint32_t(r.rflags) & kGuestWritable);
  ctx.out_cs = r.cs;
  ctx.out_ss = r.ss;
  ctx.out_sel[0] = r.ds;
  ctx.out_sel[1] = r.es;
  ctx.out_sel[2] = r.fs;
  ctx.out_sel[3] = r.gs;
  // The kernel has replaced EAX by -ENOSYS; the call number is the guest's EAX.
  if (x.signo == SIGSYS) v.gpr[EAX] = uint32_t(x.syscall_nr);
  return std::nullopt;
}

// The exits decided by the kind alone (a kick seen before entry, escaped code, an entry that
// faulted) and a compat-mode sysenter/syscall; nullopt for a trap or kick to look into.
std::optional<DirectExec::Exit> DirectExec::Impl::exit_for_kind() {
  switch (ctx.kind) {
    case de::kBailed:
      return count(DeReason::Async, Exit{Exit::Kind::Event});
    case de::kEscaped:
      return count(DeReason::Escape,
                   Exit{Exit::Kind::Escape, 0, false,
                        fmt::format("guest user code ran as 64-bit host code (a far transfer to "
                                    "the host's selector {:#x}) in the direct-execution "
                                    "process; host signal {} (trap {}) at rip {:#x} ended it",
                                    DE_HOST_CS64, ctx.signo, ctx.trapno, ctx.escaped_rip)});
    case de::kEntryFault:
      throw std::logic_error(fmt::format(
          "entering direct execution faulted (signal {}, trap {}, error {:#x}; selectors cs {:#x} "
          "ss {:#x} ds {:#x} es {:#x} fs {:#x} gs {:#x})",
          ctx.signo, ctx.trapno, ctx.err, ctx.sel[0], ctx.sel[1], ctx.sel[2], ctx.sel[3],
          ctx.sel[4], ctx.sel[5]));
    default:
      break;
  }
  // Linux returns a compat sysenter or syscall through the 32-bit vDSO's landing pad (which
  // the stub does not have), with the guest's EIP, ECX and EBP gone.
  if (ctx.kind == de::kTrap && ctx.signo == SIGSYS && (ctx.addr >> 32))
    return count(DeReason::Other,
                 Exit{Exit::Kind::Unsupported, 0, false,
                      "guest user code ran syscall or sysenter, whose return address the host "
                      "kernel loses in compatibility mode (bt86's CPUID offers neither)"});
  return std::nullopt;
}

DirectExec::Exit DirectExec::Impl::enter() {
  de::DeStub& stub = choose_process();
  if (auto x = load_aliases(stub)) return *x;
  DeProcess::Regs r = entry_regs();
  // The guest's x87/SSE state is the vCPU's (one state for both engines and the monitor).
  alignas(16) uint8_t fpu[512];
  std::memcpy(fpu, v.fpu, sizeof fpu);

  stats.entries++;
  const uint64_t t0 = now_ns();
  const DeProcess::Exit x = stub.process.enter(r, fpu);
  stats.ns_in_guest += now_ns() - t0;

  record_exit(x, r);
  if (ctx.kind == de::kTrap || ctx.kind == de::kAsync)
    if (auto out = take_back(x, r, fpu)) return *out;
  if (auto out = exit_for_kind()) return *out;
  // A record code took over the stub wrote must not reach the guest, not even as the fault a
  // selector fix-up would raise (checked here where CS is still the one entered).
  if (ctx.kind == de::kTrap && ctx.out_cs == ctx.sel[0])
    if (auto out = refuse_impossible()) return *out;
  Exit out;
  if (reconcile_selectors(out)) return out;
  if (ctx.kind == de::kAsync) return count(DeReason::Async, Exit{Exit::Kind::Event});
  out = decode_trap();
  // The process faulted at a page: whatever the monitor maps there next must reach it, even if
  // its model says the process holds that already (code that escaped there may have unmapped
  // or reprotected the page; otherwise the fill would be left out and the fault repeat).
  if (out.kind == Exit::Kind::CodeFetch || out.kind == Exit::Kind::CodeWrite ||
      out.kind == Exit::Kind::MemoryFault)
    stub.model.doubt(out.address);
  return out;
}

// Guest code may load a selector the host GDT accepts silently (HOST-MECHANISMS §4: 0x23, 0x2b,
// 0x33, 0x7b, or an alias slot), into a data register, SS, or CS by a far transfer. Its value is
// still in the host register: load the guest's own descriptor for it now, so the next entry mirrors
// what the guest asked for. Returns true when that produced the exit (a fault, or a retry of the
// instruction that tripped on the host descriptor).
bool DirectExec::Impl::reconcile_selectors(Exit& x) {
  auto fault = [&](const Fault& f) {
    // The guest's load should have faulted; we learn it only now, so the fault reports the
    // current instruction rather than the load (documented imprecision).
    cpu.raise(f);
    x = Exit{Exit::Kind::Continue};
    return true;
  };
  bool changed = false;
  // A far transfer to a host code selector (0x23: the host's flat 32-bit code) continues with
  // the host's descriptor: give CS what the guest's descriptor says, at the current EIP.
  if (ctx.out_cs != ctx.sel[0]) {
    changed = true;
    stats.exits[size_t(DeReason::SegmentFixup)]++;
    if (auto f = cpu.far_jump(ctx.out_cs, v.eip)) return fault(*f);
  }
  if (ctx.out_ss && ctx.out_ss != ctx.sel[1]) {
    changed = true;
    stats.exits[size_t(DeReason::SegmentFixup)]++;
    if (auto f = cpu.load_segment(SS, ctx.out_ss)) return fault(*f);
  }
  static constexpr Seg kData[4] = {DS, ES, FS, GS};
  for (int i = 0; i < 4; ++i) {
    if (ctx.out_sel[i] == ctx.sel[2 + i]) continue;
    changed = true;
    stats.exits[size_t(DeReason::SegmentFixup)]++;
    if (auto f = cpu.load_segment(kData[i], ctx.out_sel[i])) return fault(*f);
  }
  if (!changed) return false;
  // A synchronous trap may have come from the host descriptor: run the instruction again
  // under the guest's. Asynchronous exits just go on.
  if (ctx.kind == de::kTrap && ctx.signo != SIGSYS && ctx.signo != SIGTRAP) {
    x = Exit{Exit::Kind::Continue};
    return true;
  }
  return false;
}

DirectExec::Exit DirectExec::Impl::deliver(DeReason r, const Fault& f) {
  cpu.raise(f);
  return count(r, Exit{Exit::Kind::Continue});
}

DirectExec::Exit DirectExec::Impl::software_int(DeReason r, uint8_t vector, uint32_t insn_eip,
                                                uint32_t next_eip) {
  v.eip = insn_eip;  // a fault while delivering reports the int instruction
  cpu.software_interrupt(vector, next_eip, true);
  return count(r, Exit{Exit::Kind::Continue});
}

// Whether the instruction at EIP is one the host refuses at CPL 3 but the guest may allow
// (I/O with a TSS bitmap) or must see emulated (segment loads, far transfers, system
// instructions): those run through the translator, which implements them all.
bool DirectExec::Impl::sensitive(uint32_t eip) {
  uint8_t bytes[ZYDIS_MAX_INSTRUCTION_LENGTH];
  const uint32_t linear = v.seg[CS].base + eip;
  if (cpu.memory().read(linear, bytes, sizeof bytes, Memory::Mode::User)) return true;
  ZydisDecodedInstruction in;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&decoder, bytes, sizeof bytes, &in, ops))) return false;
  if (in.attributes & ZYDIS_ATTRIB_IS_PRIVILEGED) return true;
  if (in.meta.branch_type == ZYDIS_BRANCH_TYPE_FAR) return true;
  switch (in.mnemonic) {
    case ZYDIS_MNEMONIC_IN:
    case ZYDIS_MNEMONIC_OUT:
    case ZYDIS_MNEMONIC_INSB:
    case ZYDIS_MNEMONIC_INSW:
    case ZYDIS_MNEMONIC_INSD:
    case ZYDIS_MNEMONIC_OUTSB:
    case ZYDIS_MNEMONIC_OUTSW:
    case ZYDIS_MNEMONIC_OUTSD:
    case ZYDIS_MNEMONIC_CLI:
    case ZYDIS_MNEMONIC_STI:
    case ZYDIS_MNEMONIC_IRETD:
    case ZYDIS_MNEMONIC_IRET:
    case ZYDIS_MNEMONIC_RDTSC:
    case ZYDIS_MNEMONIC_RDPMC:
    case ZYDIS_MNEMONIC_LDS:
    case ZYDIS_MNEMONIC_LES:
    case ZYDIS_MNEMONIC_LFS:
    case ZYDIS_MNEMONIC_LGS:
    case ZYDIS_MNEMONIC_LSS:
    case ZYDIS_MNEMONIC_LGDT:
    case ZYDIS_MNEMONIC_LIDT:
    case ZYDIS_MNEMONIC_LLDT:
    case ZYDIS_MNEMONIC_LTR:
    case ZYDIS_MNEMONIC_LMSW:
    case ZYDIS_MNEMONIC_CLTS:
    case ZYDIS_MNEMONIC_HLT:
    case ZYDIS_MNEMONIC_INVLPG:
    case ZYDIS_MNEMONIC_INVD:
    case ZYDIS_MNEMONIC_WBINVD:
    case ZYDIS_MNEMONIC_RDMSR:
    case ZYDIS_MNEMONIC_WRMSR:
      return true;
    default:
      break;
  }
  for (unsigned i = 0; i < in.operand_count; ++i)
    if (ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER &&
        (ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE) &&
        ZydisRegisterGetClass(ops[i].reg.value) == ZYDIS_REGCLASS_SEGMENT)
      return true;
  return false;
}

// The host's CR0.AM is set, so user code that sets EFLAGS.AC (popf) gets the host's #AC on an
// unaligned access. The guest gets #AC(0) only if its own CR0.AM allows; otherwise the
// translator runs the access (it keeps AC virtual, and direct execution waits for AC clear).
DirectExec::Exit DirectExec::Impl::alignment_check() {
  if ((v.cr0 & cr0::AM) && (v.eflags & fl::AC) && v.cpl == 3)
    return deliver(DeReason::Alignment, Fault{kAC, true, 0});
  return count(DeReason::Alignment, Exit{Exit::Kind::Translate});
}

// An exit record that no code running in compatibility mode can produce: code in the
// direct-execution process took it over (a far transfer to the host's 64-bit selector) and
// wrote it. The VM stops; nothing of the record reaches the guest.
DirectExec::Exit DirectExec::Impl::forged(const std::string& what) {
  return count(DeReason::Escape, Exit{Exit::Kind::Escape, 0, false,
                                      "direct-execution process: impossible exit record (" + what +
                                          "): code running in it has taken it over"});
}

// The instruction a fault reports at EIP was fetched, so ring 3 may read it under the guest's
// tables. Not checked: #GP (a fetch beyond the CS limit reports EIP there), instruction-fetch
// #PF (checked by its address), traps (EIP is past the instruction; int n, int3 and into are
// checked by their bytes, a single-step trap may follow a jump to a page not mapped).
bool DirectExec::Impl::fetched_at_eip() {
  const bool fault = (ctx.signo == SIGSEGV && ctx.trapno != 4 && ctx.trapno != 13 &&
                      !(ctx.trapno == 14 && (ctx.err & 0x10))) ||
                     ctx.signo == SIGILL || ctx.signo == SIGBUS || (ctx.signo == SIGFPE);
  if (!fault) return true;
  uint8_t b;
  return !cpu.memory().read(v.seg[CS].base + ctx.eip, &b, 1, Memory::Mode::User);
}

// The checks of a trap record against the guest's memory (the decoding below repeats the ones
// it needs when CS changed on the way).
std::optional<DirectExec::Exit> DirectExec::Impl::refuse_impossible() {
  const uint32_t eip = ctx.eip, lin = v.seg[CS].base + eip;
  const auto err = uint32_t(ctx.err);
  if (!fetched_at_eip())
    return forged(fmt::format("signal {} (trap {}) at {:#010x}, where ring 3 cannot read",
                              ctx.signo, ctx.trapno, eip));
  uint8_t b[2] = {};
  if (ctx.signo == SIGSYS) {
    const bool readable = !cpu.memory().read(lin - 2, b, 2, Memory::Mode::User);
    if (!readable || !(b[0] == 0xcd || (b[0] == 0x0f && (b[1] == 0x05 || b[1] == 0x34))))
      return forged(fmt::format(
          "an i386 system call at {:#010x} without int, syscall or sysenter before it", eip));
  }
  if (ctx.signo == SIGSEGV && ctx.trapno == 13 && (err & 2) &&
      (cpu.memory().read(lin, b, 1, Memory::Mode::User) || b[0] != 0xcd))
    return forged(
        fmt::format("#GP with a gate error code {:#x} at {:#010x}, not at an int n", err, eip));
  if (ctx.signo == SIGSEGV && ctx.trapno == 14 && (err & 0x10) && uint32_t(ctx.addr) - lin >= 15)
    return forged(fmt::format("an instruction-fetch #PF at {:#010x} with EIP {:#010x}",
                              uint32_t(ctx.addr), eip));
  return std::nullopt;
}

DirectExec::Exit DirectExec::Impl::decode_trap() {
  const uint32_t eip = ctx.eip;
  const auto err = uint32_t(ctx.err);
  if (!fetched_at_eip())
    return forged(fmt::format("signal {} (trap {}) at {:#010x}, where ring 3 cannot read",
                              ctx.signo, ctx.trapno, eip));
  switch (ctx.signo) {
    case SIGSYS: {
      // int 0x80 leaves EIP after the instruction. A compat-mode syscall/sysenter also lands
      // here; neither exists on bt86's virtual CPU (SEP and SYSCALL are not in its CPUID).
      // Anything else before EIP (or nothing ring 3 may read) is a record no code can cause.
      uint8_t b[2] = {};
      const bool readable = !cpu.memory().read(v.seg[CS].base + eip - 2, b, 2, Memory::Mode::User);
      if (readable && b[0] == 0xcd) return software_int(DeReason::Syscall, b[1], eip - 2, eip);
      if (!readable || b[0] != 0x0f || (b[1] != 0x05 && b[1] != 0x34))
        return forged(
            fmt::format("an i386 system call at {:#010x} without int, syscall or "
                        "sysenter before it",
                        eip));
      v.eip = eip - 2;
      return deliver(DeReason::InvalidOpcode, Fault::ud());
    }
    case SIGTRAP:
      if (ctx.trapno == 3) {
        uint8_t b = 0;
        cpu.memory().read(v.seg[CS].base + eip - 1, &b, 1, Memory::Mode::User);
        return software_int(DeReason::Breakpoint, 3, b == 0xcc ? eip - 1 : eip - 2, eip);
      }
      {
        // A trap: the frame holds the next EIP. Single-step (EFLAGS.TF on the host CPU) is
        // TRAP_TRACE and sets DR6.BS; int1 (icebp) sets no DR6 bit.
        Fault db{kDB};
        if (ctx.si_code == TRAP_TRACE) db.dr6 = dr6::BS;
        return deliver(DeReason::Debug, db);
      }
    case SIGFPE:
      if (ctx.trapno == 0) return deliver(DeReason::Divide, Fault{kDE});
      if (ctx.trapno == 19) return deliver(DeReason::FpuError, Fault{19});
      cpu.x87_error();  // #MF, or FERR# with CR0.NE = 0
      return count(DeReason::FpuError, Exit{Exit::Kind::Continue});
    case SIGILL:
      return deliver(DeReason::InvalidOpcode, Fault::ud());
    case SIGBUS:
      if (ctx.trapno == 17) return alignment_check();
      return count(DeReason::MemoryFault,
                   Exit{Exit::Kind::MemoryFault, uint32_t(ctx.addr), (err & 2) != 0});
    case SIGSEGV:
      break;
    default:
      return count(DeReason::Other, Exit{Exit::Kind::Unsupported, 0, false,
                                         fmt::format("host signal {} from guest code", ctx.signo)});
  }
  switch (ctx.trapno) {
    case 4: {  // into, or int 4: a trap, EIP is past it
      uint8_t b = 0;
      cpu.memory().read(v.seg[CS].base + eip - 1, &b, 1, Memory::Mode::User);
      return software_int(DeReason::Overflow, 4, b == 0xce ? eip - 1 : eip - 2, eip);
    }
    case 5:  // bound: a fault, EIP is the instruction
      return deliver(DeReason::Bound, Fault{kBR});
    case 12:
      return deliver(DeReason::StackFault, Fault{kSS, true, err});
    case 13:
      // An IDT error code: `int n` through a gate the host keeps at DPL 0. The vector comes
      // from the instruction (CD ib), not the error code, which some CPUs get wrong (QEMU 7.2
      // TCG reports n*16+2).
      if (err & 2) {  // only int n refers to a gate from ring 3 (int3/into gates are DPL 3)
        uint8_t b[2] = {};
        cpu.memory().read(v.seg[CS].base + eip, b, 2, Memory::Mode::User);
        if (b[0] == 0xcd) return software_int(DeReason::SoftInt, b[1], eip, eip + 2);
        return forged(
            fmt::format("#GP with a gate error code {:#x} at {:#010x}, not at an int n", err, eip));
      }
      if (sensitive(eip)) return count(DeReason::Sensitive, Exit{Exit::Kind::Translate});
      return deliver(DeReason::Protection, Fault::gp(err));
    case 14: {
      const auto addr = uint32_t(ctx.addr);
      const bool write = err & 2;
      // A fetch faults at the instruction's first byte, or at the next page it runs into.
      if ((err & 0x10) && addr - (v.seg[CS].base + eip) >= 15)
        return forged(
            fmt::format("an instruction-fetch #PF at {:#010x} with EIP {:#010x}", addr, eip));
      if (ctx.si_code == SEGV_ACCERR && (err & 0x10))
        return count(DeReason::CodeFetch, Exit{Exit::Kind::CodeFetch, addr});
      if (ctx.si_code == SEGV_ACCERR && write)
        return count(DeReason::CodeWrite, Exit{Exit::Kind::CodeWrite, addr, true});
      return count(DeReason::MemoryFault, Exit{Exit::Kind::MemoryFault, addr, write});
    }
    default:
      return count(DeReason::Other,
                   Exit{Exit::Kind::Unsupported, 0, false,
                        fmt::format("host trap {} (error {:#x}) from guest code at {:#010x}",
                                    ctx.trapno, err, eip)});
  }
}

}  // namespace hostexec
