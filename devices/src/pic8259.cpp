#include "devices/pic8259.h"

#include <fmt/format.h>

#include <stdexcept>

namespace devices {
namespace {

constexpr unsigned kCascadeInput = 2;

uint8_t trigger_level_mask(const PicChipState& c) {
  return c.level_mode ? 0xff : c.elcr;
}

// Priority rank (0 highest) of the best bit in mask, or 8 if none.
int best_priority(const PicChipState& c, uint8_t mask) {
  if (mask == 0) return 8;
  int p = 0;
  while (!(mask & (1 << ((p + c.priority_add) & 7)))) ++p;
  return p;
}

// The input this chip would interrupt for now, or -1.
int pending_irq(const PicChipState& c, bool is_master) {
  const int request = best_priority(c, c.irr & ~c.imr);
  if (request == 8) return -1;
  uint8_t in_service = c.isr;
  if (c.special_mask) in_service &= ~c.imr;
  // Special fully nested mode lets a second slave interrupt through while the first is serviced.
  if (c.special_fully_nested && is_master) in_service &= ~(1 << kCascadeInput);
  return request < best_priority(c, in_service) ? (request + c.priority_add) & 7 : -1;
}

void set_input(PicChipState& c, unsigned irq, bool level) {
  const uint8_t bit = uint8_t(1 << irq);
  if (trigger_level_mask(c) & bit) {
    if (level)
      c.irr |= bit;
    else
      c.irr &= ~bit;
  } else if (level && !(c.input_levels & bit)) {
    c.irr |= bit;  // a rising edge latches the request
  }
  if (level)
    c.input_levels |= bit;
  else
    c.input_levels &= ~bit;
}

void intack(PicChipState& c, int irq) {
  const uint8_t bit = uint8_t(1 << irq);
  if (c.auto_eoi) {
    if (c.rotate_on_auto_eoi) c.priority_add = uint8_t((irq + 1) & 7);
  } else {
    c.isr |= bit;
  }
  // A level-triggered request stays until the device drops its line.
  if (!(trigger_level_mask(c) & bit)) c.irr &= ~bit;
}

// ICW1 starts initialization afresh; ELCR survives, as on the PIIX.
void start_init(PicChipState& c, uint8_t icw1) {
  const uint8_t elcr = c.elcr;
  const uint8_t irr = c.irr;
  c = PicChipState{};
  c.elcr = elcr;
  c.irr = irr & elcr;  // a pending level request is still asserted
  c.init_step = 1;
  c.icw4_needed = icw1 & 0x01;
  c.single = icw1 & 0x02;
  c.level_mode = icw1 & 0x08;
}

void write_command(PicChipState& c, uint8_t v) {
  if (v & 0x10) {
    start_init(c, v);
    return;
  }
  if (v & 0x08) {  // OCW3
    if (v & 0x04) c.poll = true;
    if (v & 0x02) c.read_isr = v & 0x01;
    if (v & 0x40) c.special_mask = v & 0x20;
    return;
  }
  // OCW2: R SL EOI in bits 7-5, level in 2-0.
  const unsigned cmd = v >> 5;
  const int level = v & 7;
  switch (cmd) {
    case 0:  // clear rotate in automatic EOI mode
    case 4:  // set rotate in automatic EOI mode
      c.rotate_on_auto_eoi = cmd == 4;
      break;
    case 1:    // non-specific EOI
    case 5: {  // rotate on non-specific EOI
      const int p = best_priority(c, c.isr);
      if (p == 8) break;
      const int irq = (p + c.priority_add) & 7;
      c.isr &= ~(1 << irq);
      if (cmd == 5) c.priority_add = uint8_t((irq + 1) & 7);
      break;
    }
    case 3:  // specific EOI
      c.isr &= ~(1 << level);
      break;
    case 6:  // set priority: level becomes the lowest
      c.priority_add = uint8_t((level + 1) & 7);
      break;
    case 7:  // rotate on specific EOI
      c.isr &= ~(1 << level);
      c.priority_add = uint8_t((level + 1) & 7);
      break;
    default:  // 2: no operation
      break;
  }
}

void write_data(PicChipState& c, uint8_t v) {
  switch (c.init_step) {
    case 0:  // OCW1
      c.imr = v;
      break;
    case 1:  // ICW2
      c.vector_base = v & 0xf8;
      c.init_step = c.single ? (c.icw4_needed ? 3 : 0) : 2;
      break;
    case 2:  // ICW3 (cascade wiring is fixed on the PC; keep it for the state only)
      c.icw3 = v;
      c.init_step = c.icw4_needed ? 3 : 0;
      break;
    case 3:  // ICW4: SFNM in bit 4, AEOI in bit 1; 8086 mode and buffering do not matter here
      c.special_fully_nested = v & 0x10;
      c.auto_eoi = v & 0x02;
      c.init_step = 0;
      break;
  }
}

}  // namespace

void Pic8259::attach_to(IoBus& bus) {
  bus.attach(kMasterBase, 2, *this);
  bus.attach(kSlaveBase, 2, *this);
  bus.attach(kElcrBase, 2, *this);
}

void Pic8259::refresh() {
  s_.slave.output = pending_irq(s_.slave, false) >= 0;
  set_input(s_.master, kCascadeInput, s_.slave.output);
  const bool before = s_.master.output;
  s_.master.output = pending_irq(s_.master, true) >= 0;
  if (s_.master.output != before && on_intr_) on_intr_(s_.master.output);
}

void Pic8259::set_level(unsigned irq, bool level) {
  if (irq > 15) throw std::out_of_range(fmt::format("PIC input {} does not exist", irq));
  if (irq == kCascadeInput) irq = 9;
  if (irq < 8)
    set_input(s_.master, irq, level);
  else
    set_input(s_.slave, irq - 8, level);
  refresh();
}

bool Pic8259::requested(unsigned irq) const {
  if (irq > 15) throw std::out_of_range(fmt::format("PIC input {} does not exist", irq));
  if (irq == kCascadeInput) irq = 9;
  const PicChipState& c = irq < 8 ? s_.master : s_.slave;
  return c.irr & (1u << (irq & 7));
}

uint8_t Pic8259::acknowledge() {
  const int irq = pending_irq(s_.master, true);
  uint8_t vector;
  if (irq < 0) {
    vector = s_.master.vector_base + 7;  // spurious, nothing goes in service
  } else {
    if (irq == int(kCascadeInput)) {
      int slave_irq = pending_irq(s_.slave, false);
      if (slave_irq >= 0)
        intack(s_.slave, slave_irq);
      else
        slave_irq = 7;  // spurious on the slave; the master's IRQ 2 still goes in service
      vector = uint8_t(s_.slave.vector_base + slave_irq);
    } else {
      vector = uint8_t(s_.master.vector_base + irq);
    }
    intack(s_.master, irq);
  }
  refresh();
  return vector;
}

uint32_t Pic8259::in(uint16_t port, unsigned) {
  if (port == kElcrBase) return s_.master.elcr;
  if (port == kElcrBase + 1) return s_.slave.elcr;
  const bool is_master = port < kSlaveBase;
  PicChipState& c = is_master ? s_.master : s_.slave;
  uint8_t value;
  if (c.poll) {
    // The poll byte: bit 7 = interrupt, bits 2-0 = its input; the read acknowledges it.
    c.poll = false;
    const int irq = pending_irq(c, is_master);
    if (irq < 0) return 0;
    intack(c, irq);
    refresh();
    return 0x80u | unsigned(irq);
  }
  if (port & 1)
    value = c.imr;
  else
    value = c.read_isr ? c.isr : c.irr;
  return value;
}

void Pic8259::out(uint16_t port, unsigned, uint32_t raw) {
  const auto v = uint8_t(raw);
  // The PIIX's ELCR cannot make the timer, keyboard, cascade, RTC or FPU inputs level-triggered.
  if (port == kElcrBase) {
    s_.master.elcr = v & 0xf8;
  } else if (port == kElcrBase + 1) {
    s_.slave.elcr = v & 0xde;
  } else {
    PicChipState& c = port < kSlaveBase ? s_.master : s_.slave;
    if (port & 1)
      write_data(c, v);
    else
      write_command(c, v);
  }
  refresh();
}

}  // namespace devices
