#include "babel/rtt.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace plexus::babel {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Micros kMaxAge = seconds(60);

TEST(RttTest, SampleTable) {
  struct Row {
    RttTimestamps t;
    std::optional<Micros> rtt;
  };
  const std::vector<Row> rows = {
      // Our Hello at 1000, received by them at 50'000 (their clock), their Hello
      // sent at 52'000, received by us at 4'000: (4000 - 1000) - (52000 - 50000).
      {{1000, 50'000, 52'000, 4'000}, Micros(1000)},
      // Both clocks wrap between the timestamps.
      {{0xFFFF'FF00u, 0xFFFF'FFF0u, 0x0000'0010u, 0x0000'0300u}, Micros(0x400 - 0x20)},
      // Only our clock wraps.
      {{0xFFFF'FFFFu, 10, 20, 99}, Micros(100 - 10)},
      // Remote waited longer than we did (clock drift): clamped to 0.
      {{1000, 0, 5000, 2000}, Micros(0)},
      // t4 "before" t1: a negative waiting time, discarded.
      {{2000, 0, 10, 1000}, std::nullopt},
      // t3 "before" t2: discarded.
      {{0, 2000, 1000, 5000}, std::nullopt},
      // Origin older than max age: discarded; exactly max age is kept.
      {{0, 0, 0, 60'000'001}, std::nullopt},
      {{0, 0, 0, 60'000'000}, Micros(60'000'000)},
  };
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(RttSample(rows[i].t, kMaxAge), rows[i].rtt) << "row " << i;
  }
}

TEST(RttTest, MicrosTimestampTruncatesTo32Bits) {
  EXPECT_EQ(MicrosTimestamp(Timestamp::FromNanos(1'234'567)), 1234u);
  const int64_t wrap_us = int64_t{1} << 32;
  EXPECT_EQ(MicrosTimestamp(Timestamp::FromNanos((wrap_us + 5) * 1000)), 5u);
}

TEST(RttTest, CostAtTheBoundaries) {
  const RttParams p;  // 10 ms .. 120 ms, penalty 96
  struct Row {
    Micros rtt;
    uint16_t cost;
  };
  const std::vector<Row> rows = {
      {Micros(0), 0},
      {milliseconds(10), 0},
      {milliseconds(10) + Micros(1), 0},  // 96 * 1 / 110000 rounds down
      {milliseconds(65), 48},             // midpoint
      {milliseconds(120) - Micros(1), 95},
      {milliseconds(120), 96},
      {seconds(5), 96},
  };
  for (const Row& r : rows) EXPECT_EQ(RttCost(r.rtt, p).value(), r.cost) << r.rtt.count();
  RttParams off = p;
  off.max_rtt_penalty = 0;
  EXPECT_EQ(RttCost(seconds(1), off).value(), 0);
  RttParams degenerate = p;
  degenerate.rtt_max = degenerate.rtt_min;
  EXPECT_EQ(RttCost(milliseconds(11), degenerate).value(), 96);
}

TEST(RttTest, FirstSampleIsTakenAsIs) {
  RttEstimator e;
  const Timestamp t = Timestamp::FromNanos(1);
  EXPECT_FALSE(e.rtt(t));
  e.AddSample(milliseconds(50), t, RttParams{});
  EXPECT_EQ(e.rtt(t), Micros(milliseconds(50)));
}

TEST(RttTest, SmoothingWeighsNewSampleBy42Over256) {
  RttEstimator e;
  const Timestamp t = Timestamp::FromNanos(1);
  e.AddSample(Micros(100'000), t, RttParams{});
  e.AddSample(Micros(0), t, RttParams{});
  // 214/256 of 100'000 = 83'593.75 -> 83'594.
  EXPECT_EQ(e.rtt(t), Micros(83'594));
}

TEST(RttTest, SmoothingConvergesGeometrically) {
  RttEstimator e;
  const Timestamp t = Timestamp::FromNanos(1);
  const RttParams p;
  e.AddSample(Micros(10'000), t, p);
  for (int n = 1; n <= 40; ++n) {
    e.AddSample(Micros(110'000), t, p);
    // Distance to the new level shrinks by 214/256 per sample (rounding adds < n us).
    const double gap = 100'000 * std::pow(214.0 / 256.0, n);
    EXPECT_NEAR(static_cast<double>(110'000 - e.rtt(t)->count()), gap, n) << "sample " << n;
  }
  for (int n = 0; n < 100; ++n) e.AddSample(Micros(110'000), t, p);
  EXPECT_EQ(e.rtt(t), Micros(110'000));  // a constant input is a fixed point
}

TEST(RttTest, ExpiresWithoutSamples) {
  RttEstimator e;
  const Timestamp t = Timestamp::FromNanos(1);
  RttParams p;
  e.AddSample(Micros(5000), t, p);
  EXPECT_EQ(e.expiry(), t + p.validity);
  EXPECT_TRUE(e.rtt(t + p.validity - std::chrono::nanoseconds(1)));
  EXPECT_FALSE(e.rtt(t + p.validity));
  // After expiry the next sample starts afresh.
  e.AddSample(Micros(9000), t + p.validity, p);
  EXPECT_EQ(e.rtt(t + p.validity), Micros(9000));
}

}  // namespace
}  // namespace plexus::babel
