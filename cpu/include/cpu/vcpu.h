// The virtual CPU state: everything the guest can observe of the processor.
//
// The first part of Vcpu is read and written by translated code at fixed offsets (bt/ emits
// [r15 + offsetof(...)] operands), so it is plain data, and its hot fields sit in the first
// 128 bytes for short displacements.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace cpu {

enum Reg : uint8_t { EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI };
enum Seg : uint8_t { ES, CS, SS, DS, FS, GS };  // x86 encoding order

// EFLAGS bits.
namespace fl {
inline constexpr uint32_t CF = 1u << 0, PF = 1u << 2, AF = 1u << 4, ZF = 1u << 6, SF = 1u << 7,
                          TF = 1u << 8, IF = 1u << 9, DF = 1u << 10, OF = 1u << 11, IOPL = 3u << 12,
                          NT = 1u << 14, RF = 1u << 16, VM = 1u << 17, AC = 1u << 18,
                          VIF = 1u << 19, VIP = 1u << 20, ID = 1u << 21;
inline constexpr uint32_t ARITH = CF | PF | AF | ZF | SF | OF;
// The bits that live in host RFLAGS while translated code runs.
inline constexpr uint32_t IN_HOST = ARITH | DF;
inline constexpr uint32_t FIXED1 = 1u << 1;
}  // namespace fl

namespace cr0 {
inline constexpr uint32_t PE = 1u << 0, MP = 1u << 1, EM = 1u << 2, TS = 1u << 3, ET = 1u << 4,
                          NE = 1u << 5, WP = 1u << 16, AM = 1u << 18, NW = 1u << 29, CD = 1u << 30,
                          PG = 1u << 31;
}
// DR6 status and DR7 control bits (SDM Vol. 3 §17.2), with the P6's fixed bits.
namespace dr6 {
inline constexpr uint32_t B0_3 = 0xf, BD = 1u << 13, BS = 1u << 14, BT = 1u << 15;
inline constexpr uint32_t FIXED1 = 0xffff0ff0u;  // bits 4-11 and 16-31 read as 1; bit 12 as 0
}  // namespace dr6
namespace dr7 {
inline constexpr uint32_t ENABLES = 0xffu, GD = 1u << 13, FIXED1 = 1u << 10;
inline constexpr uint32_t WRITABLE = 0xffff23ffu;  // bits 11, 12, 14, 15 read as 0
}  // namespace dr7
namespace cr4 {
inline constexpr uint32_t VME = 1u << 0, PVI = 1u << 1, TSD = 1u << 2, DE = 1u << 3, PSE = 1u << 4,
                          PAE = 1u << 5, MCE = 1u << 6, PGE = 1u << 7, PCE = 1u << 8,
                          OSFXSR = 1u << 9, OSXMMEXCPT = 1u << 10;
}

// A segment register with its hidden descriptor cache.
struct Segment {
  uint16_t sel = 0;
  uint32_t base = 0;
  uint32_t limit = 0;  // byte granular, already scaled by G
  // Access rights as in descriptor bits 40..55 (type:4, S, DPL:2, P, [limit 16..19], AVL, L, D/B,
  // G).
  uint16_t attr = 0;

  uint8_t type() const { return attr & 0xf; }
  bool s() const { return attr & 0x10; }
  uint8_t dpl() const { return (attr >> 5) & 3; }
  bool present() const { return attr & 0x80; }
  bool db() const { return attr & 0x4000; }
  bool gran() const { return attr & 0x8000; }
  bool is_code() const { return s() && (type() & 8); }
};

// Attribute values for the segments the multiboot spec and a reset leave behind.
// No 32-bit segment base zero-extended is this: Vcpu::host_gs_base when nothing is known.
inline constexpr uint64_t kHostGsBaseUnknown = ~0ull;
inline constexpr uint16_t kAttrCode32 = 0xC09B;  // present, DPL0, code exec/read accessed, D, G
inline constexpr uint16_t kAttrData32 = 0xC093;  // present, DPL0, data read/write accessed, B, G

