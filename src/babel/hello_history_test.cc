#include "babel/hello_history.h"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::babel {
namespace {

constexpr Duration kInterval = std::chrono::seconds(4);
const Timestamp kStart = Timestamp::FromNanos(1'000'000'000);

struct Step {
  uint16_t seqno;
  HelloHistory::Outcome outcome;
  uint16_t bits;      // expected history after the Hello
  uint16_t expected;  // expected next seqno
};

// Feeds one Hello per step, all at the same time (no timer involved).
void RunTable(uint16_t first, const std::vector<Step>& steps) {
  HelloHistory h;
  EXPECT_EQ(h.Receive(Seqno(first), kInterval, kStart), HelloHistory::Outcome::kRecorded);
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(h.Receive(Seqno(steps[i].seqno), kInterval, kStart), steps[i].outcome)
        << "step " << i;
    EXPECT_EQ(h.bits(), steps[i].bits) << "step " << i;
    EXPECT_EQ(h.expected().value(), steps[i].expected) << "step " << i;
  }
}

using O = HelloHistory::Outcome;

TEST(HelloHistoryTest, InOrderHellosShiftInOnes) {
  RunTable(10, {{11, O::kRecorded, 0b11, 12}, {12, O::kRecorded, 0b111, 13}});
}

TEST(HelloHistoryTest, SeqnoWrapsAroundModulo2To16) {
  RunTable(0xFFFE, {{0xFFFF, O::kRecorded, 0b11, 0},
                    {0x0000, O::kRecorded, 0b111, 1},
                    {0x0002, O::kRecorded, 0b11101, 3}});  // 1 missed across the wrap
}

TEST(HelloHistoryTest, MissedHellosAreFastForwardedAsZeros) {
  RunTable(100, {{103, O::kRecorded, 0b1001, 104}, {104 + 16, O::kRecorded, 0b1, 121}});
}

TEST(HelloHistoryTest, SeqnoBehindExpectedUndoesHistory) {
  // Expected 104 after 100..103; 102 arrives: drop the last 2 entries, add a 1.
  RunTable(100, {{101, O::kRecorded, 0b11, 102},
                 {102, O::kRecorded, 0b111, 103},
                 {103, O::kRecorded, 0b1111, 104},
                 {102, O::kRecorded, 0b111, 103}});
}

TEST(HelloHistoryTest, GapOfMoreThan16Resets) {
  RunTable(100, {{101, O::kRecorded, 0b11, 102}, {102 + 17, O::kReset, 0b1, 120}});
  RunTable(100, {{101, O::kRecorded, 0b11, 102}, {102 - 17, O::kReset, 0b1, 86}});
  // Exactly 16 either way is still within the window.
  RunTable(100, {{101 + 16, O::kRecorded, 0b1, 118}});  // 16 zeros push the old bits out
  RunTable(100, {{101 - 16, O::kRecorded, 0b1, 86}});
  // Wrap: 0xFFF0 expected, 0x0010 is 32 ahead.
  RunTable(0xFFEF, {{0x0010, O::kReset, 0b1, 0x11}});
}

TEST(HelloHistoryTest, TimerShiftsInAZeroAfterOneAndAHalfIntervals) {
  HelloHistory h;
  (void)h.Receive(Seqno(7), kInterval, kStart);
  EXPECT_EQ(h.deadline(), kStart + std::chrono::seconds(6));
  h.Tick(kStart + std::chrono::milliseconds(5999));
  EXPECT_EQ(h.bits(), 0b1);
  h.Tick(kStart + std::chrono::seconds(6));
  EXPECT_EQ(h.bits(), 0b10);
  EXPECT_EQ(h.expected().value(), 9);
  // Then every interval, without the extra margin.
  EXPECT_EQ(h.deadline(), kStart + std::chrono::seconds(10));
  h.Tick(kStart + std::chrono::seconds(17));  // two more expiries (10 s, 14 s)
  EXPECT_EQ(h.bits(), 0b1000);
  EXPECT_EQ(h.expected().value(), 11);
  // The late Hello that was counted as missed still lands in place.
  (void)h.Receive(Seqno(11), kInterval, kStart + std::chrono::seconds(17));
  EXPECT_EQ(h.bits(), 0b10001);
}

TEST(HelloHistoryTest, TimerStopsWhenHistoryEmpties) {
  HelloHistory h;
  (void)h.Receive(Seqno(1), kInterval, kStart);
  h.Tick(kStart + std::chrono::seconds(6) + kInterval * 14);  // 15 expiries
  EXPECT_EQ(h.bits(), 0x8000);
  EXPECT_FALSE(h.IsEmpty());
  h.Tick(kStart + std::chrono::seconds(6) + kInterval * 15);
  EXPECT_TRUE(h.IsEmpty());
  EXPECT_TRUE(h.deadline().IsInfinite());
}

TEST(HelloHistoryTest, UnscheduledHelloLeavesTimerAlone) {
  HelloHistory h;
  (void)h.Receive(Seqno(1), kInterval, kStart);
  (void)h.Receive(Seqno(2), Duration::zero(), kStart + std::chrono::seconds(5));
  EXPECT_EQ(h.deadline(), kStart + std::chrono::seconds(6));
  HelloHistory never;
  (void)never.Receive(Seqno(1), Duration::zero(), kStart);
  EXPECT_TRUE(never.deadline().IsInfinite());
}

}  // namespace
}  // namespace plexus::babel
