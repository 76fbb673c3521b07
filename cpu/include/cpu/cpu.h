// Architectural semantics of the virtual CPU: one place for everything both execution engines
// need beyond plain unprivileged instructions (descriptor loads, exception delivery, control
// registers, CPUID, port I/O permission, EFLAGS rules).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cpu/fault_chain.h"
#include "cpu/model.h"
#include "cpu/msrs.h"
#include "cpu/vcpu.h"

namespace cpu {

// Exception vectors.
enum Vector : uint8_t {
  kDE = 0,
  kDB = 1,
  kNMI = 2,
  kBP = 3,
  kOF = 4,
  kBR = 5,
  kUD = 6,
  kNM = 7,
  kDF = 8,
  kTS = 10,
  kNP = 11,
  kSS = 12,
  kGP = 13,
  kPF = 14,
  kMF = 16,
  kAC = 17,
};

// An exception the current instruction raises.
struct Fault {
  uint8_t vector;
  bool has_error = false;
  uint32_t error = 0;
  uint32_t cr2 = 0;  // for #PF
  uint32_t dr6 = 0;  // for #DB: the DR6 bits its condition sets (dr6::BS, dr6::BD)

  static Fault gp(uint32_t err = 0) { return {kGP, true, err}; }
  static Fault ud() { return {kUD}; }
};
using MaybeFault = std::optional<Fault>;

// Thrown by the semantics for a guest operation bt86 does not implement yet (task gates, call
// gates, ...). The monitor stops the VM with a report; it is never turned into a guest event.
struct Unsupported {
  std::string what;
};

// Guest memory as the CPU sees it: linear addresses, through the guest page tables.
class Memory {
 public:
  enum class Mode : uint8_t { Supervisor, User };  // which privilege the access is checked at
  virtual ~Memory() = default;
  virtual MaybeFault read(uint32_t linear, void* dst, unsigned len, Mode m) = 0;
  virtual MaybeFault write(uint32_t linear, const void* src, unsigned len, Mode m) = 0;
};

// Port I/O as the CPU sees it (after the permission checks done here).
class Ports {
 public:
  virtual ~Ports() = default;
  virtual uint32_t in(uint16_t port, unsigned size) = 0;
  virtual void out(uint16_t port, unsigned size, uint32_t value) = 0;
};

// One ins/outs instruction (string_io.cpp): port DX, ins to ES:(E)DI, outs from seg:(E)SI.
struct StringIo {
  bool in;
  unsigned size;  // 1, 2 or 4
  bool rep;       // rep prefix: (E)CX counts
  bool addr16;    // 0x67 prefix: SI/DI/CX, wrapping at 64 KiB
  Seg seg;        // outs: the source segment (DS unless overridden)
};

// What the rest of the machine must hear about when the CPU's state changes under it.
class Hooks {
 public:
  virtual ~Hooks() = default;
  // CR0.PG/WP/PE, CR4.PSE/PGE or CR3 changed: the MMU and the translation cache react.
  virtual void paging_changed(uint32_t old_cr0, uint32_t old_cr4) = 0;
  virtual void cr3_written(uint32_t old_cr3) = 0;
  virtual void invlpg(uint32_t linear) = 0;
  // The CPL went up (iret to an outer ring): pages mapped for the inner ring must not stay
  // reachable.
  virtual void entered_outer_ring(uint8_t /*cpl*/) {}
  // The CPL went down (an interrupt or exception into an inner ring): what the outer ring could
  // not be allowed to reach may come back.
  virtual void entered_inner_ring(uint8_t /*cpl*/) {}
  // An x87 error with CR0.NE = 0 (x87_error below): the CPU's FERR# and IGNNE# pins are the
  // board's business.
  virtual void ferr() { throw Unsupported{"x87 error with CR0.NE = 0: nothing is wired to FERR#"}; }
  // A20 is handled by devices; hlt and shutdown by the monitor loop.
};

class Cpu {
 public:
  Cpu(Vcpu& v, Memory& mem, Ports& ports, Hooks& hooks, const CpuModel& model = default_cpu_model())
      : v_(v), mem_(mem), ports_(ports), hooks_(hooks), model_(&model), msrs_(model) {}
  Vcpu& vcpu() { return v_; }
  const CpuModel& model() const { return *model_; }
  Memory& memory() { return mem_; }

  // Reset state for a multiboot entry: flat 32-bit protected mode, paging off, IF = 0.
  void reset_multiboot(uint32_t eip, uint32_t eax, uint32_t ebx);

