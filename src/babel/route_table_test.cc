#include "babel/route_table.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace plexus::babel {
namespace {

using std::chrono::seconds;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});
constexpr Centiseconds kInterval{1600};  // 16 s: routes expire after 56 s
constexpr Duration kExpiry = seconds(56);
constexpr Metric kCost{96};
constexpr uint64_t kRouter = 1;

NeighbourKey Neighbour(int n) {
  return {1, *IpAddress::Parse("fe80::" + std::to_string(n))};
}
const NeighbourKey kA = Neighbour(0xa);
const NeighbourKey kB = Neighbour(0xb);

Destination Dest(const char* prefix = "fd00:1::/64",
                 std::optional<const char*> source = std::nullopt) {
  Destination d{*Prefix::Parse(prefix), std::nullopt};
  if (source) d.source_prefix = *Prefix::Parse(*source);
  return d;
}

Update MakeUpdate(uint16_t seqno, uint16_t metric, uint64_t router = kRouter,
                  const Destination& dest = Dest()) {
  Update u;
  u.prefix = dest.prefix;
  u.source_prefix = dest.source_prefix;
  u.interval = kInterval;
  u.seqno = Seqno(seqno);
  u.metric = Metric(metric);
  u.router_id = RouterId::FromUint64(router);
  if (metric != kMetricInfinity) u.next_hop = *IpAddress::Parse("fe80::99");
  return u;
}

SourceKey Source(uint64_t router = kRouter, const Destination& dest = Dest()) {
  return {dest.prefix, dest.source_prefix, RouterId::FromUint64(router)};
}

// Asserts the §3.6 invariants for `dest`: at most one selected route, it is
// selectable, and no selectable route beats it by more than the margin.
void ExpectSelectionInvariants(const RouteTable& table, const Destination& dest, uint16_t margin) {
  const std::vector<Route> routes = table.RoutesTo(dest);
  const Route* selected = table.Selected(dest);
  int count = 0;
  for (const Route& r : routes) count += r.selected ? 1 : 0;
  ASSERT_LE(count, 1);
  for (const Route& r : routes) {
    if (!r.IsSelectable()) continue;
    ASSERT_NE(selected, nullptr) << "a selectable route exists but none is selected";
    EXPECT_GE(uint32_t{r.metric().value()} + margin, selected->metric().value());
  }
  if (selected) {
    EXPECT_TRUE(selected->IsSelectable());
  }
}

TEST(RouteTableTest, FeasibleUpdateCreatesAndSelectsRoute) {
  RouteTable table;
  SourceTable sources;
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_FALSE(ev.selection_changed[0].old_route);
  ASSERT_TRUE(ev.selection_changed[0].new_route);
  EXPECT_EQ(ev.selection_changed[0].new_route->key.neighbour, kA);
  const Route* r = table.Selected(Dest());
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->metric(), Metric(196));
  EXPECT_EQ(r->advertised_metric, Metric(100));
  EXPECT_EQ(r->router_id, RouterId::FromUint64(kRouter));
  EXPECT_EQ(r->seqno, Seqno(10));
  EXPECT_EQ(r->next_hop, IpAddress::Parse("fe80::99").value());
  EXPECT_EQ(r->expires_at, kT0 + kExpiry);
  EXPECT_TRUE(r->feasible);
  EXPECT_EQ(table.NextDeadline(), kT0 + kExpiry);
}

TEST(RouteTableTest, RetractionOfUnknownRouteIsIgnored) {
  RouteTable table;
  SourceTable sources;
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, kMetricInfinity), sources, kT0);
  EXPECT_EQ(table.size(), 0u);
  EXPECT_TRUE(ev.selection_changed.empty());
}

TEST(RouteTableTest, UnfeasibleNewRouteIsKeptButNotSelectedAndAsksForASeqno) {
  RouteTable table;
  SourceTable sources;
  sources.OnAdvertised(Source(), {Seqno(10), Metric(100)}, kT0);
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_FALSE(table.RoutesTo(Dest())[0].feasible);
  EXPECT_EQ(table.Selected(Dest()), nullptr);
  EXPECT_TRUE(ev.selection_changed.empty());
  // §3.8.2.1: the destination has no selected route (it is starving), so the
  // unfeasible update asks its sender for a seqno newer than the distance's.
  ASSERT_EQ(ev.seqno_requests.size(), 1u);
  EXPECT_EQ(ev.seqno_requests[0].seqno, Seqno(11));
  EXPECT_EQ(ev.seqno_requests[0].neighbour, kA);
}

