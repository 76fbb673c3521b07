// The native runner's mode-switching stubs, assembled with AsmJit at their fixed addresses.
#include <asmjit/x86.h>

#include <cstddef>
#include <cstring>
#include <stdexcept>
#include <string>

#include "native_layout.h"

namespace difftest::native {
namespace {

using namespace asmjit;

constexpr uint16_t kUser32Cs = 0x23, kUserDs = 0x2b, kUser64Cs = 0x33;

class RecordingErrorHandler : public ErrorHandler {
 public:
  void handleError(Error, const char* message, BaseEmitter*) override {
    if (first.empty()) first = message;
  }
  std::string first;
};

template <typename Emit>
void assemble_at(Arch arch, uint32_t address, Emit emit) {
  CodeHolder code;
  RecordingErrorHandler errors;
  code.init(Environment(arch), address);
  code.setErrorHandler(&errors);
  x86::Assembler a(&code);
  emit(a);
  code.flatten();
  code.resolveUnresolvedLinks();
  code.relocateToBase(address);
  if (!errors.first.empty() || code.codeSize() > kStubSlot) {
    throw std::logic_error("difftest: assembling the native runner stub at " +
                           std::to_string(address) +
                           " failed: " + (errors.first.empty() ? "too long" : errors.first));
  }
  code.copyFlattenedData(arena_ptr(address), code.codeSize(), CopySectionFlags::kNone);
}

x86::Mem block_field32(size_t offset) {
  return x86::dword_ptr(kBlockAddr + offset);
}

void enter_stub(x86::Assembler& a) {
  using namespace x86;
  for (const Gp& r : {rbp, rbx, r12, r13, r14, r15}) a.push(r);
  a.mov(rax, kBlockAddr);
  a.mov(qword_ptr(rax, offsetof(Block, host_rsp)), rsp);
  a.mov(ecx, ds);
  a.mov(word_ptr(rax, offsetof(Block, host_ds)), cx);
  a.mov(ecx, es);
  a.mov(word_ptr(rax, offsetof(Block, host_es)), cx);
  // A compat-mode data access through a null DS/ES faults, and 64-bit Linux leaves them null.
  a.mov(ecx, kUserDs);
  a.mov(ds, ecx);
  a.mov(es, ecx);
  a.push(kUserDs);  // SS
  a.push(kScratchStackTop);
  a.pushfq();
  a.push(kUser32Cs);
  a.push(kPrologue);
  a.iretq();
}

void prologue(x86::Assembler& a) {
  using namespace x86;
  a.push(block_field32(offsetof(Block, in_eflags)));
  a.popfd();
  const Gp regs[8] = {eax, ecx, edx, ebx, esp, ebp, esi, edi};
  for (int i = 0; i < 8; ++i) {
    if (i != kEsp) a.mov(regs[i], block_field32(offsetof(Block, in_gpr) + 4 * i));
  }
  a.mov(esp, block_field32(offsetof(Block, in_gpr) + 4 * kEsp));
  a.jmp(imm(kCodeBase));
}

void epilogue(x86::Assembler& a) {
  using namespace x86;
  const Gp regs[8] = {eax, ecx, edx, ebx, esp, ebp, esi, edi};
  for (int i = 0; i < 8; ++i) a.mov(block_field32(offsetof(Block, out_gpr) + 4 * i), regs[i]);
  a.mov(esp, kScratchStackTop);
  a.pushfd();
  a.pop(block_field32(offsetof(Block, out_eflags)));
  // ljmp $0x33, kExitStub: AsmJit has no ptr16:32 operand, so the bytes are spelled out.
  const uint8_t ljmp[7] = {0xea,
                           uint8_t(kExitStub),
                           uint8_t(kExitStub >> 8),
                           uint8_t(kExitStub >> 16),
                           uint8_t(kExitStub >> 24),
                           uint8_t(kUser64Cs),
                           uint8_t(kUser64Cs >> 8)};
  a.embed(ljmp, sizeof ljmp);
}

void exit_stub(x86::Assembler& a) {
  using namespace x86;
  // The guest may have left DF set; the SysV ABI wants it clear on return.
  a.cld();
  a.mov(rax, kBlockAddr);
  a.movzx(ecx, word_ptr(rax, offsetof(Block, host_ds)));
  a.mov(ds, ecx);
  a.movzx(ecx, word_ptr(rax, offsetof(Block, host_es)));
  a.mov(es, ecx);
  a.mov(rsp, qword_ptr(rax, offsetof(Block, host_rsp)));
  for (const Gp& r : {r15, r14, r13, r12, rbx, rbp}) a.pop(r);
  a.ret();
}

}  // namespace

void write_stubs() {
  assemble_at(Arch::kX64, kEnterStub, enter_stub);
  assemble_at(Arch::kX86, kPrologue, prologue);
  assemble_at(Arch::kX86, kEpilogue, epilogue);
  assemble_at(Arch::kX64, kExitStub, exit_stub);
}

}  // namespace difftest::native
