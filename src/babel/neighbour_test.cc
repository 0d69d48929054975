#include "babel/neighbour.h"

#include <gtest/gtest.h>

namespace plexus::babel {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr Duration kHello = seconds(4);
constexpr Duration kIhu = seconds(12);
const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});

NeighbourKey Key(uint32_t ifindex = 1) {
  return {ifindex, *IpAddress::Parse("fe80::1")};
}

HelloInfo Hello(uint16_t seqno, bool unicast = false) {
  return {Seqno(seqno), kHello, unicast, std::nullopt};
}

IhuInfo Ihu(uint16_t rxcost, Duration interval = kIhu) {
  return {Metric(rxcost), interval, std::nullopt};
}

// A wired neighbour that has sent two Hellos and an IHU: cost 96.
NeighbourTable UpTable() {
  NeighbourTable table;
  (void)table.OnHello(Key(), Hello(1), kT0);
  (void)table.OnHello(Key(), Hello(2), kT0 + kHello);
  (void)table.OnIhu(Key(), Ihu(96), kT0 + kHello);
  return table;
}

TEST(NeighbourTableTest, CostNeedsTwoHellosAndAnIhu) {
  NeighbourTable table;
  NeighbourEvents e = table.OnHello(Key(), Hello(1), kT0);
  EXPECT_TRUE(e.empty());
  EXPECT_EQ(table.size(), 1u);
  e = table.OnHello(Key(), Hello(2), kT0 + kHello);
  EXPECT_TRUE(e.empty());  // rxcost finite but no IHU yet: still infinity
  EXPECT_EQ(table.Find(Key())->Rxcost(table.ParamsFor(1)), Metric(96));
  e = table.OnIhu(Key(), Ihu(96), kT0 + kHello);
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].old_cost, Metric::Infinity());
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric(96));
  EXPECT_EQ(table.Cost(Key(), kT0 + kHello), Metric(96));
}

TEST(NeighbourTableTest, HelloSeqnoJumpReportsTheRebootedNeighbourAsRemoved) {
  NeighbourTable table = UpTable();
  // §3.4.1: a jump of more than 16 means the neighbour lost its seqno; the
  // routes it sent before describe a state it forgot and must go.
  const NeighbourEvents e = table.OnHello(Key(), Hello(40000), kT0 + seconds(5));
  ASSERT_EQ(e.removed.size(), 1u);
  EXPECT_EQ(e.removed[0], Key());
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric::Infinity());
  EXPECT_EQ(table.size(), 1u) << "the entry restarts from the new Hello";
  EXPECT_TRUE(table.OnHello(Key(), Hello(40001), kT0 + seconds(9)).removed.empty());
}

TEST(NeighbourTableTest, MissedHellosTakeTheLinkDownAndBackUp) {
  NeighbourTable table = UpTable();
  // Hello 2 at 4 s; timer at 10 s (1.5 x 4 s), then 14 s: history 100 -> down.
  EXPECT_EQ(table.NextDeadline(), kT0 + kHello + seconds(6));
  EXPECT_TRUE(table.Tick(kT0 + seconds(10)).empty());  // 110: still 2 of 3
  NeighbourEvents e = table.Tick(kT0 + seconds(14));
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric::Infinity());
  // Hello 5 arrives (3, 4 counted missed): 1001 -> down; Hello 6: 10011 -> up.
  EXPECT_TRUE(table.OnHello(Key(), Hello(5), kT0 + seconds(15)).empty());
  (void)table.OnIhu(Key(), Ihu(96), kT0 + seconds(15));
  e = table.OnHello(Key(), Hello(6), kT0 + seconds(16));
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric(96));
}

