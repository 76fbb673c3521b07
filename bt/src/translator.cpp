// Building one translation unit: the pending-event check at its entry, the guest instructions
// one family emitter at a time, the exit stubs of its chain sites, and installation into the
// translation cache.
#include "translator.h"

#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "callouts.h"
#include "engine_core.h"
#include "unit_span.h"

namespace bt {

namespace {
bool loads_ss(const Insn& in) {
  if (in.d.mnemonic == ZYDIS_MNEMONIC_LSS) return true;
  for (unsigned i = 0; i < in.d.operand_count; ++i)
    if (in.ops[i].type == ZYDIS_OPERAND_TYPE_REGISTER && in.ops[i].reg.value == ZYDIS_REGISTER_SS &&
        (in.ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
      return true;
  return false;
}
}  // namespace

using namespace asmjit;
using namespace asmjit::x86;

void emit_static_exit(Ctx& c, const Insn& in, StaticExit e) {
  e.eip = in.eip;
  e.next_eip = in.next();
  uint32_t index = uint32_t(c.core.static_exits.size());
  c.core.static_exits.push_back(std::move(e));
  c.a.mov(vcpu_field(cpu::off::eip), imm(in.eip));
  c.a.mov(vcpu_field(cpu::off::exit_info, 8), imm(int32_t(index)));
  c.a.mov(vcpu_field(cpu::off::exit_reason), imm(uint32_t(cpu::Exit::Static)));
  c.a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.exit_common))));
}

void static_exception(Ctx& c, const Insn& in, uint8_t vector, bool software) {
  StaticExit e;
  e.kind = StaticExit::Kind::Exception;
  e.vector = vector;
  e.software = software;
  emit_static_exit(c, in, e);
}

void emit_unsupported(Ctx& c, const Insn& in, const std::string& why) {
  StaticExit e;
  e.kind = StaticExit::Kind::Unsupported;
  e.what = fmt::format("{}: {}", why, disassemble(in.bytes, in.d.length, in.eip));
  emit_static_exit(c, in, std::move(e));
}

void emit_callout(Ctx& c, const Insn& in, CalloutKind, CalloutFn fn, bool set_a1, uint32_t a1) {
  auto& a = c.a;
  Label resume = a.newLabel();
  a.mov(vcpu_field(cpu::off::eip), imm(in.eip));
  a.mov(vcpu_field(cpu::off::callout_next), imm(in.next()));
  if (set_a1) a.mov(r11d, imm(a1));
  a.mov(r13, imm(uint64_t(reinterpret_cast<uintptr_t>(fn))));
  a.lea(r14, ptr(resume));
  a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.callout))));
  a.bind(resume);
  c.fpu_checked = 0;  // the callout saved the guest FPU state
}

bool EngineCore::decode(uint32_t eip, Insn& in, std::string& err) {
  uint32_t avail = 0;
  const uint8_t* p = src.code(eip, avail);
  if (!p) {
    err = fmt::format("instruction fetch from {:#010x}, where there is no memory", eip);
    return false;
  }
  if (avail < ZYDIS_MAX_INSTRUCTION_LENGTH) {
    // The instruction may continue on the next page: gather the bytes.
    fetch_buf_.assign(p, p + avail);
    uint32_t more = 0;
    const uint8_t* q = src.code(eip + avail, more);
    if (q) fetch_buf_.insert(fetch_buf_.end(), q, q + std::min<uint32_t>(more, 16));
    p = fetch_buf_.data();
    avail = uint32_t(fetch_buf_.size());
  }
  in.bytes = p;
  in.eip = eip;
  ZyanStatus st = ZydisDecoderDecodeFull(&decoder, p, std::min<uint32_t>(avail, 15), &in.d, in.ops);
  if (!ZYAN_SUCCESS(st)) {
    err = "undecodable";
    return false;
  }
  return true;
}

