// 8254 programmable interval timer at 0x40-0x43, counting at 1193182 Hz of a Clock. Channel 0
// drives IRQ 0. Counters are computed from the time their count was loaded, not stepped, so the
// monitor only calls update() when a deadline passes (or whenever it likes).
//
// Simplifications: a new count takes effect at once in every mode (the chip waits for the end of
// the current period in modes 2 and 3); a low gate does not pause counting (only channel 2's gate
// can be low on a PC); a rising gate restarts modes 2 and 3 and triggers modes 1 and 5. Channels 0
// and 1 have their gates tied high, so modes 1 and 5 never trigger there.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "devices/clock.h"
#include "devices/io_bus.h"
#include "devices/irq_line.h"

namespace devices {

struct PitChannelState {
  uint16_t count = 0;  // as written: 0 means 65536 (10000 in BCD)
  uint8_t mode = 0;
  uint8_t access = 3;  // 1: low byte, 2: high byte, 3: low then high
  bool bcd = false;
  bool read_high = false;   // next read of a low/high pair returns the high byte
  bool write_high = false;  // next write of a low/high pair is the high byte
  uint8_t write_low = 0;    // the low byte of a pair being written
  uint8_t latch_left = 0;   // bytes of latched_count still to read (0 = not latched)
  uint16_t latched_count = 0;
  bool status_latched = false;
  uint8_t status = 0;
  bool gate = true;
  bool running = false;          // a count is loaded and counting
  bool triggered = false;        // modes 1 and 5: the gate has risen since the count was loaded
  uint64_t load_ns = 0;          // when counting (re)started
  uint64_t edges_signalled = 0;  // channel 0: output edges already sent to IRQ 0
};

class Pit8254 final : public PortDevice {
 public:
  static constexpr uint16_t kBase = 0x40;
  static constexpr unsigned kPortCount = 4;
  static constexpr uint64_t kFrequencyHz = 1193182;
  static constexpr unsigned kIrq = 0;

  struct State {
    std::array<PitChannelState, 3> channels;
  };

  Pit8254(Clock& clock, IrqLine& irq);

  const char* name() const override { return "pit8254"; }
  uint32_t in(uint16_t port, unsigned size) override;
  void out(uint16_t port, unsigned size, uint32_t value) override;

  // Sends IRQ 0 an edge if channel 0's output rose since the last call; periods that went by
  // unobserved collapse into that one edge, as a real PIC would latch only one.
  void update();
  // When channel 0's next output edge is due (possibly already past), or nothing if it will not
  // produce one (not programmed, or a one-shot that has fired).
  std::optional<uint64_t> next_deadline_ns() const;

  // Channel 2's gate is port 0x61 bit 0; the others are tied high.
  void set_gate(unsigned channel, bool level);
  bool output(unsigned channel);
  Clock& clock() { return clock_; }

  const State& state() const { return s_; }

 private:
  uint64_t ticks_since_load(const PitChannelState& c, uint64_t now) const;
  uint32_t current_count(const PitChannelState& c, uint64_t now) const;
  bool output_at(const PitChannelState& c, uint64_t now) const;
  void write_control(uint8_t value, uint64_t now);
  void write_count(PitChannelState& c, uint8_t value, uint64_t now);
  void load(PitChannelState& c, uint16_t count, uint64_t now);
  void latch_count(PitChannelState& c, uint64_t now);
  uint8_t read_counter(PitChannelState& c, uint64_t now);

  Clock& clock_;
  IrqLine& irq_;
  State s_;
};

}  // namespace devices