TEST(NeighbourTableTest, IhuHoldTimeIsThreeAndAHalfIntervals) {
  NeighbourTable table = UpTable();
  const Timestamp ihu_at = kT0 + kHello;
  const Timestamp hold = ihu_at + seconds(42);
  // Keep Hellos coming so only the IHU can expire.
  for (int i = 0; i < 11; ++i) {
    (void)table.OnHello(Key(), Hello(3 + i), ihu_at + kHello * (i + 1));
  }
  EXPECT_TRUE(table.Tick(hold - milliseconds(1)).empty());
  EXPECT_EQ(table.NextDeadline(), hold);
  NeighbourEvents e = table.Tick(hold);
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric::Infinity());
  EXPECT_EQ(table.Find(Key())->txcost(), Metric::Infinity());
  EXPECT_TRUE(e.removed.empty());  // Hellos still arrive
}

TEST(NeighbourTableTest, IhuWithZeroIntervalUsesDefaultHoldTime) {
  NeighbourTable table;
  (void)table.OnIhu(Key(), Ihu(96, Duration::zero()), kT0);
  EXPECT_EQ(table.NextDeadline(), kT0 + kIhuHoldTime);
}

TEST(NeighbourTableTest, ExpiresWhenHistoriesEmptyAndIhuExpired) {
  NeighbourTable table = UpTable();
  // Last Hello at 4 s: 16 zeros shifted in by 4 + 6 + 15 x 4 = 70 s; IHU at 4 s + 42 s.
  NeighbourEvents e = table.Tick(kT0 + seconds(69));
  EXPECT_EQ(table.size(), 1u);
  e = table.Tick(kT0 + seconds(70));
  ASSERT_EQ(e.removed.size(), 1u);
  EXPECT_EQ(e.removed[0], Key());
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(table.NextDeadline().IsInfinite());
}

TEST(NeighbourTableTest, DeclareDownIsImmediate) {
  NeighbourTable table = UpTable();
  const NeighbourEvents e = table.DeclareDown(Key(), kT0 + seconds(5));
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].old_cost, Metric(96));
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric::Infinity());
  ASSERT_EQ(e.removed.size(), 1u);
  EXPECT_EQ(table.Find(Key()), nullptr);
  EXPECT_TRUE(table.DeclareDown(Key(), kT0 + seconds(5)).empty());  // unknown: no-op
}

TEST(NeighbourTableTest, UnicastAndMulticastHistoriesAreSeparate) {
  NeighbourTable table;
  (void)table.OnHello(Key(), Hello(100, /*unicast=*/true), kT0);
  (void)table.OnHello(Key(), Hello(7), kT0);
  (void)table.OnHello(Key(), Hello(101, true), kT0 + kHello);
  const Neighbour* n = table.Find(Key());
  EXPECT_EQ(n->unicast_history().bits(), 0b11);
  EXPECT_EQ(n->multicast_history().bits(), 0b1);
  EXPECT_EQ(n->unicast_history().expected().value(), 102);
  EXPECT_EQ(n->multicast_history().expected().value(), 8);
  // The better history sets the rxcost.
  EXPECT_EQ(n->Rxcost(table.ParamsFor(1)), Metric(96));
}

TEST(NeighbourTableTest, SeqnoJumpFlushesTheEntry) {
  NeighbourTable table = UpTable();
  NeighbourEvents e = table.OnHello(Key(), Hello(1000), kT0 + seconds(5));
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric::Infinity());
  const Neighbour* n = table.Find(Key());
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->multicast_history().bits(), 0b1);
  EXPECT_EQ(n->txcost(), Metric::Infinity());  // the old IHU was flushed too
}

TEST(NeighbourTableTest, NeighboursAreKeyedByInterfaceAndAddress) {
  NeighbourTable table;
  (void)table.OnHello(Key(1), Hello(1), kT0);
  (void)table.OnHello(Key(2), Hello(1), kT0);
  (void)table.OnHello({1, *IpAddress::Parse("fe80::2")}, Hello(1), kT0);
  EXPECT_EQ(table.size(), 3u);
}

