#include "testing/sim/sim_random.h"

#include <gtest/gtest.h>

#include <array>
#include <vector>

namespace plexus::sim {
namespace {

TEST(SimRandomTest, SameSeedSameSequence) {
  SimRandom a(42), b(42), c(43);
  std::vector<uint64_t> va, vb, vc;
  for (int i = 0; i < 100; ++i) {
    va.push_back(a.Next());
    vb.push_back(b.Next());
    vc.push_back(c.Next());
  }
  EXPECT_EQ(va, vb);
  EXPECT_NE(va, vc);
}

TEST(SimRandomTest, FillCoversOddLengths) {
  SimRandom a(7), b(7);
  std::array<std::byte, 13> x{}, y{};
  a.Fill(x);
  b.Fill(y);
  EXPECT_EQ(x, y);
  EXPECT_NE(x, (std::array<std::byte, 13>{}));
}

TEST(SimRandomTest, BelowStaysInRangeAndHitsEveryValue) {
  SimRandom r(1);
  std::array<int, 7> seen{};
  for (int i = 0; i < 7000; ++i) {
    const uint64_t v = r.Below(7);
    ASSERT_LT(v, 7u);
    ++seen[v];
  }
  for (int count : seen) EXPECT_GT(count, 800);
  EXPECT_EQ(r.Below(0), 0u);
}

TEST(SimRandomTest, BernoulliMatchesProbability) {
  SimRandom r(3);
  int hits = 0;
  for (int i = 0; i < 100000; ++i) hits += r.Bernoulli(0.25) ? 1 : 0;
  EXPECT_NEAR(hits / 100000.0, 0.25, 0.01);
  EXPECT_FALSE(r.Bernoulli(0));
  EXPECT_TRUE(r.Bernoulli(1));
}

TEST(SimRandomTest, UpToIsInclusiveAndZeroForNonPositive) {
  SimRandom r(5);
  const Duration max = std::chrono::nanoseconds(3);
  bool saw_max = false;
  for (int i = 0; i < 1000; ++i) {
    const Duration d = r.UpTo(max);
    ASSERT_GE(d.count(), 0);
    ASSERT_LE(d, max);
    saw_max = saw_max || d == max;
  }
  EXPECT_TRUE(saw_max);
  EXPECT_EQ(r.UpTo(Duration(0)).count(), 0);
  EXPECT_EQ(r.UpTo(Duration(-5)).count(), 0);
  const double u = r.UniformReal();
  EXPECT_GE(u, 0.0);
  EXPECT_LT(u, 1.0);
}

}  // namespace
}  // namespace plexus::sim
