// The engine fixture the translator's engine tests share: a fixed range of this process mapped
// as guest RAM (guest linear = host address, as in the shadow window), a vCPU reset there in
// flat 32-bit protected mode, and an engine run over code placed at the start of the range.
// Each test file keeps its own layout and special setup; this holds only what they all repeat.
#pragma once

#include <gtest/gtest.h>
#include <sys/mman.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "bt/engine.h"
#include "cpu/cpu.h"

namespace bt_test {

// Guest memory accesses go straight to the host address.
struct DirectMemory final : cpu::Memory {
  cpu::MaybeFault read(uint32_t a, void* d, unsigned n, Mode) override {
    std::memcpy(d, reinterpret_cast<void*>(uintptr_t(a)), n);
    return {};
  }
  cpu::MaybeFault write(uint32_t a, const void* s, unsigned n, Mode) override {
    std::memcpy(reinterpret_cast<void*>(uintptr_t(a)), s, n);
    return {};
  }
};
// Guest memory the tests never reach (their code comes from the CodeSource).
struct NoMemory final : cpu::Memory {
  cpu::MaybeFault read(uint32_t, void*, unsigned, Mode) override { return {}; }
  cpu::MaybeFault write(uint32_t, const void*, unsigned, Mode) override { return {}; }
};
// No devices: reads float high, writes are dropped.
struct NoPorts final : cpu::Ports {
  uint32_t in(uint16_t, unsigned) override { return ~0u; }
  void out(uint16_t, unsigned, uint32_t) override {}
};
struct NoHooks final : cpu::Hooks {
  void paging_changed(uint32_t, uint32_t) override {}
  void cr3_written(uint32_t) override {}
  void invlpg(uint32_t) override {}
};

// Guest code read in place from [begin, end). With `frames`, each 4K page from `begin` on is
// its own guest frame (so frames can be invalidated one by one); else no pages are kept apart.
struct DirectCode final : bt::CodeSource {
  DirectCode(uint32_t begin, uint32_t end, bool frames = false)
      : begin_(begin), end_(end), frames_(frames) {}
  const uint8_t* code(uint32_t linear, uint32_t& avail) override {
    if (linear < begin_ || linear >= end_) return nullptr;
    avail = 4096 - (linear & 4095);
    return reinterpret_cast<const uint8_t*>(uintptr_t(linear));
  }
  uint32_t phys_page(uint32_t linear) override { return frames_ ? (linear - begin_) >> 12 : 0; }

 private:
  uint32_t begin_, end_;
  bool frames_;
};

// `Ports` is what the guest's IN/OUT reach.
template <class Ports = NoPorts>
class MappedEngineTest : public ::testing::Test {
 protected:
  MappedEngineTest(uint32_t base, uint32_t size, uint32_t stack_top, DirectCode src)
      : base_(base), size_(size), stack_top_(stack_top), src_(src) {}

  void SetUp() override {
    void* p = mmap(reinterpret_cast<void*>(uintptr_t(base_)), size_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    ASSERT_EQ(p, reinterpret_cast<void*>(uintptr_t(base_))) << "cannot map the test area";
    cpu_.reset_multiboot(base_, 0, 0);
    v_.gpr[cpu::ESP] = stack_top_;
  }
  void TearDown() override { munmap(reinterpret_cast<void*>(uintptr_t(base_)), size_); }

  void load(const std::vector<uint8_t>& code) {
    std::memcpy(reinterpret_cast<void*>(uintptr_t(base_)), code.data(), code.size());
  }
  // Places code at the base, runs until EIP reaches the end of it, keeps the engine's stats.
  bt::RunExit run(const std::vector<uint8_t>& code, bt::Options opt = {}) {
    load(code);
    bt::Engine e(cpu_, src_, opt);
    e.set_stop_eip(base_ + uint32_t(code.size()));
    auto x = e.run();
    stats_ = e.stats();
    return x;
  }
  uint32_t& reg(cpu::Reg r) { return v_.gpr[r]; }

 private:
  uint32_t base_, size_, stack_top_;

 protected:
  cpu::Vcpu v_;
  DirectMemory mem_;
  Ports ports_;
  NoHooks hooks_;
  cpu::Cpu cpu_{v_, mem_, ports_, hooks_};
  DirectCode src_;
  bt::Stats stats_;
};

}  // namespace bt_test