TEST(NeighbourTableTest, KeysListsNeighboursPerInterface) {
  NeighbourTable table;
  (void)table.OnHello(Key(2), Hello(1), kT0);
  (void)table.OnHello({1, *IpAddress::Parse("fe80::2")}, Hello(1), kT0);
  (void)table.OnHello(Key(1), Hello(1), kT0);
  (void)table.OnHello(Key(3), Hello(1), kT0);
  const NeighbourKey second{1, *IpAddress::Parse("fe80::2")};
  EXPECT_EQ(table.Keys(), (std::vector<NeighbourKey>{Key(1), second, Key(2), Key(3)}));
  EXPECT_EQ(table.Keys(1), (std::vector<NeighbourKey>{Key(1), second}));
  EXPECT_EQ(table.Keys(2), (std::vector<NeighbourKey>{Key(2)}));
  EXPECT_TRUE(table.Keys(4).empty());
  EXPECT_TRUE(table.Keys(0).empty());
}

TEST(NeighbourTableTest, RttCostIsAddedToLinkCost) {
  NeighbourTable table = UpTable();
  const Timestamp now = kT0 + seconds(6);
  const uint32_t t4 = MicrosTimestamp(now);
  // RTT 65 ms: half of the 96 penalty between 10 and 120 ms.
  IhuInfo ihu = Ihu(96);
  ihu.rtt = RttTimestamps{t4 - 70'000, 1'000'000, 1'005'000, t4};
  const NeighbourEvents e = table.OnIhu(Key(), ihu, now);
  ASSERT_EQ(e.cost_changed.size(), 1u);
  EXPECT_EQ(e.cost_changed[0].new_cost, Metric(96 + 48));
  EXPECT_EQ(table.Find(Key())->rtt(now), Micros(milliseconds(65)));
  // The RTT is forgotten after its validity: the cost drops back.
  const RttParams p;
  const NeighbourEvents later = table.Tick(now + p.validity);
  bool saw_rtt_drop = false;
  for (const CostChange& c : later.cost_changed) {
    saw_rtt_drop |= c.old_cost == Metric(144) && c.new_cost != Metric(144);
  }
  EXPECT_TRUE(saw_rtt_drop);
}

TEST(NeighbourTableTest, RttCostSaturatesAtInfinity) {
  NeighbourTable table;
  (void)table.OnHello(Key(), Hello(1), kT0);
  (void)table.OnHello(Key(), Hello(2), kT0);
  const uint32_t t4 = MicrosTimestamp(kT0);
  IhuInfo ihu = Ihu(0xFFFE);
  ihu.rtt = RttTimestamps{t4 - 500'000, 0, 0, t4};
  (void)table.OnIhu(Key(), ihu, kT0);
  EXPECT_EQ(table.Cost(Key(), kT0), Metric::Infinity());
}

TEST(NeighbourTableTest, EchoesTheLastHelloTimestamp) {
  NeighbourTable table;
  HelloInfo hello = Hello(1);
  hello.timestamp = 123456;
  (void)table.OnHello(Key(), hello, kT0);
  const std::optional<IhuEcho> echo = table.Find(Key())->ihu_echo();
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->origin, 123456u);
  EXPECT_EQ(echo->receive, MicrosTimestamp(kT0));
}

TEST(NeighbourTableTest, EtxInterfaceUsesLossRatio) {
  NeighbourTable table;
  table.SetInterfaceParams(1, LinkParams{{LinkQuality::kEtx, Metric(256)}, RttParams{}});
  // 8 Hellos received, every other one lost: history 0b1010101010101 -> 8 of 16.
  for (uint16_t s = 0; s < 16; s += 2) (void)table.OnHello(Key(), Hello(s), kT0);
  (void)table.OnIhu(Key(), Ihu(256), kT0);
  EXPECT_EQ(table.Find(Key())->Rxcost(table.ParamsFor(1)), Metric(512));
  EXPECT_EQ(table.Cost(Key(), kT0), Metric(512));
}

}  // namespace
}  // namespace plexus::babel