struct DescTable {
  uint32_t base = 0;
  uint16_t limit = 0;
};

// Why translated code handed control back to the monitor.
enum class Exit : uint32_t {
  None = 0,
  Chain,    // a direct branch whose target is not linked yet (eip = target, exit_info = rel32 site)
  Lookup,   // an indirect branch missed the jump cache (eip = target)
  Pending,  // the pending-event word was set at a translation-unit entry (eip = TU start)
  Callout,  // a callout asked to leave translated code (it recorded why)
  Fault,    // a host signal in translated code (the signal handler recorded what)
  Static,   // an exit decided at translation time (exit_info = index of its record)
};

// Pending-event word: translated code exits at the next translation-unit entry when it is
// non-zero. Kept as two bytes so cli/sti can update the interrupt half with plain stores.
union PendingWord {
  uint16_t any;
  struct {
    uint8_t async;  // set by signal handlers (timer tick, Ctrl-C) and the monitor
    uint8_t irq;    // = interrupt line raised AND virtual IF set
  };
};

struct alignas(64) Vcpu {
  // ---- fields translated code touches (keep first, keep small) ----
  uint32_t gpr[8] = {};
  uint32_t eip = 0;
  // All of EFLAGS except IF. While translated code runs, the ARITH and DF bits are stale: the
  // live values are in host RFLAGS; the runtime stubs merge them back on every exit.
  uint32_t eflags = fl::FIXED1;
  PendingWord pending = {0};
  uint8_t if_flag = 0;   // the virtual IF; separate so cli/sti are single byte stores
  uint8_t irq_line = 0;  // the interrupt controller's INTR output
  uint8_t cpl = 0;
  uint8_t pad0 = 0;
  uint64_t host_rsp = 0;   // monitor stack pointer while translated code runs
  uint64_t jc_tag = 0;     // jump-cache generation, pre-shifted left by 32
  uint64_t jc_table = 0;   // host address of the jump cache
  uint64_t resume = 0;     // where a callout returns to in the translation cache
  uint64_t exit_info = 0;  // Exit::Chain: host address of the rel32 to patch
  uint32_t exit_reason = 0;
  uint32_t callout_next = 0;  // guest EIP after the instruction a callout implements
  uint32_t seg_base[6] = {};  // copies of seg[i].base, for emitted segment-relative accesses
  uint64_t scratch[6] = {};   // a tiny stack for pushfq/popfq inside translated code
  uint64_t jc_hits = 0;       // jump-cache hits, counted by translated code (flag-free)
  void* host_ctx = nullptr;   // the execution engine that owns this vCPU (for callouts)

  // ---- the rest of the architectural state ----
  Segment seg[6];
  DescTable gdtr, idtr;
  Segment ldtr, tr;
  uint32_t cr0 = cr0::ET;
  uint32_t cr2 = 0, cr3 = 0, cr4 = 0;
  uint32_t dr[8] = {0, 0, 0, 0, 0, 0, dr6::FIXED1, dr7::FIXED1};  // their reset values
  int64_t tsc_offset = 0;
  bool halted = false;
  // One instruction must run before an interrupt is taken (after mov ss / pop ss).
  bool irq_shadow = false;
  // Translated code saves the registers a system call clobbers here when it must set the host
  // GS base with arch_prctl (hosts without FSGSBASE).
  uint64_t syscall_save[5] = {};
  // Where a watched guest write goes (bt::WriteWatch), set by its first callout.
  uint64_t watch_host = 0;
  // What translated code last set the host GS base to (a guest fs:/gs: segment base), so a
  // unit need not set it again (a system call without FSGSBASE); kHostGsBaseUnknown after
  // anything else may have changed it (direct execution loads guest selectors into GS).
  uint64_t host_gs_base = kHostGsBaseUnknown;
  // The guest's x87/MMX/SSE state as an fxsave image (cpu/fpu_state.h), initialised as after
  // fninit with MXCSR 0x1f80. While translated code has it loaded in the host FPU (fpu_live)
  // the image is stale: every way out of translated code saves it back first.
  alignas(16) uint8_t fpu[512] = {0x7f, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  0,    0,    0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x1f};
  uint8_t fpu_live = 0;
  // Per cpu::FpuClass: 0 while the state is live and CR0/CR4 allow that class, so translated
  // code's flag-free test at the first instruction of a class in a unit lets it run.
  uint8_t fpu_closed[4] = {1, 1, 1, 1};
  // Set by translated code after an instruction that clears or replaces the x87 status
  // (fnclex, fninit, frstor, fldenv): FERR# may have dropped since the monitor last looked.
  uint8_t x87_status_reset = 0;

