#include "babel/metric.h"

#include <gtest/gtest.h>

namespace plexus::babel {
namespace {

struct AddCase {
  uint16_t a, b, sum;
};

TEST(MetricTest, AdditionSaturatesAtInfinity) {
  const AddCase cases[] = {
      {0, 0, 0},
      {96, 96, 192},
      {0xFFFE, 0, 0xFFFE},
      {0xFFFE, 1, 0xFFFF},
      {0xFFFE, 2, 0xFFFF},
      {0x8000, 0x8000, 0xFFFF},
      {0xFFFF, 0, 0xFFFF},
      {0, 0xFFFF, 0xFFFF},
      {0xFFFF, 0xFFFF, 0xFFFF},
      {1, 0xFFFE, 0xFFFF},
      {0x7FFF, 0x7FFF, 0xFFFE},
  };
  for (const auto& c : cases) {
    EXPECT_EQ((Metric(c.a) + Metric(c.b)).value(), c.sum) << c.a << " + " << c.b;
  }
}

TEST(MetricTest, InfinityIsInfiniteAndLargest) {
  EXPECT_TRUE(Metric::Infinity().IsInfinite());
  EXPECT_TRUE(Metric(0xFFFF).IsInfinite());
  EXPECT_FALSE(Metric(0xFFFE).IsInfinite());
  EXPECT_FALSE(Metric().IsInfinite());
  EXPECT_LT(Metric(0xFFFE), Metric::Infinity());
  EXPECT_EQ(Metric::Infinity().ToString(), "inf");
  EXPECT_EQ(Metric(96).ToString(), "96");
}

TEST(MetricTest, PlusEquals) {
  Metric m(100);
  m += Metric(0xFFF0);
  EXPECT_TRUE(m.IsInfinite());
  m += Metric(1);
  EXPECT_TRUE(m.IsInfinite());
}

}  // namespace
}  // namespace plexus::babel
