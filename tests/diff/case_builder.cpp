#include "case_builder.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace difftest {

using namespace asmjit;

uint32_t Rng::value(unsigned bits) {
  const uint32_t mask = width_mask(bits);
  const uint32_t sign = sign_bit(bits);
  if (!chance(35)) return u32() & mask;
  switch (below(11)) {
    case 0:
      return 0;
    case 1:
      return 1;
    case 2:
      return 2;
    case 3:
      return sign - 1;
    case 4:
      return sign;
    case 5:
      return sign + 1;
    case 6:
      return mask - 1;
    case 7:
      return mask;
    case 8:
      return 0x55555555u & mask;
    case 9:
      return 0xaaaaaaaau & mask;
    default:
      return below(17);
  }
}

x86::Gp gp(unsigned bits, unsigned id) {
  switch (bits) {
    case 8:
      return id < 4 ? x86::Gp(x86::gpb_lo(id)) : x86::Gp(x86::gpb_hi(id - 4));
    case 16:
      return x86::gpw(id);
    default:
      return x86::gpd(id);
  }
}

CodeHolder* CaseBuilder::init_code() {
  code_.init(Environment(Arch::kX86), kCodeBase);
  code_.setErrorHandler(&errors_);
  return &code_;
}

CaseBuilder::CaseBuilder(std::string name, Rng& r, uint32_t data_bytes) : a(init_code()), rng(r) {
  tc_.name = std::move(name);
  for (uint32_t& g : tc_.in.gpr) g = rng.value(32);
  // Room both ways: pops and pushes of a few KiB stay inside the stack area.
  tc_.in.gpr[kEsp] = kStackBase + kStackSize / 2 + 4 * static_cast<uint32_t>(rng.srange(-256, 256));
  reserved_ = 1u << kEsp;
  tc_.in.eflags = (rng.u32() & kComparedFlags) | kFixedFlags;
  tc_.data.resize(data_bytes);
  for (size_t i = 0; i < tc_.data.size(); i += 4) {
    const uint32_t v = rng.u32();
    std::memcpy(tc_.data.data() + i, &v, std::min<size_t>(4, tc_.data.size() - i));
  }
}

void CaseBuilder::set(unsigned reg, uint32_t value) {
  tc_.in.gpr[reg] = value;
  reserve(reg);
}

void CaseBuilder::set_operand(unsigned bits, unsigned id, uint32_t value) {
  const unsigned h = holder(bits, id);
  uint32_t& g = tc_.in.gpr[h];
  if (bits == 8 && id >= 4) {
    g = (g & ~0xff00u) | ((value & 0xff) << 8);
  } else {
    g = (g & ~width_mask(bits)) | (value & width_mask(bits));
  }
  reserve(h);
}

uint32_t CaseBuilder::operand(unsigned bits, unsigned id) const {
  const uint32_t g = tc_.in.gpr[holder(bits, id)];
  if (bits == 8 && id >= 4) return (g >> 8) & 0xff;
  return g & width_mask(bits);
}

void CaseBuilder::write_data(uint32_t address, const void* bytes, size_t n) {
  if (address < kDataBase || address + n > kDataBase + kDataSize) {
    throw std::logic_error("difftest generator: data write outside the data area in " + tc_.name);
  }
  const size_t end = address - kDataBase + n;
  if (tc_.data.size() < end) tc_.data.resize(end);
  std::memcpy(tc_.data.data() + (address - kDataBase), bytes, n);
}

uint32_t CaseBuilder::read_data(uint32_t address, unsigned bytes) const {
  uint32_t v = 0;
  for (unsigned i = 0; i < bytes; ++i) {
    const size_t at = address - kDataBase + i;
    v |= static_cast<uint32_t>(at < tc_.data.size() ? tc_.data[at] : 0) << (8 * i);
  }
  return v;
}

uint32_t CaseBuilder::data_address(uint32_t size, uint32_t align) {
  const uint32_t room = static_cast<uint32_t>(tc_.data.size()) - size;
  return kDataBase + rng.below(room / align + 1) * align;
}

uint32_t CaseBuilder::stack_address(uint32_t size) {
  return tc_.in.gpr[kEsp] +
         static_cast<uint32_t>(rng.srange(-512, 512 - static_cast<int32_t>(size)));
}