// RFC 8966 §3.5.3 / §3.8.2: a second update for the selected route, whose
// source has feasibility distance (10, 100) and which was selected by (10, 50).
TEST(RouteTableTest, UpdatesForTheSelectedRoute) {
  struct Case {
    const char* name;
    Update update;
    bool still_selected;
    bool selection_changed;
    bool unicast_request;  // to kA, for seqno 11
  };
  const std::vector<Case> cases = {
      {"feasible, same seqno, smaller metric", MakeUpdate(10, 60), true, false, false},
      {"feasible, newer seqno, larger metric", MakeUpdate(11, 500), true, false, false},
      {"feasible, same seqno, metric one below the distance", MakeUpdate(10, 99), true, false,
       false},
      {"unfeasible, same seqno, equal metric", MakeUpdate(10, 100), false, true, true},
      {"unfeasible, older seqno", MakeUpdate(9, 10), false, true, true},
      {"retraction", MakeUpdate(10, kMetricInfinity), false, true, false},
      {"retraction with a newer seqno", MakeUpdate(11, kMetricInfinity), false, true, false},
      {"new router-id, feasible", MakeUpdate(3, 50, 2), true, true, false},
  };
  for (const Case& c : cases) {
    RouteTable table;
    SourceTable sources;
    sources.OnAdvertised(Source(), {Seqno(10), Metric(100)}, kT0);
    (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 50), sources, kT0);
    ASSERT_NE(table.Selected(Dest()), nullptr) << c.name;
    RouteEvents ev = table.OnUpdate(kA, kCost, c.update, sources, kT0 + seconds(1));
    EXPECT_EQ(table.Selected(Dest()) != nullptr, c.still_selected) << c.name;
    EXPECT_EQ(ev.selection_changed.size(), c.selection_changed ? 1u : 0u) << c.name;
    EXPECT_EQ(table.size(), 1u) << c.name << ": the route is kept";
    int unicast = 0, multicast = 0;
    for (const SeqnoRequestNeeded& req : ev.seqno_requests) {
      EXPECT_EQ(req.seqno, Seqno(11)) << c.name;
      EXPECT_EQ(req.router_id, RouterId::FromUint64(kRouter)) << c.name;
      if (req.neighbour) {
        EXPECT_EQ(*req.neighbour, kA) << c.name;
        ++unicast;
      } else {
        ++multicast;
      }
    }
    EXPECT_EQ(unicast, c.unicast_request ? 1 : 0) << c.name;
    // Losing the only route: retract and ask everyone for a newer seqno (§3.8.2.1).
    EXPECT_EQ(ev.retractions.size(), c.still_selected ? 0u : 1u) << c.name;
    EXPECT_EQ(multicast, c.still_selected ? 0 : 1) << c.name;
  }
}

TEST(RouteTableTest, RouterIdChangeOfSelectedRouteIsReportedWithBothRouterIds) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 50), sources, kT0);
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(3, 50, 2), sources, kT0);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].old_route->router_id, RouterId::FromUint64(1));
  EXPECT_EQ(ev.selection_changed[0].new_route->router_id, RouterId::FromUint64(2));
}

TEST(RouteTableTest, UnfeasibleUpdateFallsBackToAnotherFeasibleRoute) {
  RouteTable table;
  SourceTable sources;
  sources.OnAdvertised(Source(), {Seqno(10), Metric(200)}, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 50), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 150), sources, kT0);
  ASSERT_EQ(table.Selected(Dest())->key.neighbour, kA);
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, 300), sources, kT0);
  ASSERT_EQ(table.Selected(Dest())->key.neighbour, kB);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].old_route->key.neighbour, kA);
  EXPECT_EQ(ev.selection_changed[0].old_route->advertised_metric, Metric(50));
  EXPECT_EQ(ev.selection_changed[0].new_route->key.neighbour, kB);
  EXPECT_TRUE(ev.retractions.empty());
  ASSERT_EQ(ev.seqno_requests.size(), 1u);
  EXPECT_EQ(ev.seqno_requests[0].neighbour, kA);
  EXPECT_EQ(ev.seqno_requests[0].seqno, Seqno(11));
}