  // ---- instructions with privileged or sensitive semantics ----
  void cpuid();  // reads/writes EAX..EDX
  uint64_t rdtsc() const;
  MaybeFault rdtsc_checked();  // CR4.TSD and CPL
  MaybeFault in(uint16_t port, unsigned size, uint32_t& value);
  MaybeFault out(uint16_t port, unsigned size, uint32_t value);
  MaybeFault io_permitted(uint16_t port, unsigned size);
  // One iteration of ins/outs; `done` unless a rep count is left. On a fault the registers
  // name the element that faulted, so running the instruction again resumes it.
  MaybeFault string_io_step(const StringIo& op, bool& done);
  MaybeFault check_cpl0();      // #GP(0) unless CPL 0
  MaybeFault iopl_sensitive();  // cli/sti: #GP(0) unless CPL <= IOPL
  MaybeFault write_cr(int n, uint32_t value);
  MaybeFault read_cr(int n, uint32_t& value);
  MaybeFault write_dr(int n, uint32_t value);
  MaybeFault read_dr(int n, uint32_t& value);
  MaybeFault lgdt_lidt(bool idt, uint32_t linear);  // 6-byte pseudo-descriptor
  MaybeFault sgdt_sidt(bool idt, uint32_t linear);
  MaybeFault lldt(uint16_t sel);
  MaybeFault ltr(uint16_t sel);
  MaybeFault clts();
  MaybeFault lmsw(uint16_t v);
  uint16_t smsw() const { return uint16_t(v_.cr0); }
  MaybeFault invlpg(uint32_t linear);
  MaybeFault rdmsr();  // msr_file.cpp
  MaybeFault wrmsr();
  MaybeFault rdpmc();  // CR4.PCE, the PERFCTR MSRs
  static uint64_t host_tsc();
  MaybeFault wbinvd() { return check_cpl0(); }
  // lar/lsl/verr/verw (descriptor_queries.cpp): `valid` is the ZF result; a fault only from
  // reading the descriptor. lar's value is the access rights (descriptor bits 63:32 & 0x00FFFF00).
  MaybeFault lar_lsl(uint16_t sel, bool lsl, bool& valid, uint32_t& value);
  MaybeFault verr_verw(uint16_t sel, bool write, bool& valid);
  // arpl: raises dest's RPL to src's; returns ZF (whether it changed).
  static bool arpl(uint16_t& dest, uint16_t src);

  // Segment register load with the protected-mode checks (mov sreg / pop sreg / lds...).
  MaybeFault load_segment(Seg s, uint16_t sel);
  // Far jmp / far call / far ret / iret / int n (protected mode, same-privilege and to outer
  // rings).
  MaybeFault far_jump(uint16_t sel, uint32_t offset);
  MaybeFault far_call(uint16_t sel, uint32_t offset, uint32_t return_eip);
  MaybeFault far_return(uint16_t pop_bytes);
  MaybeFault iret();
  // Software interrupt `int n` (and int3/into) from an instruction ending at next_eip.
  MaybeFault software_interrupt(uint8_t vector, uint32_t next_eip, bool is_int_n);

  // EFLAGS writes from popf with the CPL/IOPL rules (size 2 or 4).
  void popf(uint32_t value, unsigned size);
  uint32_t pushf_value() const { return v_.read_eflags() & ~(fl::VM | fl::RF); }

  // BCD adjustments: operate on AL/AH and the arithmetic flags in the vCPU.
  void daa();
  void das();
  void aaa();
  void aas();
  MaybeFault aam(uint8_t base);
  void aad(uint8_t base);
  void salc();

  // Deliver an exception or a hardware interrupt through the IDT. Escalates to #DF and to a
  // triple fault (shutdown) as the architecture says. `eip` is the EIP to push.
  void raise(const Fault& f);
  void deliver_interrupt(uint8_t vector);  // external interrupt (IF already checked)
  // A waiting x87 instruction (EIP = it) found an unmasked x87 exception pending: #MF with
  // CR0.NE = 1, else the FERR# route to the board (Hooks::ferr), as on the part.
  void x87_error();
  bool shutdown() const { return shutdown_; }
  const std::string& shutdown_reason() const { return shutdown_reason_; }

  // Descriptor-table helpers shared by the semantics above (public for the monitor's reports).
  MaybeFault read_descriptor(uint16_t sel, uint64_t& desc);
  static Segment segment_from_descriptor(uint16_t sel, uint64_t desc);

 private:
  MaybeFault deliver(uint8_t vector, bool has_error, uint32_t error, uint32_t return_eip,
                     bool software, bool external);
  MaybeFault query_descriptor(uint16_t sel, std::optional<uint64_t>& desc);
  MaybeFault push32(uint32_t& esp, uint32_t value, Memory::Mode m);
  MaybeFault pop32(uint32_t& esp, uint32_t& value);
  MaybeFault load_cs(uint16_t sel, uint64_t desc, uint8_t new_cpl);
  MaybeFault dr_access(int& n);  // the checks of mov to/from DRn (n: DR4/5 aliased)
  // Delivers `first` (the last of `chain`), escalating to #DF and shutdown.
  void escalate(const Fault& first, FaultChain& chain);
  Memory::Mode mode() const { return v_.cpl == 3 ? Memory::Mode::User : Memory::Mode::Supervisor; }

  Vcpu& v_;
  Memory& mem_;
  Ports& ports_;
  Hooks& hooks_;
  const CpuModel* model_;
  MsrFile msrs_;
  bool shutdown_ = false;
  std::string shutdown_reason_;
  int delivering_ = 0;        // nesting depth of exception delivery (for #DF / triple fault)
  uint8_t first_vector_ = 0;  // the vector being delivered at depth 1
};

// Exception classes for the double-fault rule (SDM Vol. 3 Table 6-5).
bool is_contributory(uint8_t vector);
const char* vector_name(uint8_t vector);

}  // namespace cpu
