#include "devices/acpi_pm.h"

#include <utility>

namespace devices {

namespace {
// Bits software may set: PM1_EN: TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN; PM1_CNT: SCI_EN,
// BM_RLD, SLP_TYP (GBL_RLS and SLP_EN are write-only and read as zero).
constexpr uint16_t kEnMask = 0x0721;
constexpr uint16_t kCntMask = 0x1c03;

uint8_t byte_of(uint16_t reg, unsigned which) {
  return uint8_t(reg >> (8 * which));
}
void set_byte(uint16_t& reg, unsigned which, uint8_t v) {
  reg = uint16_t((reg & ~(0xff << (8 * which))) | (v << (8 * which)));
}
}  // namespace

AcpiPm::AcpiPm(std::function<void(uint8_t)> on_sleep, AcpiPmTimer* timer,
               std::function<void(const char*)> on_unsupported)
    : on_sleep_(std::move(on_sleep)), timer_(timer), on_unsupported_(std::move(on_unsupported)) {}

// TMR_STS is set whenever bit 23 of the timer has changed since software last cleared it.
uint16_t AcpiPm::status() {
  const bool toggled = timer_ && (timer_->ticks() >> 23) != (tmr_sts_cleared_ >> 23);
  return uint16_t(s_.sts | (toggled ? kTmrSts : 0));
}

uint32_t AcpiPm::in(uint16_t port, unsigned) {
  const unsigned off = port - kPm1aEvtBase;
  switch (off) {
    case 0:
    case 1:
      return byte_of(status(), off);
    case 2:
    case 3:
      return byte_of(s_.en, off - 2);
    case 4:
    case 5:
      return byte_of(s_.cnt, off - 4);
  }
  return 0xff;
}

void AcpiPm::out(uint16_t port, unsigned, uint32_t raw) {
  const auto v = uint8_t(raw);
  const unsigned off = port - kPm1aEvtBase;
  switch (off) {
    case 0:
    case 1:
      s_.sts = uint16_t(s_.sts & ~(v << (8 * off)));  // write 1 to clear
      if (off == 0 && (v & kTmrSts) && timer_) tmr_sts_cleared_ = timer_->ticks();
      break;
    case 2:
    case 3: {
      const bool timer_irq = s_.en & kTmrEn;
      set_byte(s_.en, off - 2, v);
      s_.en &= kEnMask;
      if (!timer_irq && (s_.en & kTmrEn) && on_unsupported_)
        on_unsupported_("ACPI PM timer overflow interrupt (PM1_EN.TMR_EN)");
      break;
    }
    case 4:
    case 5: {
      uint16_t written = s_.cnt;
      set_byte(written, off - 4, v);
      s_.cnt = uint16_t((written & kCntMask) | kSciEn);  // SCI_EN stays: no legacy mode
      // SLP_EN lives in the high byte with SLP_TYP, so a byte-wise write still carries both.
      if (written & kSlpEn && on_sleep_) on_sleep_(uint8_t((written >> kSlpTypShift) & 7));
      break;
    }
  }
}

}  // namespace devices
