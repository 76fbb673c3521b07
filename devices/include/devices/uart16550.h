// 16550A UART (COM1 at 0x3f8, IRQ 4 on a PC). Transmission is instantaneous, so the transmitter
// is always empty; received bytes come from push_input().
#pragma once

#include <cstdint>
#include <deque>

#include "devices/char_sink.h"
#include "devices/io_bus.h"
#include "devices/irq_line.h"

namespace devices {

class Uart16550 final : public PortDevice {
 public:
  static constexpr uint16_t kCom1Base = 0x3f8;
  static constexpr unsigned kCom1Irq = 4;
  static constexpr unsigned kPortCount = 8;
  static constexpr size_t kFifoSize = 16;

  struct State {
    uint8_t ier = 0;
    uint8_t lcr = 0;
    uint8_t mcr = 0;
    uint8_t lsr_errors = 0;  // overrun (the only error we can produce), cleared by reading LSR
    uint8_t msr_deltas = 0;  // MSR bits 0-3, cleared by reading MSR
    uint8_t scr = 0;
    uint8_t fcr = 0;             // last FCR write; bit 0 = FIFOs enabled
    uint16_t divisor = 12;       // 9600 baud
    bool thr_interrupt = false;  // THRE interrupt pending (cleared by IIR read or THR write)
    bool irq_level = false;
    struct RxByte {
      uint8_t value;
      bool from_line;  // push_input() (the serial line), not the loopback path
    };
    std::deque<RxByte> rx;  // receive FIFO (capacity 1 with FIFOs off, 16 with them on)
    std::deque<uint8_t> reset_line_bytes;  // line bytes a FIFO reset emptied out unread
  };

  // base: first port (the offsets the registers answer at are port - base).
  Uart16550(CharSink& sink, IrqLine& irq, unsigned irq_number = kCom1Irq,
            uint16_t base = kCom1Base);

  const char* name() const override { return "uart16550"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  // Queues a received byte. Returns false (and flags an overrun, as the hardware would) when the
  // receive FIFO is full; callers that must not lose input check rx_space() first.
  // In loopback mode the line is cut off from the receiver: the byte is not received.
  bool push_input(uint8_t byte);
  bool receives_line() const { return !loopback(); }
  size_t rx_space() const;
  // The line bytes that FIFO resets (FCR) threw away before the guest read them, oldest first,
  // and forgets them. The guest saw them vanish, as on the chip; a sender may send them again,
  // which the guest cannot tell from their arriving only after the reset.
  std::deque<uint8_t> take_reset_line_bytes();

  const State& state() const { return s_; }

 private:
  bool fifo_enabled() const { return s_.fcr & 1; }
  bool loopback() const { return s_.mcr & 0x10; }
  size_t rx_capacity() const { return fifo_enabled() ? kFifoSize : 1; }
  size_t rx_trigger_level() const;
  uint8_t interrupt_id() const;  // IIR bits 0-3
  uint8_t modem_status_bits() const;
  void receive(uint8_t byte, bool from_line);
  void reset_rx();
  void transmit(uint8_t byte);
  void write_mcr(uint8_t value);
  void update_irq();

  CharSink& sink_;
  IrqLine& irq_;
  unsigned irq_number_;
  uint16_t base_;
  State s_;
};

}  // namespace devices
