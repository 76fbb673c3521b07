// Translation of one unit: decode guest instructions with Zydis and emit host code with
// AsmJit. The per-family emitters live in their own files (ident.cpp, stack_ops.cpp,
// control_flow.cpp, system_ops.cpp); this header is what they share.
#pragma once

#include <Zydis/Zydis.h>
#include <asmjit/x86.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bt/stats.h"
#include "cpu/model.h"
#include "cpu/vcpu.h"
#include "runtime.h"

namespace bt {

struct IcSlot;

struct Insn {
  ZydisDecodedInstruction d;
  ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
  const uint8_t* bytes;
  uint32_t eip;
  uint32_t next() const { return eip + d.length; }
  bool has_modrm() const { return d.attributes & ZYDIS_ATTRIB_HAS_MODRM; }
  bool modrm_is_mem() const { return has_modrm() && d.raw.modrm.mod != 3; }
  uint8_t opcode_byte() const { return d.opcode; }
};

// What ended translation at an instruction: nothing (keep going), or the unit is complete.
enum class Flow { Continue, End };

// A leave-the-cache point decided at translation time (int n, #UD, unsupported instruction).
struct StaticExit {
  enum class Kind { Exception, Unsupported } kind;
  uint8_t vector = 0;
  bool software = false;
  bool error_code = false;  // pushes an error code of 0 (#GP(0))
  uint32_t eip = 0, next_eip = 0;
  std::string what;
};

class EngineCore;  // the engine internals emitters need (static exits, callout addresses)

struct ChainSite {
  asmjit::Label rel32;  // bound at the rel32 field of a jmp/jcc
  uint32_t target;
};

struct Ctx {
  asmjit::x86::Assembler& a;
  const Runtime& rt;
  EngineCore& core;
  uint8_t cpl;
  std::vector<ChainSite> chains;
  int gs_holds = -1;   // which guest segment's base the host GS base holds now (-1: unknown)
  bool ident = false;  // set by the emitter that handled the instruction as IDENT
  // FPU classes (cpu::FpuClass bits) whose gate this unit has passed since its last callout
  // (a callout saves the guest FPU state and closes every gate).
  uint8_t fpu_checked = 0;
  // The fall-through of a backward conditional branch (a loop's exit), if the unit ends with
  // one: the engine translates it ahead (Options::translate_loop_exits).
  std::optional<uint32_t> loop_exit;
  // Superblocks (Options::superblocks): whether the unit may go on at the target of a direct
  // jmp/call instead of ending there; an emitter that folds one sets `fold_to` to the target
  // and returns Flow::Continue, so the translator continues there.
  std::function<bool(uint32_t target)> may_fold;
  std::optional<uint32_t> fold_to;
  // The inline-cache slots its indirect-branch sites took (they live as long as its code).
  std::vector<IcSlot*> ic_slots;
};

// The feature the modelled part would need for this instruction, or nullptr if it has it
// (an instruction the part lacks is #UD).
const char* missing_feature(const cpu::CpuModel& m, const Insn& in);

// --- emitters: each returns Flow::End if the instruction ends the unit ---
bool is_ident(const Insn& in);
// With `at_r12`, the memory operand becomes [r12] (a host address computed at run time, and
// no segment): only for forms watchable() accepts (it throws otherwise).
void emit_ident(Ctx& c, const Insn& in, bool at_r12 = false);
// Where emit_ident_at puts an IDENT instruction's memory operand: as the guest encoded it
// (rebased), at the host address in r12 (exact forms only, as above), at the window address in
// r12d (`67 [r12d]`: any form, the access stays in the window and its guard), or at a window
// address stored from r12d into the instruction's disp32 (for forms that cannot take a REX
// prefix: ah..bh operands).
enum class MemAt { Guest, HostR12, WindowR12, PatchedDisp32 };
void emit_ident_at(Ctx& c, const Insn& in, MemAt at);
// Whether the instruction's access is exactly its memory operand, so that the operand may be
// redirected to a host address outside the window (watched_write.cpp says which forms and why).
bool watchable(const Insn& in);
bool is_moffs_move(const Insn& in);  // mov al/ax/eax <-> [moffs32] (A0-A3)
// A watched write: WriteWatch::begin, the instruction at the address it returns, ::end.
void emit_watched_write(Ctx& c, const Insn& in);
// 16-bit addressing, a 0x67 prefix in 32-bit code (addr16.cpp, string16.cpp).
bool addr16(const Insn& in);
bool emit_lea16(Ctx& c, const Insn& in);  // false if not a lea
// host_reg (r8d..r15d) = the 16-bit offset of the explicit memory operand, zero-extended.
void ea16_to(Ctx& c, const Insn& in, int host_reg);
// An IDENT instruction (x87/MMX/SSE too) with 16-bit addressing; string instructions included.
void emit_ident_addr16(Ctx& c, const Insn& in);
void emit_string16(Ctx& c, const Insn& in);
Flow emit_stack_op(Ctx& c, const Insn& in, bool& handled);
Flow emit_control_flow(Ctx& c, const Insn& in, bool& handled);
Flow emit_system_op(Ctx& c, const Insn& in, bool& handled);
bool is_string_io(const Insn& in);
void emit_string_io(Ctx& c, const Insn& in);  // ins/outs, rep or not (string_io.cpp)
// x87/MMX/SSE (fpu_ops.cpp): whether the instruction is one, and its translation.
bool is_fpu(const Insn& in);
Flow emit_fpu_op(Ctx& c, const Insn& in);

// --- helpers shared by the emitters ---
asmjit::x86::Mem vcpu_field(int32_t off, uint32_t size = 4);
// Appends the host encoding of the guest instruction's memory operand (ModRM, SIB, disp) with
// `reg` in the ModRM reg field. `extra_disp` is added to the displacement.
void put_modrm_mem(std::vector<uint8_t>& out, const Insn& in, uint8_t reg, int32_t extra_disp = 0);
// The guest segment of the instruction's memory operand (DS unless Zydis names another).
int memory_segment(const Insn& in);
// The size in bytes of the instruction's memory operand (0 if it has none).
uint32_t memory_operand_bytes(const Insn& in);
// The guest segment (cpu::FS/GS) whose base must be applied through the host GS base for this
// instruction's memory operand, or -1 when the segment is flat and needs nothing.
int segment_override(const Insn& in);
// Guest register numbering (cpu::Reg / cpu::Seg) of a Zydis register operand: the 8 general
// registers in their 32- or 16-bit form, and the segment registers (-1 for anything else).
unsigned guest_gpr(ZydisRegister r);
int guest_segment(ZydisRegister r);
// Emits wrgsbase for `seg` if needed and returns the prefix bytes (0x67 [0x65]) for an access.
std::vector<uint8_t> mem_prefixes(Ctx& c, const Insn& in);
// Loads the 32-bit value of the guest memory operand into host register r8d + `r8_plus`
// (0: r8d, 4: r12d ...), width `bytes` (2: movzx, 4: mov).
void load_mem_operand(Ctx& c, const Insn& in, int host_reg, unsigned bytes);
// host_reg = the offset of the memory operand (ModRM or moffs; 16-bit addressing included).
void lea_mem_operand(Ctx& c, const Insn& in, int host_reg);
// addr = segment `seg`'s base + the offset in addr, in 32 bits (wraps at 4 GiB as on the
// part). Flag-free; clobbers `base`.
void add_segment_base(Ctx& c, int seg, const asmjit::x86::Gp& addr, const asmjit::x86::Gp& base);
// An IDENT instruction with an fs:/gs: operand of a form watchable() accepts: the linear
// address (segment base + offset, wrapping at 4 GiB as on the part) computed in r12, and the
// instruction run on [r12].
void emit_segment_based_ident(Ctx& c, const Insn& in);
void emit_chain(Ctx& c, uint32_t target);
void emit_jump_to_lookup(Ctx& c);  // target in r8d
void emit_inline_cache(Ctx& c);    // the same through the site's inline cache (inline_cache.h)
void emit_static_exit(Ctx& c, const Insn& in, StaticExit e);
// The exception `vector` at the instruction, decided at translation time (software: int n,
// int3, into).
void static_exception(Ctx& c, const Insn& in, uint8_t vector, bool software = false);
void emit_unsupported(Ctx& c, const Insn& in, const std::string& why);
void emit_callout(Ctx& c, const Insn& in, CalloutKind kind, CalloutFn fn, bool set_a1 = false,
                  uint32_t a1 = 0);

}  // namespace bt
