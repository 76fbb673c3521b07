#include "acpi_tables.h"

#include <cstring>
#include <string_view>

#include "devices/acpi_pm.h"
#include "devices/reset_control.h"

namespace monitor {

namespace {
using devices::AcpiPm;

constexpr std::string_view kOemId = "BT86  ";         // 6 bytes
constexpr std::string_view kOemTableId = "BT86ACPI";  // 8 bytes

// An ACPI 1.0 FADT plus the reset register: revision 2 (the "ACPI 1.0b" FADT that Linux's
// acpi_reboot() requires for RESET_REG), 132 bytes, up to its minor-revision byte (ACPICA's
// ACPI_FADT_V2_SIZE); the 32-bit block addresses stay the ones in use (no X_ fields).
constexpr uint32_t kFadtLen = 132;
constexpr uint8_t kFadtRevision = 2;
constexpr uint32_t kFacsLen = 64;

// FADT flags: WBINVD works, C1 (hlt) supported, power and sleep buttons are not fixed-feature
// buttons (there are none), RESET_REG_SUP (the reset register below).
constexpr uint32_t kFadtFlags = (1u << 0) | (1u << 2) | (1u << 4) | (1u << 5) | (1u << 10);

// \_S5 as AML: Name (_S5_, Package (4) {5, 5, 0, 0}) — SLP_TYP for PM1a and PM1b.
constexpr uint8_t kS5Aml[] = {
    0x08, '_',
    'S',  '5',
    '_',  // NameOp, NameSeg
    0x12, 0x08,
    0x04,                     // PackageOp, PkgLength (8 bytes from here), NumElements
    0x0a, AcpiPm::kSlpTypS5,  // BytePrefix value
    0x0a, AcpiPm::kSlpTypS5,  //
    0x00, 0x00,               // ZeroOp, ZeroOp
};

class Block {
 public:
  explicit Block(size_t size) : b_(size, 0) {}
  void put(uint32_t off, std::string_view s) { std::memcpy(&b_[off], s.data(), s.size()); }
  void u8(uint32_t off, uint8_t v) { b_[off] = v; }
  void u16(uint32_t off, uint16_t v) { std::memcpy(&b_[off], &v, 2); }
  void u32(uint32_t off, uint32_t v) { std::memcpy(&b_[off], &v, 4); }
  void bytes(uint32_t off, const uint8_t* p, size_t n) { std::memcpy(&b_[off], p, n); }
  // The common 36-byte header of every table except RSDP and FACS.
  void header(uint32_t off, std::string_view sig, uint32_t len, uint8_t revision) {
    put(off, sig);
    u32(off + 4, len);
    u8(off + 8, revision);
    put(off + 10, kOemId);
    put(off + 16, kOemTableId);
    u32(off + 24, 1);  // OEM revision
    put(off + 28, "BT86");
    u32(off + 32, 1);  // creator revision
  }
  void checksum(uint32_t off, uint32_t len, uint32_t field) {
    b_[off + field] = 0;
    b_[off + field] = acpi_checksum(&b_[off], len);
  }
  std::vector<uint8_t> take() { return std::move(b_); }

 private:
  std::vector<uint8_t> b_;
};
}  // namespace

uint8_t acpi_checksum(const uint8_t* p, size_t len) {
  uint8_t sum = 0;
  for (size_t i = 0; i < len; ++i) sum = uint8_t(sum + p[i]);
  return uint8_t(-sum);
}

std::vector<uint8_t> build_acpi_tables(uint32_t base) {
  using L = AcpiLayout;
  const uint32_t dsdt_len = 36 + sizeof kS5Aml;
  Block b(L::kDsdt + dsdt_len);

  // RSDP (ACPI 1.0: 20 bytes, revision 0, RSDT only).
  b.put(L::kRsdp, "RSD PTR ");
  b.put(L::kRsdp + 9, kOemId);
  b.u32(L::kRsdp + 16, base + L::kRsdt);
  b.checksum(L::kRsdp, 20, 8);

  // FACS: no checksum; the firmware waking vector stays 0 (no S1-S4 offered).
  b.put(L::kFacs, "FACS");
  b.u32(L::kFacs + 4, kFacsLen);

  // RSDT: one entry, the FADT.
  b.header(L::kRsdt, "RSDT", 36 + 4, 1);
  b.u32(L::kRsdt + 36, base + L::kFadt);
  b.checksum(L::kRsdt, 36 + 4, 9);

  const uint32_t f = L::kFadt;
  b.header(f, "FACP", kFadtLen, kFadtRevision);
  b.u32(f + 36, base + L::kFacs);
  b.u32(f + 40, base + L::kDsdt);
  b.u16(f + 46, AcpiPm::kSciIrq);
  b.u32(f + 56, AcpiPm::kPm1aEvtBase);
  b.u32(f + 64, AcpiPm::kPm1aCntBase);
  b.u32(f + 76, devices::AcpiPmTimer::kPort);
  b.u8(f + 88, AcpiPm::kEvtLen);
  b.u8(f + 89, AcpiPm::kCntLen);
  b.u8(f + 91, devices::AcpiPmTimer::kLen);
  b.u16(f + 96, 101);   // P_LVL2_LAT > 100: no C2
  b.u16(f + 98, 1001);  // P_LVL3_LAT > 1000: no C3
  b.u32(f + 112, kFadtFlags);
  // RESET_REG: a generic address (system I/O, 8 bits at offset 0) naming the PIIX reset control
  // register, and RESET_VALUE: SRST | RCPU, a hard reset (devices::ResetControl).
  b.u8(f + 116, 1);  // address space: system I/O
  b.u8(f + 117, 8);  // register bit width
  b.u32(f + 120, devices::ResetControl::kPort);
  b.u8(f + 128, devices::ResetControl::kSysReset | devices::ResetControl::kResetCpu);
  b.checksum(f, kFadtLen, 9);

  b.header(L::kDsdt, "DSDT", dsdt_len, 1);
  b.bytes(L::kDsdt + 36, kS5Aml, sizeof kS5Aml);
  b.checksum(L::kDsdt, dsdt_len, 9);
  return b.take();
}

}  // namespace monitor