// The selected route via kA has metric 200 (104 + 96); kB offers `candidate`.
TEST(RouteTableTest, HysteresisKeepsSelectedRouteUnlessClearlyBetter) {
  struct Case {
    const char* name;
    uint16_t margin;
    uint16_t candidate;
    bool switches;
  };
  const std::vector<Case> cases = {
      {"slightly better: noise", 32, 190, false},
      {"better by exactly the margin", 32, 168, false},
      {"better by more than the margin", 32, 167, true},
      {"much better", 32, 100, true},
      {"worse", 32, 250, false},
      {"equal", 32, 200, false},
      {"no margin: equal keeps", 0, 200, false},
      {"no margin: one less switches", 0, 199, true},
  };
  for (const Case& c : cases) {
    RouteTable table(RouteTableParams{.switch_margin = c.margin});
    SourceTable sources;
    (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 104), sources, kT0);
    RouteEvents ev = table.OnUpdate(kB, Metric(c.candidate - 50), MakeUpdate(10, 50), sources, kT0);
    EXPECT_EQ(table.Selected(Dest())->key.neighbour, c.switches ? kB : kA) << c.name;
    EXPECT_EQ(ev.selection_changed.size(), c.switches ? 1u : 0u) << c.name;
  }
}

TEST(RouteTableTest, MetricNoiseOnTheSelectedRouteDoesNotFlip) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 110), sources, kT0);
  for (uint16_t noise : {120, 105, 130, 115, 140}) {
    RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, noise), sources, kT0);
    EXPECT_TRUE(ev.selection_changed.empty()) << noise;
    EXPECT_EQ(table.Selected(Dest())->key.neighbour, kA) << noise;
  }
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(11, 143), sources, kT0);
  EXPECT_EQ(table.Selected(Dest())->key.neighbour, kB);  // 239 > 206 + 32
  EXPECT_EQ(ev.selection_changed.size(), 1u);
}

TEST(RouteTableTest, SelectedRouteBecomingInfiniteSwitchesEvenToAWorseRoute) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 5000), sources, kT0);
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, kMetricInfinity), sources, kT0);
  EXPECT_EQ(table.Selected(Dest())->key.neighbour, kB);
  EXPECT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_TRUE(ev.retractions.empty());
}

// RFC 8966 §3.5.2: metric = min(infinity, advertised metric + link cost).
TEST(RouteTableTest, LinkCostChangeRecomputesMetrics) {
  struct Case {
    const char* name;
    uint16_t advertised;
    uint16_t cost;
    Metric metric;
  };
  const std::vector<Case> cases = {
      {"sum", 100, 250, Metric(350)},
      {"zero cost", 100, 0, Metric(100)},
      {"just below infinity", 0xFFFE - 100, 100, Metric(0xFFFE)},
      {"saturates at infinity", 65000, 1000, Metric::Infinity()},
      {"infinite cost", 100, kMetricInfinity, Metric::Infinity()},
  };
  for (const Case& c : cases) {
    RouteTable table;
    SourceTable sources;
    (void)table.OnUpdate(kA, kCost, MakeUpdate(10, c.advertised), sources, kT0);
    (void)table.OnNeighbourCost(kA, Metric(c.cost), sources);
    const Route r = table.RoutesTo(Dest())[0];
    EXPECT_EQ(r.link_cost, Metric(c.cost)) << c.name;
    EXPECT_EQ(r.metric(), c.metric) << c.name;
    EXPECT_EQ(r.selected, !c.metric.IsInfinite()) << c.name;
  }
}

TEST(RouteTableTest, LinkCostIncreaseTriggersReselection) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 150), sources, kT0);
  EXPECT_TRUE(table.OnNeighbourCost(kA, Metric(120), sources).selection_changed.empty());
  RouteEvents ev = table.OnNeighbourCost(kA, Metric(400), sources);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].old_route->metric(), Metric(220));
  EXPECT_EQ(ev.selection_changed[0].new_route->key.neighbour, kB);
}

TEST(RouteTableTest, InfiniteNeighbourCostLosesTheOnlyRoute) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  RouteEvents ev = table.OnNeighbourCost(kA, Metric::Infinity(), sources);
  ASSERT_EQ(ev.retractions.size(), 1u);
  EXPECT_EQ(table.Selected(Dest()), nullptr);
  EXPECT_EQ(table.size(), 1u);
  EXPECT_TRUE(ev.seqno_requests.empty());  // no feasibility distance: nothing to starve
}

