#include "babel/source_table.h"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::babel {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});

SourceKey Key(const char* prefix = "fd00:1::/64", uint64_t router = 1,
              std::optional<const char*> source = std::nullopt) {
  SourceKey key{*Prefix::Parse(prefix), std::nullopt, RouterId::FromUint64(router)};
  if (source) key.source_prefix = *Prefix::Parse(*source);
  return key;
}

FeasibilityDistance Fd(uint16_t seqno, uint16_t metric) {
  return {Seqno(seqno), Metric(metric)};
}

TEST(SourceTableTest, FirstAdvertisementCreatesEntry) {
  SourceTable table;
  table.OnAdvertised(Key(), Fd(5, 200), kT0);
  EXPECT_EQ(table.Find(Key()), Fd(5, 200));
  EXPECT_EQ(table.size(), 1u);
}

TEST(SourceTableTest, RetractionCreatesNoEntry) {
  SourceTable table;
  table.OnAdvertised(Key(), Fd(5, kMetricInfinity), kT0);
  EXPECT_EQ(table.size(), 0u);
}

// RFC 8966 §3.7.3: the distance only ever improves.
TEST(SourceTableTest, DistanceKeepsTheBetterOfOldAndNew) {
  struct Case {
    const char* name;
    FeasibilityDistance old_distance;
    FeasibilityDistance advertised;
    FeasibilityDistance expected;
  };
  const std::vector<Case> cases = {
      {"newer seqno replaces, even with a larger metric", Fd(5, 200), Fd(6, 900), Fd(6, 900)},
      {"same seqno, smaller metric replaces", Fd(5, 200), Fd(5, 150), Fd(5, 150)},
      {"same seqno, larger metric is ignored", Fd(5, 200), Fd(5, 300), Fd(5, 200)},
      {"older seqno is ignored", Fd(5, 200), Fd(4, 10), Fd(5, 200)},
      {"retraction is ignored", Fd(5, 200), Fd(6, kMetricInfinity), Fd(5, 200)},
      {"seqno wraps from 0xFFFF to 0", Fd(0xFFFF, 200), Fd(0, 900), Fd(0, 900)},
      {"seqno half a circle away is ignored", Fd(0, 200), Fd(0x8000, 1), Fd(0, 200)},
  };
  for (const Case& c : cases) {
    SourceTable table;
    table.OnAdvertised(Key(), c.old_distance, kT0);
    table.OnAdvertised(Key(), c.advertised, kT0 + seconds(1));
    EXPECT_EQ(table.Find(Key()), c.expected) << c.name;
  }
}

TEST(SourceTableTest, FeasibilityUsesTheEntry) {
  SourceTable table;
  EXPECT_TRUE(table.IsFeasible(Key(), Seqno(0), Metric(60000)));  // no entry
  table.OnAdvertised(Key(), Fd(5, 200), kT0);
  EXPECT_TRUE(table.IsFeasible(Key(), Seqno(5), Metric(199)));
  EXPECT_FALSE(table.IsFeasible(Key(), Seqno(5), Metric(200)));
  EXPECT_TRUE(table.IsFeasible(Key(), Seqno(6), Metric(5000)));
  EXPECT_TRUE(table.IsFeasible(Key(), Seqno(4), Metric::Infinity()));
  EXPECT_TRUE(table.IsFeasible(Key("fd00:1::/64", 2), Seqno(0), Metric(5000)));  // other router
}

TEST(SourceTableTest, EntryIsCollectedAfterSourceGcTime) {
  SourceTable table;
  table.OnAdvertised(Key(), Fd(5, 200), kT0);
  EXPECT_EQ(table.NextDeadline(), kT0 + kSourceGcTime);
  EXPECT_EQ(table.Tick(kT0 + kSourceGcTime - seconds(1)), 0u);
  EXPECT_EQ(table.Tick(kT0 + kSourceGcTime), 1u);
  EXPECT_FALSE(table.Find(Key()));
  EXPECT_EQ(table.NextDeadline(), Timestamp::Infinite());
}

TEST(SourceTableTest, AdvertisingResetsGcTimerEvenWithoutImprovement) {
  SourceTable table;
  table.OnAdvertised(Key(), Fd(5, 200), kT0);
  table.OnAdvertised(Key(), Fd(5, 300), kT0 + minutes(2));  // worse: distance unchanged
  EXPECT_EQ(table.Tick(kT0 + kSourceGcTime), 0u);
  EXPECT_EQ(table.Find(Key()), Fd(5, 200));
  EXPECT_EQ(table.NextDeadline(), kT0 + minutes(2) + kSourceGcTime);
}

TEST(SourceTableTest, RetractionDoesNotResetGcTimer) {
  SourceTable table;
  table.OnAdvertised(Key(), Fd(5, 200), kT0);
  table.OnAdvertised(Key(), Fd(6, kMetricInfinity), kT0 + minutes(2));
  EXPECT_EQ(table.Tick(kT0 + kSourceGcTime), 1u);
}

TEST(SourceTableTest, NextDeadlineIsTheEarliestEntry) {
  SourceTable table(seconds(10));
  table.OnAdvertised(Key("fd00:1::/64"), Fd(1, 1), kT0 + seconds(5));
  table.OnAdvertised(Key("fd00:2::/64"), Fd(1, 1), kT0);
  EXPECT_EQ(table.NextDeadline(), kT0 + seconds(10));
  EXPECT_EQ(table.Tick(kT0 + seconds(10)), 1u);
  EXPECT_EQ(table.NextDeadline(), kT0 + seconds(15));
}

// RFC 9079 §5: the source prefix is part of the source's identity.
TEST(SourceTableTest, SourceSpecificEntriesAreKeptApart) {
  SourceTable table;
  const SourceKey plain = Key("::/0", 1);
  const SourceKey specific = Key("::/0", 1, "fd00::/48");
  const SourceKey other_specific = Key("::/0", 1, "fd00:9::/48");
  table.OnAdvertised(plain, Fd(5, 200), kT0);
  table.OnAdvertised(specific, Fd(9, 50), kT0);
  EXPECT_EQ(table.Find(plain), Fd(5, 200));
  EXPECT_EQ(table.Find(specific), Fd(9, 50));
  EXPECT_FALSE(table.Find(other_specific));
  EXPECT_TRUE(table.IsFeasible(plain, Seqno(5), Metric(100)));
  EXPECT_FALSE(table.IsFeasible(specific, Seqno(5), Metric(100)));
}

}  // namespace
}  // namespace plexus::babel