// Whether the unit being made may go on at `target` of a direct jmp/call (superblocks): room
// for another instruction, a page the unit may cover, not code the unit has already (a loop
// chains back to its own entry instead of being unrolled), nowhere the engine must stop or ask
// about before entering (as for chaining), and code the guest may fetch.
bool EngineCore::may_fold(const Unit& unit, const UnitSpan& span, unsigned n, uint32_t target) {
  const unsigned max_insns = opt.max_unit_instructions;
  if (n + 1 >= max_insns || !span.may_fold_to(target)) return false;
  for (const auto& [off, at] : unit.insn_map)
    if (at == target) return false;
  if (stop_eip && target == *stop_eip) return false;
  if (yield_check && yield_check(target)) return false;
  uint32_t avail = 0;  // where the fetch faults or finds nothing, the chain's unit says so
  return !src.fetch_fault(target) && src.code(target, avail);
}

namespace {
// The interrupt shadow across a unit's instructions: after sti (when it sets IF) and after an
// SS load, one more instruction runs before an interrupt can be taken, and interrupts are only
// taken at unit entries and callout exits, so that instruction ends the unit.
class InterruptShadow {
 public:
  // Before an instruction: whether it must first clear irq_shadow (it is the one in the
  // shadow; the store comes first so that it also covers a control transfer).
  bool clear_first() { return std::exchange(clear_first_, false); }
  // After `in`: false when the unit must end here.
  bool go_on(const Insn& in) {
    const auto m = in.d.mnemonic;
    if (m == ZYDIS_MNEMONIC_STI || m == ZYDIS_MNEMONIC_POPFD || m == ZYDIS_MNEMONIC_POPF) {
      // popf needs no shadow; ending the unit keeps it simple. An sti right after an sti runs
      // with IF = 1 and sets no shadow: the interrupt comes right after it.
      const bool sti = m == ZYDIS_MNEMONIC_STI;
      left_ = sti && !after_sti_ ? 1 : 0;
      if (left_) clear_first_ = true;  // sti sets irq_shadow too (when it enables interrupts)
    } else if (loads_ss(in)) {
      left_ = 1;  // mov ss / pop ss / lss: the cpu sets irq_shadow
      clear_first_ = true;
    } else if (left_ > 0) {
      left_ = 0;
    }
    after_sti_ = m == ZYDIS_MNEMONIC_STI;
    return left_ != 0;
  }

 private:
  int left_ = -1;  // instructions left before the shadow ends the unit (-1: no shadow)
  bool clear_first_ = false;
  bool after_sti_ = false;  // the previous instruction was an sti (so IF is 1 now)
};

// Exit stubs for chain sites: each stays the target of its site until the site is patched.
std::vector<Label> emit_chain_stubs(Ctx& c) {
  auto& a = c.a;
  std::vector<Label> stubs;
  for (const ChainSite& s : c.chains) {
    Label l = a.newLabel();
    stubs.push_back(l);
    a.bind(l);
    a.mov(vcpu_field(cpu::off::eip), imm(s.target));
    a.mov(vcpu_field(cpu::off::exit_reason), imm(uint32_t(cpu::Exit::Chain)));
    a.lea(r8, ptr(s.rel32));
    a.mov(vcpu_field(cpu::off::exit_info, 8), r8);
    a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(c.rt.exit_common))));
  }
  return stubs;
}
}  // namespace

void EngineCore::emit_unit_entry(Ctx& c, Unit& unit) {
  auto& a = c.a;
  // Leave if the pending-event word is set. Flag-free (guest flags are live): jrcxz.
  Label ok = a.newLabel();
  a.mov(r9, rcx);
  a.movzx(ecx, vcpu_field(cpu::off::pending, 2));
  a.jecxz(rcx, ok);
  a.mov(rcx, r9);
  a.mov(vcpu_field(cpu::off::eip), imm(unit.eip));
  a.mov(vcpu_field(cpu::off::exit_reason), imm(uint32_t(cpu::Exit::Pending)));
  a.jmp(Imm(uint64_t(reinterpret_cast<uintptr_t>(rt.exit_common))));
  a.bind(ok);
  a.mov(rcx, r9);
  // Generational eviction promotes by entry count.
  if (opt.count_entries || opt.evict == Options::Evict::Generational)
    emit_entry_count(a, unit.entries = new_entry_counter());
  // Entered with no event taken: the instruction after an sti or SS load that ended the last
  // unit runs now, and interrupts are next sampled after it (at the next entry or callout exit).
  a.mov(vcpu_field(cpu::off::irq_shadow, 1), imm(0));
}