x86::Mem CaseBuilder::mem(uint32_t target, uint32_t size, uint32_t avoid) {
  std::vector<unsigned> free;
  for (unsigned r = 0; r < 8; ++r) {
    if (r != kEsp && !reserved(r) && !(avoid & (1u << r))) free.push_back(r);
  }
  const uint32_t esp = tc_.in.gpr[kEsp];
  const bool on_stack = target >= kStackBase && target < kStackBase + kStackSize;
  if (on_stack && !clobbered(kEsp) && rng.chance(50)) {
    if (!free.empty() && rng.chance(30)) {
      const unsigned index = rng.pick(free);
      const uint32_t shift = rng.below(4);
      const uint32_t iv = rng.below(64);
      set(index, iv);
      return x86::ptr(x86::esp, x86::gpd(index), shift,
                      static_cast<int32_t>(target - esp - (iv << shift)), size);
    }
    return x86::ptr(x86::esp, static_cast<int32_t>(target - esp), size);
  }
  const uint32_t form = free.empty() ? 0 : rng.below(10);
  if (form == 0) return x86::ptr(uint64_t{target}, size);
  const unsigned base = rng.pick(free);
  auto signed_disp = [&](int32_t lo, int32_t hi) {
    const int32_t d = rng.srange(lo, hi);
    return rng.coin() ? d : -d;
  };
  switch (form) {
    case 1:
      set(base, target);
      return x86::ptr(x86::gpd(base), 0, size);
    case 2:
    case 3: {
      const int32_t disp = form == 2 ? rng.srange(-128, 127) : signed_disp(128, 0x40000);
      set(base, target - static_cast<uint32_t>(disp));
      return x86::ptr(x86::gpd(base), disp, size);
    }
    default:
      break;
  }
  const uint32_t shift = rng.below(4);
  const uint32_t scale = 1u << shift;
  if (form == 4 && free.size() > 0 && rng.chance(15)) {
    // Base and index are the same register: v * (1 + scale) + disp == target.
    const int32_t d0 = rng.srange(-100, 100);
    const uint32_t t = target - static_cast<uint32_t>(d0);
    const uint32_t v = t / (1 + scale);
    const int32_t disp = d0 + static_cast<int32_t>(t % (1 + scale));
    set(base, v);
    return x86::ptr(x86::gpd(base), x86::gpd(base), shift, disp, size);
  }
  std::vector<unsigned> indexes;
  for (unsigned r : free) {
    if (r != base) indexes.push_back(r);
  }
  if (indexes.empty()) {
    set(base, target);
    return x86::ptr(x86::gpd(base), 0, size);
  }
  const unsigned index = rng.pick(indexes);
  switch (form) {
    case 4:
    case 5:
    case 6:
    case 7: {
      const int32_t disp = form == 4   ? 0
                           : form == 5 ? rng.srange(-128, 127)
                                       : signed_disp(128, 0x40000);
      // Index values both ways, so that base + index * scale crosses the target from either side.
      const uint32_t iv = static_cast<uint32_t>(rng.srange(-0x400, 0x400));
      set(index, iv);
      set(base, target - static_cast<uint32_t>(disp) - iv * scale);
      return x86::ptr(x86::gpd(base), x86::gpd(index), shift, disp, size);
    }
    case 8: {  // no base: [index * scale + disp32]
      const uint32_t iv = rng.below(0x800);
      set(index, iv);
      return x86::ptr(uint64_t{target - iv * scale}, x86::gpd(index), shift, size);
    }
    default: {  // arbitrary register values: the effective address wraps around 2^32
      const uint32_t iv = rng.u32();
      const int32_t disp = static_cast<int32_t>(rng.u32());
      set(index, iv);
      set(base, target - static_cast<uint32_t>(disp) - iv * scale);
      return x86::ptr(x86::gpd(base), x86::gpd(index), shift, disp, size);
    }
  }
}

void CaseBuilder::raw(std::initializer_list<uint8_t> bytes) {
  a.embed(bytes.begin(), bytes.size());
}

void CaseBuilder::reg_label(unsigned reg, Label label) {
  reserve(reg);
  reg_labels_.emplace_back(reg, label);
}

void CaseBuilder::data_label(uint32_t address, Label label) {
  write32(address, 0);
  data_labels_.emplace_back(address, label);
}

TestCase CaseBuilder::finish() {
  code_.flatten();
  code_.resolveUnresolvedLinks();
  code_.relocateToBase(kCodeBase);
  auto bug = [&](const std::string& what) {
    return std::logic_error("difftest generator bug in case " + tc_.name + ": " + what);
  };
  if (!errors_.first.empty()) throw bug(errors_.first);
  auto address_of = [&](Label label) {
    if (!code_.isLabelBound(label)) throw bug("unbound label");
    return kCodeBase + static_cast<uint32_t>(code_.labelOffsetFromBase(label));
  };
  for (const auto& [reg, label] : reg_labels_) tc_.in.gpr[reg] = address_of(label);
  for (const auto& [address, label] : data_labels_) write32(address, address_of(label));
  tc_.code.resize(code_.codeSize());
  code_.copyFlattenedData(tc_.code.data(), tc_.code.size(), CopySectionFlags::kNone);
  return std::move(tc_);
}

}  // namespace difftest
