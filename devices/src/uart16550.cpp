#include "devices/uart16550.h"

#include <utility>

namespace devices {
namespace {

enum Reg : unsigned {
  kData = 0,
  kIer = 1,
  kIirFcr = 2,
  kLcr = 3,
  kMcr = 4,
  kLsr = 5,
  kMsr = 6,
  kScr = 7
};

constexpr uint8_t kLcrDlab = 0x80;

constexpr uint8_t kIerRx = 0x01, kIerThre = 0x02, kIerLineStatus = 0x04, kIerModem = 0x08;

constexpr uint8_t kLsrDataReady = 0x01, kLsrOverrun = 0x02, kLsrThre = 0x20, kLsrTemt = 0x40;

constexpr uint8_t kIirNone = 0x01, kIirLineStatus = 0x06, kIirRxData = 0x04, kIirRxTimeout = 0x0c,
                  kIirThre = 0x02, kIirModem = 0x00, kIirFifos = 0xc0;

constexpr uint8_t kMcrDtr = 0x01, kMcrRts = 0x02, kMcrOut1 = 0x04, kMcrOut2 = 0x08;

constexpr uint8_t kMsrCts = 0x10, kMsrDsr = 0x20, kMsrRi = 0x40, kMsrDcd = 0x80;
constexpr uint8_t kMsrTrailingRi = 0x04;

}  // namespace

Uart16550::Uart16550(CharSink& sink, IrqLine& irq, unsigned irq_number, uint16_t base)
    : sink_(sink), irq_(irq), irq_number_(irq_number), base_(base) {}

size_t Uart16550::rx_trigger_level() const {
  static constexpr size_t kLevels[4] = {1, 4, 8, 14};
  return kLevels[s_.fcr >> 6];
}

size_t Uart16550::rx_space() const {
  return s_.rx.size() >= rx_capacity() ? 0 : rx_capacity() - s_.rx.size();
}

// Sources in the 16550's priority order. There is no character timer: data below the FIFO
// trigger level reports the character-timeout interrupt at once, which drivers treat alike.
uint8_t Uart16550::interrupt_id() const {
  if ((s_.ier & kIerLineStatus) && s_.lsr_errors) return kIirLineStatus;
  if ((s_.ier & kIerRx) && !s_.rx.empty()) {
    if (!fifo_enabled() || s_.rx.size() >= rx_trigger_level()) return kIirRxData;
    return kIirRxTimeout;
  }
  if ((s_.ier & kIerThre) && s_.thr_interrupt) return kIirThre;
  if ((s_.ier & kIerModem) && (s_.msr_deltas & 0x0f)) return kIirModem;
  return kIirNone;
}

// Loopback wires DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD. Otherwise the line looks like a
// connected terminal (CTS, DSR, DCD), as QEMU reports.
uint8_t Uart16550::modem_status_bits() const {
  if (!loopback()) return kMsrCts | kMsrDsr | kMsrDcd;
  uint8_t m = 0;
  if (s_.mcr & kMcrDtr) m |= kMsrDsr;
  if (s_.mcr & kMcrRts) m |= kMsrCts;
  if (s_.mcr & kMcrOut1) m |= kMsrRi;
  if (s_.mcr & kMcrOut2) m |= kMsrDcd;
  return m;
}

void Uart16550::update_irq() {
  // PC boards gate the IRQ with MCR.OUT2; QEMU does not, and test kernels validated on QEMU rely
  // on that, so neither do we.
  const bool level = interrupt_id() != kIirNone;
  if (level == s_.irq_level) return;
  s_.irq_level = level;
  irq_.set_level(irq_number_, level);
}

void Uart16550::receive(uint8_t byte, bool from_line) {
  if (s_.rx.size() >= rx_capacity()) {
    s_.lsr_errors |= kLsrOverrun;
    return;
  }
  s_.rx.push_back({byte, from_line});
}

bool Uart16550::push_input(uint8_t byte) {
  if (loopback()) return false;
  const bool fits = rx_space() > 0;
  receive(byte, true);
  update_irq();
  return fits;
}

void Uart16550::reset_rx() {
  for (const auto& b : s_.rx)
    if (b.from_line) s_.reset_line_bytes.push_back(b.value);
  s_.rx.clear();
}

std::deque<uint8_t> Uart16550::take_reset_line_bytes() {
  return std::exchange(s_.reset_line_bytes, {});
}

void Uart16550::transmit(uint8_t byte) {
  // Writing THR clears the THRE interrupt; the byte leaves at once, THR is empty again, and the
  // interrupt is re-armed. Lowering in between gives an edge-triggered PIC a fresh edge.
  s_.thr_interrupt = false;
  update_irq();
  if (loopback())
    receive(byte, false);
  else
    sink_.put(byte);
  s_.thr_interrupt = true;
  update_irq();
}

void Uart16550::write_mcr(uint8_t value) {
  const uint8_t before = modem_status_bits();
  s_.mcr = value & 0x1f;
  const uint8_t after = modem_status_bits();
  const uint8_t changed = before ^ after;
  if (changed & kMsrCts) s_.msr_deltas |= 0x01;
  if (changed & kMsrDsr) s_.msr_deltas |= 0x02;
  if ((before & kMsrRi) && !(after & kMsrRi)) s_.msr_deltas |= kMsrTrailingRi;
  if (changed & kMsrDcd) s_.msr_deltas |= 0x08;
}

uint32_t Uart16550::in(uint16_t port, unsigned) {
  const bool dlab = s_.lcr & kLcrDlab;
  uint8_t value = 0xff;
  switch ((port - base_) & 7) {
    case kData:
      if (dlab) {
        value = uint8_t(s_.divisor);
      } else if (s_.rx.empty()) {
        value = 0;
      } else {
        value = s_.rx.front().value;
        s_.rx.pop_front();
      }
      break;
    case kIer:
      value = dlab ? uint8_t(s_.divisor >> 8) : s_.ier;
      break;
    case kIirFcr: {
      const uint8_t id = interrupt_id();
      if (id == kIirThre) s_.thr_interrupt = false;
      value = id | (fifo_enabled() ? kIirFifos : 0);
      break;
    }
    case kLcr:
      value = s_.lcr;
      break;
    case kMcr:
      value = s_.mcr;
      break;
    case kLsr:
      value = kLsrThre | kLsrTemt | s_.lsr_errors | (s_.rx.empty() ? 0 : kLsrDataReady);
      s_.lsr_errors = 0;
      break;
    case kMsr:
      value = modem_status_bits() | s_.msr_deltas;
      s_.msr_deltas = 0;
      break;
    case kScr:
      value = s_.scr;
      break;
  }
  update_irq();
  return value;
}

void Uart16550::out(uint16_t port, unsigned, uint32_t raw) {
  const auto value = uint8_t(raw);
  const bool dlab = s_.lcr & kLcrDlab;
  switch ((port - base_) & 7) {
    case kData:
      if (dlab)
        s_.divisor = uint16_t((s_.divisor & 0xff00) | value);
      else
        transmit(value);
      break;
    case kIer:
      if (dlab) {
        s_.divisor = uint16_t((s_.divisor & 0x00ff) | value << 8);
      } else {
        const uint8_t before = s_.ier;
        s_.ier = value & 0x0f;
        // Enabling the THRE interrupt while the transmitter is empty raises it at once.
        if ((s_.ier & kIerThre) && !(before & kIerThre)) s_.thr_interrupt = true;
        if (!(s_.ier & kIerThre)) s_.thr_interrupt = false;
      }
      break;
    case kIirFcr:
      // Toggling the enable bit, or the reset bits, empties the receive FIFO (the transmit FIFO
      // is always empty here).
      if (((value ^ s_.fcr) & 1) || (value & 0x02)) reset_rx();
      s_.fcr = value & 0xc9;
      if (!fifo_enabled()) s_.fcr = 0;
      break;
    case kLcr:
      s_.lcr = value;
      break;
    case kMcr:
      write_mcr(value);
      break;
    case kLsr:
    case kMsr:
      break;  // read-only here (factory test registers on the real chip)
    case kScr:
      s_.scr = value;
      break;
  }
  update_irq();
}

}  // namespace devices
