#include "devices/pic8259.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace devices {
namespace {

class PicTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pic.attach_to(bus);
    pic.set_intr_callback([this](bool level) { intr_changes.push_back(level); });
  }
  void wr(uint16_t port, uint8_t v) { bus.out(port, 1, v); }
  uint8_t rd(uint16_t port) { return uint8_t(bus.in(port, 1)); }

  // As Linux's init_8259A: vectors 0x30/0x38, everything masked by the caller afterwards.
  void init_like_linux(bool auto_eoi = false) {
    wr(0x21, 0xff);
    wr(0x20, 0x11);
    wr(0x21, 0x30);
    wr(0x21, 0x04);
    wr(0x21, auto_eoi ? 0x03 : 0x01);
    wr(0xa0, 0x11);
    wr(0xa1, 0x38);
    wr(0xa1, 0x02);
    wr(0xa1, 0x01);
  }
  // As a typical test kernel: vectors 0x20/0x28, then unmask.
  void init_like_test_kernel() {
    wr(0x20, 0x11);
    wr(0xa0, 0x11);
    wr(0x21, 0x20);
    wr(0xa1, 0x28);
    wr(0x21, 0x04);
    wr(0xa1, 0x02);
    wr(0x21, 0x01);
    wr(0xa1, 0x01);
    wr(0x21, 0x00);
    wr(0xa1, 0x00);
  }
  void edge(unsigned irq) {
    pic.raise(irq);
    pic.lower(irq);
  }
  uint8_t irr_master() {
    wr(0x20, 0x0a);
    return rd(0x20);
  }
  uint8_t isr_master() {
    wr(0x20, 0x0b);
    return rd(0x20);
  }
  uint8_t isr_slave() {
    wr(0xa0, 0x0b);
    return rd(0xa0);
  }

  Pic8259 pic;
  IoBus bus;
  std::vector<bool> intr_changes;
};

TEST_F(PicTest, LinuxInitSequenceSetsVectorsAndMasks) {
  init_like_linux();
  EXPECT_EQ(pic.state().master.vector_base, 0x30);
  EXPECT_EQ(pic.state().slave.vector_base, 0x38);
  EXPECT_EQ(pic.state().master.init_step, 0);
  EXPECT_EQ(pic.state().slave.init_step, 0);
  EXPECT_EQ(pic.state().master.icw3, 0x04);
  EXPECT_EQ(pic.state().slave.icw3, 0x02);
  EXPECT_FALSE(pic.state().master.auto_eoi);
  // ICW1 cleared the mask; Linux then restores its own (the probe reads it back).
  EXPECT_EQ(rd(0x21), 0x00);
  wr(0x21, 0xfb);
  wr(0xa1, 0xff);
  EXPECT_EQ(rd(0x21), 0xfb);
  EXPECT_EQ(rd(0xa1), 0xff);
}

TEST_F(PicTest, EdgeOnUnmaskedInputRaisesIntrAndAcknowledgeDeliversItsVector) {
  init_like_test_kernel();
  EXPECT_FALSE(pic.intr());
  edge(0);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x20);
  EXPECT_FALSE(pic.intr());
  EXPECT_EQ(isr_master(), 0x01);
  EXPECT_EQ(irr_master(), 0x00);
  wr(0x20, 0x20);  // non-specific EOI
  EXPECT_EQ(isr_master(), 0x00);
}

TEST_F(PicTest, IntrCallbackFiresOnEveryChange) {
  init_like_test_kernel();
  edge(1);
  pic.acknowledge();
  wr(0x20, 0x20);
  EXPECT_EQ(intr_changes, (std::vector<bool>{true, false}));
}

TEST_F(PicTest, HeldLineDoesNotRetriggerAnEdgeInput) {
  init_like_test_kernel();
  pic.raise(3);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  wr(0x20, 0x20);
  EXPECT_FALSE(pic.intr());  // still high, but no new edge
  pic.lower(3);
  pic.raise(3);
  EXPECT_TRUE(pic.intr());
}