// RFC 8966 §3.5.4: expiry sets the metric to infinity, a second expiry flushes.
TEST(RouteTableTest, RouteExpiresThenIsFlushed) {
  RouteTable table;
  SourceTable sources;
  sources.OnAdvertised(Source(), {Seqno(10), Metric(196)}, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  EXPECT_TRUE(table.Tick(kT0 + kExpiry - seconds(1), sources).selection_changed.empty());
  RouteEvents ev = table.Tick(kT0 + kExpiry, sources);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_FALSE(ev.selection_changed[0].new_route);
  EXPECT_EQ(ev.retractions.size(), 1u);
  ASSERT_EQ(ev.seqno_requests.size(), 1u);
  EXPECT_FALSE(ev.seqno_requests[0].neighbour);
  EXPECT_EQ(ev.seqno_requests[0].seqno, Seqno(11));
  ASSERT_EQ(table.size(), 1u);
  EXPECT_TRUE(table.RoutesTo(Dest())[0].advertised_metric.IsInfinite());
  EXPECT_EQ(table.NextDeadline(), kT0 + 2 * kExpiry);
  EXPECT_TRUE(table.Tick(kT0 + 2 * kExpiry, sources).selection_changed.empty());
  EXPECT_EQ(table.size(), 0u);
  EXPECT_EQ(table.NextDeadline(), Timestamp::Infinite());
}

TEST(RouteTableTest, FreshUpdateResetsExpiry) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0 + seconds(30));
  (void)table.Tick(kT0 + kExpiry, sources);
  EXPECT_NE(table.Selected(Dest()), nullptr);
  EXPECT_EQ(table.NextDeadline(), kT0 + seconds(30) + kExpiry);
}

TEST(RouteTableTest, RetractedRouteIsFlushedAtItsExistingExpiry) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, kMetricInfinity), sources, kT0 + seconds(30));
  EXPECT_EQ(table.NextDeadline(), kT0 + kExpiry);  // a retraction does not reset the timer
  (void)table.Tick(kT0 + kExpiry, sources);
  EXPECT_EQ(table.size(), 0u);
}

TEST(RouteTableTest, ExpiredRouteIsReplacedByAnother) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 300), sources, kT0 + seconds(20));
  RouteEvents ev = table.Tick(kT0 + kExpiry, sources);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].new_route->key.neighbour, kB);
  EXPECT_TRUE(ev.retractions.empty());
}

TEST(RouteTableTest, WildcardRetractionRetractsEveryRouteOfTheNeighbour) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100, 1, Dest("fd00:1::/64")), sources, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100, 2, Dest("fd00:2::/64")), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 100, 3, Dest("fd00:3::/64")), sources, kT0);
  Update wildcard = MakeUpdate(0, kMetricInfinity);
  wildcard.wildcard = true;
  RouteEvents ev = table.OnUpdate(kA, kCost, wildcard, sources, kT0);
  EXPECT_EQ(ev.retractions.size(), 2u);
  EXPECT_EQ(table.Selected(Dest("fd00:1::/64")), nullptr);
  EXPECT_EQ(table.Selected(Dest("fd00:2::/64")), nullptr);
  EXPECT_NE(table.Selected(Dest("fd00:3::/64")), nullptr);
}

TEST(RouteTableTest, RemovedNeighbourRoutesAreFlushed) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 100), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 300), sources, kT0);
  RouteEvents ev = table.RemoveNeighbour(kA, sources);
  EXPECT_EQ(table.size(), 1u);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].old_route->key.neighbour, kA);
  EXPECT_EQ(ev.selection_changed[0].new_route->key.neighbour, kB);
}

// After the core advertises the route via kA, the feasibility distance makes
// the route via kB unfeasible; losing kA then starves (§3.8.2.1).
TEST(RouteTableTest, AdvertisingMakesWorseRoutesUnfeasibleAndLossRequestsNewSeqno) {
  RouteTable table;
  SourceTable sources;
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 50), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 300), sources, kT0);
  const Route selected = *table.Selected(Dest());
  sources.OnAdvertised(selected.source(), {selected.seqno, selected.metric()}, kT0);
  EXPECT_TRUE(table.Reselect(sources).selection_changed.empty());
  EXPECT_FALSE(table.Find({Dest(), kB})->feasible);
  EXPECT_TRUE(table.Find({Dest(), kA})->feasible);
  RouteEvents ev = table.OnUpdate(kA, kCost, MakeUpdate(10, kMetricInfinity), sources, kT0);
  EXPECT_EQ(table.Selected(Dest()), nullptr);
  EXPECT_EQ(ev.retractions.size(), 1u);
  ASSERT_EQ(ev.seqno_requests.size(), 1u);
  EXPECT_EQ(ev.seqno_requests[0].seqno, Seqno(11));
  EXPECT_FALSE(ev.seqno_requests[0].neighbour);
  // The newer seqno makes kB's route feasible again.
  ev = table.OnUpdate(kB, kCost, MakeUpdate(11, 300), sources, kT0);
  EXPECT_EQ(table.Selected(Dest())->key.neighbour, kB);
}