void EngineCore::emit_decode_failure(Ctx& c, Insn& in, uint32_t eip, const std::string& err) {
  in.bytes = nullptr;
  in.eip = eip;
  in.d.length = 0;
  const bool undecodable = err == "undecodable";
  if (undecodable && !src.fetch_fault(eip + 15))
    return static_exception(c, in, cpu::kUD);  // an invalid opcode is #UD, as on hardware
  StaticExit e;
  e.kind = StaticExit::Kind::Unsupported;
  e.what = undecodable ? "an instruction that continues on a page the guest cannot fetch (#PF "
                         "in the middle of an instruction)"
                       : err;
  emit_static_exit(c, in, e);
}

Flow EngineCore::emit_instruction(Ctx& c, const Insn& in, bool flat) {
  if (missing_feature(cpu.model(), in)) {
    static_exception(c, in, cpu::kUD);  // the part does not have it: #UD, as on that part
    return Flow::End;
  }
  if (!flat) {
    emit_unsupported(c, in, "segment with a non-zero base in CS/DS/ES/SS");
    return Flow::End;
  }
  if (watch.must && !(is_ident(in) && watchable(in)) && watch.must(in.eip)) {
    emit_unsupported(c, in, "unsupported MMIO access form");
    return Flow::End;
  }
  if (addr16(in) && in.d.mnemonic == ZYDIS_MNEMONIC_LEA) {
    emit_lea16(c, in);  // other 16-bit addressing forms: the emitters, through addr16.cpp
    return Flow::Continue;
  }
  if (is_fpu(in)) return emit_fpu_op(c, in);
  if (is_ident(in)) {
    if (watch.wraps && watchable(in) && watch.wraps(in.eip))
      emit_watched_write(c, in);
    else if (segment_override(in) >= 0 && watchable(in))
      emit_segment_based_ident(c, in);
    else
      emit_ident(c, in);
    return Flow::Continue;
  }
  bool handled = false;
  Flow flow = emit_control_flow(c, in, handled);
  if (!handled) flow = emit_stack_op(c, in, handled);
  if (!handled) flow = emit_system_op(c, in, handled);
  if (handled) return flow;
  emit_unsupported(c, in, "instruction not supported by the translator");
  return Flow::End;
}