  uint32_t& reg(Reg r) { return gpr[r]; }
  uint32_t reg(Reg r) const { return gpr[r]; }

  // EFLAGS as the guest sees it (valid when translated code is not running).
  uint32_t read_eflags() const { return (eflags & ~fl::IF) | (if_flag ? fl::IF : 0) | fl::FIXED1; }
  void write_eflags(uint32_t v) {
    eflags = (v & ~fl::IF) | fl::FIXED1;
    set_if(v & fl::IF);
  }
  void set_if(bool on) {
    if_flag = on;
    pending.irq = irq_line & if_flag;
  }
  void set_irq_line(bool up) {
    irq_line = up;
    pending.irq = irq_line & if_flag;
  }
  void load_segment_cache(Seg s, const Segment& v) {
    seg[s] = v;
    seg_base[s] = v.base;
  }
  bool protected_mode() const { return cr0 & cr0::PE; }
  bool paging() const { return cr0 & cr0::PG; }
};

// Offsets the emitter needs; checked at compile time to stay within a disp8 where it matters.
namespace off {
inline constexpr int32_t gpr = offsetof(Vcpu, gpr);
inline constexpr int32_t eip = offsetof(Vcpu, eip);
inline constexpr int32_t eflags = offsetof(Vcpu, eflags);
inline constexpr int32_t pending = offsetof(Vcpu, pending);
inline constexpr int32_t pending_irq = offsetof(Vcpu, pending) + 1;
inline constexpr int32_t if_flag = offsetof(Vcpu, if_flag);
inline constexpr int32_t irq_line = offsetof(Vcpu, irq_line);
inline constexpr int32_t host_rsp = offsetof(Vcpu, host_rsp);
inline constexpr int32_t jc_tag = offsetof(Vcpu, jc_tag);
inline constexpr int32_t jc_table = offsetof(Vcpu, jc_table);
inline constexpr int32_t resume = offsetof(Vcpu, resume);
inline constexpr int32_t exit_info = offsetof(Vcpu, exit_info);
inline constexpr int32_t exit_reason = offsetof(Vcpu, exit_reason);
inline constexpr int32_t callout_next = offsetof(Vcpu, callout_next);
inline constexpr int32_t seg_base = offsetof(Vcpu, seg_base);
inline constexpr int32_t scratch_top = offsetof(Vcpu, scratch) + sizeof(Vcpu::scratch);
inline constexpr int32_t jc_hits = offsetof(Vcpu, jc_hits);
inline constexpr int32_t seg_sel = offsetof(Vcpu, seg);  // + i * sizeof(Segment)
inline constexpr int32_t syscall_save = offsetof(Vcpu, syscall_save);
inline constexpr int32_t watch_host = offsetof(Vcpu, watch_host);
inline constexpr int32_t host_gs_base = offsetof(Vcpu, host_gs_base);
inline constexpr int32_t irq_shadow = offsetof(Vcpu, irq_shadow);
inline constexpr int32_t fpu = offsetof(Vcpu, fpu);
inline constexpr int32_t fpu_live = offsetof(Vcpu, fpu_live);
inline constexpr int32_t fpu_closed = offsetof(Vcpu, fpu_closed);
inline constexpr int32_t x87_status_reset = offsetof(Vcpu, x87_status_reset);
}  // namespace off
static_assert(off::seg_base + sizeof(Vcpu::seg_base) <= 128,
              "hot vCPU fields must stay within a disp8 of r15");

}  // namespace cpu
