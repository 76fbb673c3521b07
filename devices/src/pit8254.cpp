#include "devices/pit8254.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

namespace devices {
namespace {

constexpr uint64_t kNsPerSecond = 1'000'000'000;

uint16_t from_bcd(uint16_t v) {
  return uint16_t((v >> 12 & 0xf) * 1000 + (v >> 8 & 0xf) * 100 + (v >> 4 & 0xf) * 10 + (v & 0xf));
}

uint16_t to_bcd(uint32_t v) {
  return uint16_t((v / 1000 % 10) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

// The counter's period in clock ticks.
uint32_t period(const PitChannelState& c) {
  if (c.bcd) {
    const uint16_t n = from_bcd(c.count);
    return n == 0 ? 10000 : n;
  }
  return c.count == 0 ? 0x10000 : c.count;
}

bool periodic(const PitChannelState& c) {
  return c.mode == 2 || c.mode == 3;
}
bool gate_triggered_mode(const PitChannelState& c) {
  return c.mode == 1 || c.mode == 5;
}

bool counting(const PitChannelState& c) {
  return c.running && (!gate_triggered_mode(c) || c.triggered);
}

// Number of rising output edges since the count was loaded, at tick d.
uint64_t edges_at(const PitChannelState& c, uint64_t d) {
  if (!counting(c)) return 0;
  const uint64_t p = period(c);
  switch (c.mode) {
    case 2:
    case 3:
      return d / p;
    case 0:
    case 1:
      return d >= p ? 1 : 0;
    default:  // 4, 5: a one-tick low strobe at terminal count, rising again a tick later
      return d >= p + 1 ? 1 : 0;
  }
}

// The tick at which edge number k (from 1) happens, if it ever does.
std::optional<uint64_t> edge_tick(const PitChannelState& c, uint64_t k) {
  if (!counting(c)) return std::nullopt;
  const uint64_t p = period(c);
  if (periodic(c)) return k * p;
  if (k != 1) return std::nullopt;
  return c.mode <= 1 ? p : p + 1;
}

}  // namespace

Pit8254::Pit8254(Clock& clock, IrqLine& irq) : clock_(clock), irq_(irq) {
  s_.channels[2].gate = false;  // port 0x61 bit 0 starts clear
}

uint64_t Pit8254::ticks_since_load(const PitChannelState& c, uint64_t now) const {
  if (now <= c.load_ns) return 0;
  return uint64_t((unsigned __int128)(now - c.load_ns) * kFrequencyHz / kNsPerSecond);
}

uint32_t Pit8254::current_count(const PitChannelState& c, uint64_t now) const {
  if (!counting(c)) return c.count;
  const uint64_t p = period(c);
  const uint64_t d = ticks_since_load(c, now);
  const uint64_t modulus = c.bcd ? 10000 : 0x10000;
  uint64_t value;
  switch (c.mode) {
    case 2:
      value = p - d % p;
      break;
    case 3:
      value = p - (2 * d) % p;  // counts down by two, twice per period
      break;
    default:  // 0, 1, 4, 5 count down once and wrap
      value = (p + modulus - d % modulus) % modulus;
      break;
  }
  value %= modulus;
  return c.bcd ? to_bcd(uint32_t(value)) : uint32_t(value);
}

bool Pit8254::output_at(const PitChannelState& c, uint64_t now) const {
  if (!counting(c)) return c.mode != 0;  // mode 0 drops OUT on the control word; others raise it
  const uint64_t p = period(c);
  const uint64_t d = ticks_since_load(c, now);
  switch (c.mode) {
    case 0:
    case 1:
      return d >= p;
    case 2:
      return d % p != p - 1;
    case 3:
      return d % p < (p + 1) / 2;
    default:
      return d != p;
  }
}

bool Pit8254::output(unsigned channel) {
  if (channel > 2) throw std::out_of_range(fmt::format("PIT channel {} does not exist", channel));
  return output_at(s_.channels[channel], clock_.now_ns());
}

void Pit8254::set_gate(unsigned channel, bool level) {
  if (channel > 2) throw std::out_of_range(fmt::format("PIT channel {} does not exist", channel));
  PitChannelState& c = s_.channels[channel];
  if (level && !c.gate && c.running) {
    if (gate_triggered_mode(c)) c.triggered = true;
    if (gate_triggered_mode(c) || periodic(c)) {
      c.load_ns = clock_.now_ns();
      c.edges_signalled = 0;
    }
  }
  c.gate = level;
}

void Pit8254::load(PitChannelState& c, uint16_t count, uint64_t now) {
  c.count = count;
  c.running = true;
  c.triggered = false;
  c.load_ns = now;
  c.edges_signalled = 0;
}

void Pit8254::latch_count(PitChannelState& c, uint64_t now) {
  if (c.latch_left) return;  // a second latch before the first is read is ignored
  c.latched_count = uint16_t(current_count(c, now));
  c.latch_left = c.access == 3 ? 2 : 1;
}

void Pit8254::write_control(uint8_t value, uint64_t now) {
  const unsigned sel = value >> 6;
  if (sel == 3) {  // read-back: bit 5 low latches counts, bit 4 low latches status
    for (unsigned i = 0; i < 3; ++i) {
      if (!(value & (2u << i))) continue;
      PitChannelState& c = s_.channels[i];
      if (!(value & 0x20)) latch_count(c, now);
      if (!(value & 0x10) && !c.status_latched) {
        c.status = uint8_t((output_at(c, now) ? 0x80 : 0) | (c.running ? 0 : 0x40) | c.access << 4 |
                           c.mode << 1 | (c.bcd ? 1 : 0));
        c.status_latched = true;
      }
    }
    return;
  }
  PitChannelState& c = s_.channels[sel];
  const unsigned access = (value >> 4) & 3;
  if (access == 0) {
    latch_count(c, now);
    return;
  }
  c.access = uint8_t(access);
  c.mode = (value >> 1) & 7;
  if (c.mode >= 6) c.mode -= 4;  // 6 and 7 are aliases of 2 and 3
  c.bcd = value & 1;
  c.read_high = c.write_high = false;
  c.latch_left = 0;
  c.status_latched = false;
  c.running = false;  // the counter waits for its new count
  c.triggered = false;
  c.edges_signalled = 0;
}

void Pit8254::write_count(PitChannelState& c, uint8_t value, uint64_t now) {
  switch (c.access) {
    case 1:
      load(c, value, now);
      break;
    case 2:
      load(c, uint16_t(value << 8), now);
      break;
    default:
      if (!c.write_high) {
        c.write_low = value;
        c.write_high = true;
        if (c.mode == 0) c.running = false;  // mode 0 stops counting on the first byte
      } else {
        c.write_high = false;
        load(c, uint16_t(c.write_low | value << 8), now);
      }
      break;
  }
}

uint8_t Pit8254::read_counter(PitChannelState& c, uint64_t now) {
  if (c.status_latched) {
    c.status_latched = false;
    return c.status;
  }
  if (c.latch_left) {
    // A low/high latch hands out the low byte first; a single-byte latch the selected byte.
    const bool high = c.access == 2 || (c.access == 3 && c.latch_left == 1);
    --c.latch_left;
    return uint8_t(high ? c.latched_count >> 8 : c.latched_count);
  }
  const uint32_t count = current_count(c, now);
  bool high = c.access == 2;
  if (c.access == 3) {
    high = c.read_high;
    c.read_high = !c.read_high;
  }
  return uint8_t(high ? count >> 8 : count);
}

uint32_t Pit8254::in(uint16_t port, unsigned) {
  const unsigned index = (port - kBase) & 3;
  if (index == 3) return 0xff;  // the control word register is write-only
  return read_counter(s_.channels[index], clock_.now_ns());
}

void Pit8254::out(uint16_t port, unsigned, uint32_t value) {
  const uint64_t now = clock_.now_ns();
  const unsigned index = (port - kBase) & 3;
  if (index == 3)
    write_control(uint8_t(value), now);
  else
    write_count(s_.channels[index], uint8_t(value), now);
}

uint64_t Pit8254::edges_due(PitChannelState& c, uint64_t now) {
  const uint64_t edges = edges_at(c, ticks_since_load(c, now));
  const uint64_t period_ns = uint64_t((unsigned __int128)period(c) * kNsPerSecond / kFrequencyHz);
  const uint64_t max_lag =
      lost_ticks_ == LostTicks::Discard
          ? 1
          : std::max<uint64_t>(1, kMaxLagNs / std::max<uint64_t>(1, period_ns));
  if (edges > c.edges_signalled + max_lag) {
    lag_.merged += edges - max_lag - c.edges_signalled;
    c.edges_signalled = edges - max_lag;
  }
  return edges;
}

uint64_t Pit8254::backlog() {
  PitChannelState& c = s_.channels[0];
  return edges_due(c, clock_.now_ns()) - c.edges_signalled;
}

bool Pit8254::update() {
  PitChannelState& c = s_.channels[0];
  const uint64_t due = edges_due(c, clock_.now_ns());
  if (due <= c.edges_signalled) return false;
  if (due > c.edges_signalled + 1) ++lag_.delayed;
  ++c.edges_signalled;
  irq_.pulse(kIrq);
  return true;
}

// The first nanosecond at which ticks_since_load() reaches `tick`.
uint64_t Pit8254::edge_ns(const PitChannelState& c, uint64_t tick) const {
  const auto ns = ((unsigned __int128)tick * kNsPerSecond + kFrequencyHz - 1) / kFrequencyHz;
  return c.load_ns + uint64_t(ns);
}

std::optional<uint64_t> Pit8254::next_deadline_ns() const {
  const PitChannelState& c = s_.channels[0];
  const auto tick = edge_tick(c, c.edges_signalled + 1);
  if (!tick) return std::nullopt;
  return edge_ns(c, *tick);
}

std::optional<uint64_t> Pit8254::next_edge_after_ns(uint64_t now) const {
  const PitChannelState& c = s_.channels[0];
  const auto tick = edge_tick(c, edges_at(c, ticks_since_load(c, now)) + 1);
  if (!tick) return std::nullopt;
  return edge_ns(c, *tick);
}

}  // namespace devices
