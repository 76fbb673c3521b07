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

  // A PIC latches one request per input, so a real PC loses timer periods its CPU did not take
  // in time. Under a VMM the CPU is late because the host ran something else, and merging those
  // periods makes the guest's clock fall behind (issue 11). So the PIT keeps count of edges it
  // has not signalled yet and update() sends IRQ 0 one of them per call; the caller calls it
  // when the PIC can latch another request (QEMU's lost_tick_policy=delay, KVM's PIT
  // reinjection). A lag longer than kMaxLagNs (a host that stopped the process, or a period
  // shorter than the guest's tick handler) is merged, so a guest can always catch up.
  static constexpr uint64_t kMaxLagNs = 2'000'000'000;
  // QEMU's lost_tick_policy names: `delay` (the above, the default) or `discard` (merge every
  // late period into one edge, as the PIC would: a guest that cannot keep up with its own
  // timer under host load then keeps running instead of only catching up).
  enum class LostTicks { Delay, Discard };
  void set_lost_ticks(LostTicks policy) { lost_ticks_ = policy; }
  struct Lag {
    uint64_t delayed = 0;  // edges signalled after a later period was already due
    uint64_t merged = 0;   // periods dropped by the kMaxLagNs merge
  };

  // Sends IRQ 0 one edge if channel 0's output rose more often than it has signalled; returns
  // whether it did.
  bool update();
  // Edges of channel 0 that are due but not yet signalled (after the kMaxLagNs merge).
  uint64_t backlog();
  // When channel 0's next unsignalled output edge is due (possibly already past), or nothing if
  // it will not produce one (not programmed, or a one-shot that has fired).
  std::optional<uint64_t> next_deadline_ns() const;
  // When channel 0's next output edge after `now` is due: where a host timer should aim while
  // signalled edges wait for the guest.
  std::optional<uint64_t> next_edge_after_ns(uint64_t now) const;

  // Channel 2's gate is port 0x61 bit 0; the others are tied high.
  void set_gate(unsigned channel, bool level);
  bool output(unsigned channel);
  Clock& clock() { return clock_; }

  const State& state() const { return s_; }
  const Lag& lag() const { return lag_; }

 private:
  uint64_t ticks_since_load(const PitChannelState& c, uint64_t now) const;
  uint32_t current_count(const PitChannelState& c, uint64_t now) const;
  bool output_at(const PitChannelState& c, uint64_t now) const;
  void write_control(uint8_t value, uint64_t now);
  void write_count(PitChannelState& c, uint8_t value, uint64_t now);
  void load(PitChannelState& c, uint16_t count, uint64_t now);
  void latch_count(PitChannelState& c, uint64_t now);
  uint8_t read_counter(PitChannelState& c, uint64_t now);
  uint64_t edges_due(PitChannelState& c, uint64_t now);
  uint64_t edge_ns(const PitChannelState& c, uint64_t tick) const;

  Clock& clock_;
  IrqLine& irq_;
  State s_;
  Lag lag_;
  LostTicks lost_ticks_ = LostTicks::Delay;
};

}  // namespace devices