TEST_F(PicTest, MaskedRequestWaitsInIrrUntilUnmasked) {
  init_like_test_kernel();
  wr(0x21, 0x02);
  edge(1);
  EXPECT_FALSE(pic.intr());
  EXPECT_EQ(irr_master(), 0x02);
  wr(0x21, 0x00);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x21);
}

TEST_F(PicTest, LowerInputNumberHasPriority) {
  init_like_test_kernel();
  edge(5);
  edge(3);
  EXPECT_EQ(pic.acknowledge(), 0x23);
  // IRQ 5 must wait while the higher-priority 3 is in service.
  EXPECT_FALSE(pic.intr());
  edge(1);  // but a higher-priority request nests
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x21);
  EXPECT_EQ(isr_master(), 0x0a);
  wr(0x20, 0x20);  // non-specific EOI ends the highest in service: 1
  EXPECT_EQ(isr_master(), 0x08);
  EXPECT_FALSE(pic.intr());
  wr(0x20, 0x20);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x25);
}

TEST_F(PicTest, SlaveInterruptCascadesThroughMasterInput2) {
  init_like_test_kernel();
  edge(12);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x2c);
  EXPECT_EQ(isr_slave(), 0x10);
  EXPECT_EQ(isr_master(), 0x04);
  wr(0xa0, 0x20);
  wr(0x20, 0x20);
  EXPECT_EQ(isr_slave(), 0x00);
  EXPECT_EQ(isr_master(), 0x00);
}

TEST_F(PicTest, SlaveInputsRankAtMasterInput2) {
  init_like_test_kernel();
  edge(3);
  edge(8);
  edge(1);
  EXPECT_EQ(pic.acknowledge(), 0x21);
  wr(0x20, 0x20);
  EXPECT_EQ(pic.acknowledge(), 0x28);  // the slave (via 2) before 3
  EXPECT_FALSE(pic.intr());            // 3 ranks below 2, which is in service
  wr(0xa0, 0x20);
  wr(0x20, 0x62);  // specific EOI for 2
  EXPECT_EQ(pic.acknowledge(), 0x23);
}

TEST_F(PicTest, SecondSlaveRequestReachesTheMasterAfterSlaveEoi) {
  init_like_test_kernel();
  edge(14);
  edge(15);
  EXPECT_EQ(pic.acknowledge(), 0x2e);
  wr(0xa0, 0x20);
  wr(0x20, 0x20);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x2f);
}

TEST_F(PicTest, MaskedSlaveInputStaysInSlaveIrr) {
  init_like_test_kernel();
  wr(0xa1, 0x01);
  edge(8);
  EXPECT_FALSE(pic.intr());
  wr(0xa0, 0x0a);
  EXPECT_EQ(rd(0xa0), 0x01);
  wr(0x21, 0x04);  // masking the cascade masks the whole slave
  wr(0xa1, 0x00);
  EXPECT_FALSE(pic.intr());
  wr(0x21, 0x00);
  EXPECT_TRUE(pic.intr());
}

TEST_F(PicTest, SpecificEoiClearsOnlyThatInput) {
  init_like_test_kernel();
  edge(4);
  pic.acknowledge();
  edge(0);
  pic.acknowledge();
  EXPECT_EQ(isr_master(), 0x11);
  wr(0x20, 0x64);
  EXPECT_EQ(isr_master(), 0x01);
}

TEST_F(PicTest, LinuxMaskAndAckOfASlaveInterrupt) {
  init_like_linux();
  wr(0x21, 0x00);
  wr(0xa1, 0x00);
  edge(9);
  EXPECT_EQ(pic.acknowledge(), 0x39);
  rd(0xa1);
  wr(0xa1, 0x02);      // mask 9
  wr(0xa0, 0x60 + 1);  // specific EOI on the slave
  wr(0x20, 0x60 + 2);  // and for the cascade on the master
  EXPECT_EQ(isr_slave(), 0x00);
  EXPECT_EQ(isr_master(), 0x00);
}

