#include "interrupt_stats.h"

#include <gtest/gtest.h>

namespace monitor {
namespace {

devices::Pic8259::State remapped() {
  devices::Pic8259::State s;
  s.master.vector_base = 0x20;
  s.slave.vector_base = 0x28;
  return s;
}

TEST(IrqForVector, MapsVectorsBackToPicInputs) {
  const auto s = remapped();
  EXPECT_EQ(irq_for_vector(s, 0x20), 0u);
  EXPECT_EQ(irq_for_vector(s, 0x24), 4u);
  EXPECT_EQ(irq_for_vector(s, 0x27), 7u);
  EXPECT_EQ(irq_for_vector(s, 0x28), 8u);
  EXPECT_EQ(irq_for_vector(s, 0x2f), 15u);
}

TEST(IrqForVector, CascadeAndForeignVectorsHaveNoInput) {
  const auto s = remapped();
  EXPECT_FALSE(irq_for_vector(s, 0x22)) << "the master's input 2 is the slave";
  EXPECT_FALSE(irq_for_vector(s, 0x30));
  EXPECT_FALSE(irq_for_vector(s, 0x08));
}

TEST(InterruptStats, ReportNamesIrqsVectorsAndHalts) {
  InterruptStats st;
  st.record(0x20, 0u);
  st.record(0x20, 0u);
  st.record(0x24, 4u);
  st.halts = 3;
  st.sleeps = 2;
  st.slept_ns = 1'500'000'000;
  const std::string r = st.report(7);
  EXPECT_NE(r.find("delivered                 3\n"), std::string::npos) << r;
  EXPECT_NE(r.find("IRQ 0                   2\n"), std::string::npos) << r;
  EXPECT_NE(r.find("IRQ 4                   1\n"), std::string::npos) << r;
  EXPECT_NE(r.find("vector 0x20             2\n"), std::string::npos) << r;
  EXPECT_NE(r.find("timer signals             7\n"), std::string::npos) << r;
  EXPECT_NE(r.find("hlt                       3 (2 host sleeps, 1.500 s asleep)"),
            std::string::npos)
      << r;
  EXPECT_EQ(r.find("IRQ 1 "), std::string::npos) << "lines without interrupts are left out";
}

}  // namespace
}  // namespace monitor
