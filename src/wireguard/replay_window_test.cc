#include "wireguard/replay_window.h"

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

constexpr uint64_t kW = ReplayWindow::kWindowSize;

struct Step {
  uint64_t counter;
  bool accepted;
};

// Runs `steps` against a fresh window.
void RunTable(const std::vector<Step>& steps) {
  ReplayWindow w;
  for (size_t i = 0; i < steps.size(); ++i) {
    EXPECT_EQ(w.CheckAndUpdate(steps[i].counter), steps[i].accepted)
        << "step " << i << " counter " << steps[i].counter;
  }
}

TEST(ReplayWindowTest, EdgeCaseTable) {
  RunTable({
      {0, true},             // first counter
      {0, false},            // immediate replay
      {1, true},             // next in order
      {1, false},            // replay
      {9, true},             // skip ahead
      {8, true},             // late but inside the window
      {8, false},            // late replay
      {kW + 8, true},        // 9 is now exactly kW - 1 behind
      {9, false},            // seen already
      {7, false},            // kW + 1 behind: outside the window
      {10, true},            // kW - 2 behind: inside, unseen
      {kW + 9, true},        // 10 now kW - 1 behind
      {9 + 1 + 0, false},    // 10 is a replay
      {kW * 3, true},        // jump far ahead clears the whole ring
      {kW * 3 - kW, false},  // exactly kW behind: rejected
      {kW * 3 - kW + 1, true},
  });
}

TEST(ReplayWindowTest, RejectsAtAndAboveRejectAfterMessages) {
  RunTable({
      {kRejectAfterMessages - 1, true},
      {kRejectAfterMessages, false},
      {UINT64_MAX, false},
      {kRejectAfterMessages - 2, true},
  });
}

TEST(ReplayWindowTest, AdvancingByWholeRingForgetsOldBits) {
  ReplayWindow w;
  for (uint64_t c = 0; c < 64; ++c) ASSERT_TRUE(w.CheckAndUpdate(c));
  // Counter 2048 + 5 lands in the same ring block as 5; the block must be
  // cleared, so 2048+6 is fresh, while 5 is now too old.
  EXPECT_TRUE(w.CheckAndUpdate(ReplayWindow::kBitsTotal + 5));
  EXPECT_TRUE(w.CheckAndUpdate(ReplayWindow::kBitsTotal + 6));
  EXPECT_FALSE(w.CheckAndUpdate(5));
}

TEST(ReplayWindowTest, ResetAcceptsOldCountersAgain) {
  ReplayWindow w;
  ASSERT_TRUE(w.CheckAndUpdate(3));
  w.Reset();
  EXPECT_TRUE(w.CheckAndUpdate(3));
}

// The naive model: a set of every accepted counter and the window rule.
class NaiveWindow {
 public:
  bool CheckAndUpdate(uint64_t c) {
    if (c >= kRejectAfterMessages) return false;
    if (seen_.count(c)) return false;
    if (!seen_.empty() && c < *seen_.rbegin() && *seen_.rbegin() - c >= kW) return false;
    seen_.insert(c);
    return true;
  }

 private:
  std::set<uint64_t> seen_;
};

TEST(ReplayWindowTest, MatchesNaiveModelOnRandomTraffic) {
  std::mt19937_64 rng(42);
  for (int round = 0; round < 20; ++round) {
    ReplayWindow w;
    NaiveWindow model;
    uint64_t base = round % 2 ? 0 : kRejectAfterMessages - 20000;
    uint64_t top = base;
    for (int i = 0; i < 20000; ++i) {
      // Mostly near the top, sometimes far behind or far ahead.
      int64_t delta = static_cast<int64_t>(rng() % 4200) - 3000;
      if (rng() % 50 == 0) delta = static_cast<int64_t>(rng() % 9000);
      uint64_t c = delta < 0 && static_cast<uint64_t>(-delta) > top ? base : top + delta;
      bool got = w.CheckAndUpdate(c);
      ASSERT_EQ(got, model.CheckAndUpdate(c)) << "round " << round << " i " << i << " c " << c;
      if (got && c > top) top = c;
    }
  }
}

}  // namespace
}  // namespace plexus::wireguard