TEST_F(PicTest, OcwThreeSelectsIrrOrIsrAndDataPortReadsImr) {
  init_like_test_kernel();
  wr(0x21, 0x40);
  edge(6);  // masked: in IRR only
  edge(7);
  pic.acknowledge();  // 7 in service
  wr(0x20, 0x0a);
  EXPECT_EQ(rd(0x20), 0x40);
  wr(0x20, 0x0b);
  EXPECT_EQ(rd(0x20), 0x80);
  EXPECT_EQ(rd(0x20), 0x80);  // the selection sticks
  EXPECT_EQ(rd(0x21), 0x40);
}

TEST_F(PicTest, NothingPendingAtAcknowledgeGivesSpuriousIrq7) {
  init_like_test_kernel();
  EXPECT_EQ(pic.acknowledge(), 0x27);
  EXPECT_EQ(isr_master(), 0x00);  // a spurious IRQ 7 is not put in service
}

TEST_F(PicTest, VanishedSlaveRequestGivesSpuriousIrq15) {
  init_like_test_kernel();
  // A level-triggered slave input that drops before the INTA cycle: the master has latched the
  // cascade edge, the slave has nothing left to give.
  wr(0x4d1, 0x04);
  pic.raise(10);
  pic.lower(10);
  EXPECT_TRUE(pic.intr());
  EXPECT_EQ(pic.acknowledge(), 0x2f);
  EXPECT_EQ(isr_master(), 0x04);  // the master's cascade input does go in service
  EXPECT_EQ(isr_slave(), 0x00);
}

TEST_F(PicTest, AutoEoiLeavesNothingInService) {
  init_like_linux(/*auto_eoi=*/true);
  wr(0x21, 0x00);
  edge(0);
  EXPECT_EQ(pic.acknowledge(), 0x30);
  EXPECT_EQ(isr_master(), 0x00);
  edge(0);
  EXPECT_TRUE(pic.intr());  // no EOI needed for the next one
}

TEST_F(PicTest, PollCommandReturnsAndAcknowledgesTheHighestRequest) {
  init_like_test_kernel();
  edge(5);
  wr(0x20, 0x0c);
  EXPECT_EQ(rd(0x20), 0x85);
  EXPECT_EQ(isr_master(), 0x20);
  wr(0x20, 0x20);
  wr(0x20, 0x0c);
  EXPECT_EQ(rd(0x20), 0x00);
}

TEST_F(PicTest, RotateCommandsAreAcceptedAndChangePriority) {
  init_like_test_kernel();
  wr(0x20, 0xc4);  // set priority: 4 lowest, so 5 is highest
  edge(3);
  edge(5);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  wr(0x20, 0xa0);  // rotate on non-specific EOI
  EXPECT_EQ(pic.acknowledge(), 0x23);
}

TEST_F(PicTest, ReinitializationClearsRequestsAndMask) {
  init_like_test_kernel();
  wr(0x21, 0xff);
  edge(1);
  init_like_test_kernel();
  EXPECT_EQ(irr_master(), 0x00);
  EXPECT_FALSE(pic.intr());
}

TEST_F(PicTest, ElcrKeepsOnlyWritableBits) {
  wr(0x4d0, 0xff);
  wr(0x4d1, 0xff);
  EXPECT_EQ(rd(0x4d0), 0xf8);
  EXPECT_EQ(rd(0x4d1), 0xde);
}

TEST_F(PicTest, LevelTriggeredInputFollowsTheLine) {
  init_like_test_kernel();
  wr(0x4d0, 0x20);  // IRQ 5 level-triggered
  pic.raise(5);
  EXPECT_EQ(pic.acknowledge(), 0x25);
  wr(0x20, 0x20);
  EXPECT_TRUE(pic.intr());  // still asserted after the EOI
  pic.lower(5);
  EXPECT_FALSE(pic.intr());
}

TEST_F(PicTest, Irq2IsReroutedTo9AndBadInputsAreRejected) {
  init_like_test_kernel();
  edge(2);
  EXPECT_EQ(pic.acknowledge(), 0x29);
  EXPECT_THROW(pic.raise(16), std::out_of_range);
}

}  // namespace
}  // namespace devices