Unit* EngineCore::translate(uint32_t eip, uint64_t key) {
  make_room();
  auto t0 = std::chrono::steady_clock::now();

  CodeHolder code;
  code.init(Environment(Arch::kX64), uint64_t(reinterpret_cast<uintptr_t>(cache.cursor())));
  Assembler a(&code);
  Ctx c{a, rt, *this, v.cpl, {}, -1, false, 0};
  Unit unit{};
  unit.eip = eip;
  emit_unit_entry(c, unit);

  const bool flat = v.seg[cpu::CS].base == 0 && v.seg[cpu::DS].base == 0 &&
                    v.seg[cpu::ES].base == 0 && v.seg[cpu::SS].base == 0;
  uint32_t cur = eip;
  bool ended = false;
  InterruptShadow shadow;
  Insn in;
  // Under EFLAGS.TF every instruction is a unit of its own: the dispatcher raises the #DB after it.
  const unsigned max_insns = (v.eflags & cpu::fl::TF) ? 1 : opt.max_unit_instructions;
  UnitSpan span(eip);
  unsigned n = 0;
  if (opt.superblocks)
    c.may_fold = [&](uint32_t target) { return may_fold(unit, span, n, target); };
  enum class Folded { No, Jmp, Call } folded = Folded::No;  // what the last instruction was
  for (; n < max_insns; ++n) {
    if (n > 0 && stop_eip && cur == *stop_eip) break;
    if (n > 0 && !span.may_start(cur)) break;  // units stay within their (two) pages...
    if (n > 0 && code.textSection()->buffer().size() > kUnitReserve / 2) break;  // ...and fit
    if (shadow.clear_first()) a.mov(vcpu_field(cpu::off::irq_shadow, 1), imm(0));
    unit.insn_map.emplace_back(uint32_t(code.textSection()->buffer().size()), cur);
    if (std::string err; !decode(cur, in, err)) {
      // Past the first instruction, a fetch the guest may fault on ends the unit: the next
      // one starts there and the dispatcher raises the fault (#PF) with the right EIP.
      if (n > 0 && (src.fetch_fault(cur) || src.fetch_fault(cur + 15))) {
        unit.insn_map.pop_back();
        break;
      }
      emit_decode_failure(c, in, cur, err);
      ended = true;
      break;
    }
    if (!span.admit(cur, in.d.length)) {  // ...and an instruction may not reach a third one
      unit.insn_map.pop_back();
      break;
    }
    if (folded != Folded::No) ++(folded == Folded::Call ? stats.calls_folded : stats.jumps_folded);
    folded = Folded::No;
    unit.guest_bytes += in.d.length;
    stats.guest_instructions++;
    c.ident = false;
    const Flow flow = emit_instruction(c, in, flat);
    if (c.ident) stats.ident_instructions++;
    cur = in.next();
    if (c.fold_to) {
      cur = *c.fold_to;
      span.folded_to(cur);
      folded = in.d.mnemonic == ZYDIS_MNEMONIC_CALL ? Folded::Call : Folded::Jmp;
      c.fold_to.reset();
    }
    unit.ninsns++;
    unit.ends_with_ss_load = loads_ss(in);  // the last instruction's counts
    if (flow == Flow::End) {
      ended = true;
      break;
    }
    if (!shadow.go_on(in)) break;
  }
  if (!ended) emit_chain(c, cur);
  unit.loop_exit = c.loop_exit;
  unit.ic_slots = std::move(c.ic_slots);
  return install(code, c, std::move(unit), span, key, t0);
}

Unit* EngineCore::install(CodeHolder& code, Ctx& c, Unit&& unit, const UnitSpan& span, uint64_t key,
                          std::chrono::steady_clock::time_point t0) {
  const std::vector<Label> stubs = emit_chain_stubs(c);
  code.flatten();
  code.resolveUnresolvedLinks();
  uint8_t* dst = cache.cursor();
  code.relocateToBase(uint64_t(reinterpret_cast<uintptr_t>(dst)));
  size_t size = code.codeSize();
  if (size > cache.room()) throw std::runtime_error("translation unit larger than the cache");
  code.copyFlattenedData(dst, size);
  std::vector<UnitRecord::Chain> chain_record;  // only for unit_observer
  for (size_t i = 0; i < c.chains.size(); ++i) {
    uint8_t* site = dst + code.labelOffsetFromBase(c.chains[i].rel32);
    uint8_t* stub = dst + code.labelOffsetFromBase(stubs[i]);
    int32_t rel = int32_t(stub - (site + 4));
    std::memcpy(site, &rel, 4);
    if (unit_observer)
      chain_record.push_back({uint32_t(site - dst), uint32_t(stub - dst), c.chains[i].target});
  }
  cache.commit(size);
  unit.host = dst;
  unit.host_size = uint32_t(size);
  if (span.page2()) {
    unit.page2 = *span.page2();
    unit.frame2 = src.phys_page(unit.page2);
  }
  unit.frame = src.phys_page(unit.eip);
  Unit* u = cache.insert(key, std::move(unit));
  stats.units++;
  stats.tc_bytes = cache.used();
  stats.guest_bytes += u->guest_bytes;
  stats.host_bytes += size;
  stats.cross_page_units += u->frame2 != Unit::kNoFrame;
  stats.direct_jump_units += !c.chains.empty();
  stats.direct_jump_sites += c.chains.size();
  stats.translate_ns += uint64_t(
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0)
          .count());
  if (unit_observer) notify_unit(*u, std::move(chain_record));
  return u;
}

}  // namespace bt
