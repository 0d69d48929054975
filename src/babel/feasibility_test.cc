#include "babel/feasibility.h"

#include <gtest/gtest.h>

#include <optional>
#include <vector>

namespace plexus::babel {
namespace {

struct FeasibilityCase {
  const char* name;
  uint16_t seqno;
  uint16_t metric;
  std::optional<FeasibilityDistance> distance;
  bool feasible;
};

constexpr FeasibilityDistance Fd(uint16_t seqno, uint16_t metric) {
  return {Seqno(seqno), Metric(metric)};
}

// RFC 8966 §3.5.1 edge cases, including seqno wrap-around (§3.2.1).
const std::vector<FeasibilityCase> kCases = {
    {"no source entry", 7, 500, std::nullopt, true},
    {"no source entry, metric zero", 0, 0, std::nullopt, true},
    {"same seqno, smaller metric", 10, 99, Fd(10, 100), true},
    {"same seqno, equal metric", 10, 100, Fd(10, 100), false},
    {"same seqno, larger metric", 10, 101, Fd(10, 100), false},
    {"newer seqno, larger metric", 11, 9000, Fd(10, 100), true},
    {"older seqno, smaller metric", 9, 1, Fd(10, 100), false},
    {"retraction, older seqno", 9, kMetricInfinity, Fd(10, 100), true},
    {"retraction, same seqno", 10, kMetricInfinity, Fd(10, 100), true},
    {"retraction, no entry", 0, kMetricInfinity, std::nullopt, true},
    {"wrap: 0 is newer than 0xFFFF", 0, 5000, Fd(0xFFFF, 100), true},
    {"wrap: 0xFFFF is older than 0", 0xFFFF, 1, Fd(0, 100), false},
    {"wrap: 0x10 is newer than 0xFFF0", 0x10, 200, Fd(0xFFF0, 100), true},
    {"wrap: same seqno 0xFFFF, smaller metric", 0xFFFF, 10, Fd(0xFFFF, 11), true},
    {"just under half the circle ahead is newer", 0x7FFF, 200, Fd(0, 100), true},
    {"exactly half the circle ahead is incomparable", 0x8000, 1, Fd(0, 100), false},
    {"more than half the circle ahead is older", 0x8001, 1, Fd(0, 100), false},
    {"distance metric infinity, same seqno, finite metric", 3, 0xFFFE, Fd(3, kMetricInfinity),
     true},
};

TEST(FeasibilityTest, FeasibilityConditionTable) {
  for (const FeasibilityCase& c : kCases) {
    EXPECT_EQ(IsFeasible(Seqno(c.seqno), Metric(c.metric), c.distance), c.feasible) << c.name;
  }
}

TEST(FeasibilityTest, StrictlyBetterIsIrreflexiveAndAsymmetric) {
  const std::vector<FeasibilityDistance> distances = {Fd(0, 0),      Fd(0, 1),      Fd(1, 0),
                                                      Fd(0xFFFF, 5), Fd(0x8000, 5), Fd(0x7FFF, 9)};
  for (const auto& a : distances) {
    EXPECT_FALSE(IsStrictlyBetter(a, a)) << a.ToString();
    for (const auto& b : distances) {
      EXPECT_FALSE(IsStrictlyBetter(a, b) && IsStrictlyBetter(b, a))
          << a.ToString() << " " << b.ToString();
    }
  }
}

TEST(FeasibilityTest, IsUsableAtCompileTime) {
  static_assert(IsFeasible(Seqno(2), Metric(1), Fd(1, 0)));
  static_assert(!IsFeasible(Seqno(1), Metric(1), Fd(1, 0)));
}

}  // namespace
}  // namespace plexus::babel