TEST(RouteTableTest, SeqnoWrapMakesUpdateFeasible) {
  RouteTable table;
  SourceTable sources;
  sources.OnAdvertised(Source(), {Seqno(0xFFFF), Metric(100)}, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(0, 5000), sources, kT0);
  EXPECT_NE(table.Selected(Dest()), nullptr);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(0xFFFE, 1), sources, kT0);
  EXPECT_FALSE(table.Find({Dest(), kB})->feasible);
}

// RFC 9079: (::/0 from anywhere) and (::/0 from fd00::/48) are selected apart.
TEST(RouteTableTest, SourceSpecificRoutesAreSelectedIndependently) {
  RouteTable table;
  SourceTable sources;
  const Destination plain = Dest("::/0");
  const Destination specific = Dest("::/0", "fd00::/48");
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 500, 1, plain), sources, kT0);
  (void)table.OnUpdate(kB, kCost, MakeUpdate(10, 100, 2, specific), sources, kT0);
  (void)table.OnUpdate(kA, kCost, MakeUpdate(10, 900, 1, specific), sources, kT0);
  EXPECT_EQ(table.Selected(plain)->key.neighbour, kA);
  EXPECT_EQ(table.Selected(specific)->key.neighbour, kB);
  EXPECT_EQ(table.RoutesTo(plain).size(), 1u);
  EXPECT_EQ(table.RoutesTo(specific).size(), 2u);
  RouteEvents ev =
      table.OnUpdate(kB, kCost, MakeUpdate(10, kMetricInfinity, 2, specific), sources, kT0);
  ASSERT_EQ(ev.selection_changed.size(), 1u);
  EXPECT_EQ(ev.selection_changed[0].destination, specific);
  EXPECT_EQ(table.Selected(specific)->key.neighbour, kA);
  EXPECT_EQ(table.Selected(plain)->key.neighbour, kA);
  // A feasibility distance for the specific source does not touch the plain one.
  sources.OnAdvertised(Source(1, specific), {Seqno(10), Metric(50)}, kT0);
  (void)table.Reselect(sources);
  EXPECT_EQ(table.Selected(specific), nullptr);
  EXPECT_NE(table.Selected(plain), nullptr);
}

// Random updates, cost changes, advertisements and ticks never break the
// selection invariants.
TEST(RouteTableTest, RandomOperationsKeepSelectionInvariants) {
  std::mt19937 rng(8966);
  RouteTable table;
  SourceTable sources;
  const std::vector<Destination> dests = {Dest("fd00:1::/64"), Dest("::/0"),
                                          Dest("::/0", "fd00::/48")};
  Timestamp now = kT0;
  for (int step = 0; step < 3000; ++step) {
    const Destination& dest = dests[rng() % dests.size()];
    const NeighbourKey n = Neighbour(static_cast<int>(1 + rng() % 4));
    switch (rng() % 5) {
      case 0:
      case 1: {
        const uint16_t metric = rng() % 8 == 0 ? kMetricInfinity : rng() % 2000;
        (void)table.OnUpdate(n, Metric(96 + rng() % 200),
                             MakeUpdate(rng() % 6, metric, 1 + rng() % 2, dest), sources, now);
        break;
      }
      case 2:
        (void)table.OnNeighbourCost(n, Metric(rng() % 3 == 0 ? kMetricInfinity : rng() % 500),
                                    sources);
        break;
      case 3:
        if (const Route* r = table.Selected(dest)) {
          sources.OnAdvertised(r->source(), {r->seqno, r->metric()}, now);
          (void)table.Reselect(sources);
        }
        break;
      default:
        now = now + seconds(rng() % 30);
        (void)sources.Tick(now);
        (void)table.Tick(now, sources);
        (void)table.Reselect(sources);
    }
    for (const Destination& d : dests) ExpectSelectionInvariants(table, d, 32);
    if (HasFailure()) return;
  }
}

}  // namespace
}  // namespace plexus::babel
