#include "babel/request_tracker.h"

#include <gtest/gtest.h>

#include <vector>

namespace plexus::babel {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});
const RouterId kSource = RouterId::FromUint64(0xAB);

NeighbourKey Nb(uint8_t last) {
  return {1, IpAddress::V6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, last})};
}

Destination Dest(const char* prefix = "fd00:1::/64") {
  return {*Prefix::Parse(prefix), std::nullopt};
}

SeqnoRequest Req(uint16_t seqno, uint8_t hops, const char* prefix = "fd00:1::/64") {
  return {*Prefix::Parse(prefix), std::nullopt, Seqno(seqno), hops, kSource};
}

Update Upd(uint16_t seqno, uint16_t metric = 100, RouterId router = kSource,
           const char* prefix = "fd00:1::/64") {
  Update u;
  u.prefix = *Prefix::Parse(prefix);
  u.interval = Centiseconds(400);
  u.seqno = Seqno(seqno);
  u.metric = Metric(metric);
  u.router_id = router;
  return u;
}

TEST(RequestTrackerTest, ResendsWithDoublingTimeoutThenGivesUp) {
  RequestTracker tracker;
  ASSERT_TRUE(tracker.SendSeqnoRequest(Req(5, 64), Nb(2), kT0).has_value());
  struct Step {
    Duration at;
    size_t resends;
    size_t pending_after;
  };
  // Initial timeout 2 s, doubled per resend, 3 resends, then one more timeout.
  const std::vector<Step> schedule = {
      {milliseconds(1999), 0, 1}, {seconds(2), 1, 1},  {seconds(5), 0, 1},  {seconds(6), 1, 1},
      {seconds(14), 1, 1},        {seconds(29), 0, 1}, {seconds(30), 0, 0},
  };
  for (const Step& s : schedule) {
    const auto out = tracker.Tick(kT0 + s.at);
    EXPECT_EQ(out.size(), s.resends) << s.at.count();
    EXPECT_EQ(tracker.size(), s.pending_after) << s.at.count();
    if (!out.empty()) {
      EXPECT_EQ(out[0].neighbour, Nb(2));
      EXPECT_EQ(std::get<SeqnoRequest>(out[0].tlv), Req(5, 64));
    }
  }
  EXPECT_EQ(tracker.NextDeadline(), Timestamp::Infinite());
}

TEST(RequestTrackerTest, NextDeadlineIsTheEarliestResend) {
  RequestTracker tracker;
  EXPECT_EQ(tracker.NextDeadline(), Timestamp::Infinite());
  (void)tracker.SendRouteRequest(Dest(), std::nullopt, kT0 + seconds(1));
  (void)tracker.SendSeqnoRequest(Req(1, 64, "10.0.0.0/24"), Nb(2), kT0);
  EXPECT_EQ(tracker.NextDeadline(), kT0 + seconds(2));
}

TEST(RequestTrackerTest, SameRequestWithinTimeoutIsNotSentAgain) {
  struct Case {
    const char* name;
    Duration later;
    bool sent;
  };
  const std::vector<Case> cases = {
      {"immediately", seconds(0), false},
      {"just before the timeout", milliseconds(1999), false},
      {"at the timeout (no Tick ran)", seconds(2), true},
  };
  for (const Case& c : cases) {
    RequestTracker tracker;
    ASSERT_TRUE(tracker.SendRouteRequest(Dest(), Nb(2), kT0).has_value());
    EXPECT_EQ(tracker.SendRouteRequest(Dest(), Nb(2), kT0 + c.later).has_value(), c.sent) << c.name;
  }
}

TEST(RequestTrackerTest, DifferentKeysAreTrackedSeparately) {
  RequestTracker tracker;
  EXPECT_TRUE(tracker.SendRouteRequest(Dest(), std::nullopt, kT0).has_value());
  EXPECT_TRUE(tracker.SendRouteRequest(Dest("10.0.0.0/24"), std::nullopt, kT0).has_value());
  EXPECT_TRUE(tracker.SendSeqnoRequest(Req(5, 64), Nb(2), kT0).has_value());
  EXPECT_TRUE(tracker.SendSeqnoRequest(Req(6, 64), Nb(2), kT0).has_value());
  Destination specific = Dest("::/0");
  specific.source_prefix = *Prefix::Parse("fd00:1::/48");
  EXPECT_TRUE(tracker.SendRouteRequest(specific, std::nullopt, kT0).has_value());
  EXPECT_TRUE(tracker.SendRouteRequest(Dest("::/0"), std::nullopt, kT0).has_value());
  EXPECT_EQ(tracker.size(), 6u);
}

// RFC 8966 §3.8.1.2 forwarding rules; A = Nb(1) sent it, B = Nb(2) is the selected route.
TEST(RequestTrackerTest, ForwardingRules) {
  struct Case {
    const char* name;
    uint8_t hops;
    std::optional<NeighbourKey> selected;
    std::optional<ForwardDropReason> drop;
  };
  const std::vector<Case> cases = {
      {"hop count 2 is forwarded", 2, Nb(2), std::nullopt},
      {"hop count 64 is forwarded", 64, Nb(2), std::nullopt},
      {"hop count 1 is not", 1, Nb(2), ForwardDropReason::kHopCountTooLow},
      {"hop count 0 is not", 0, Nb(2), ForwardDropReason::kHopCountTooLow},
      {"no selected route", 64, std::nullopt, ForwardDropReason::kNoRoute},
      {"never back to the requester", 64, Nb(1), ForwardDropReason::kWouldGoBack},
  };
  for (const Case& c : cases) {
    RequestTracker tracker;
    const ForwardResult r = tracker.ForwardSeqnoRequest(Req(5, c.hops), Nb(1), c.selected, kT0);
    EXPECT_EQ(r.drop, c.drop) << c.name;
    EXPECT_EQ(r.forward.has_value(), !c.drop.has_value()) << c.name;
    if (!r.forward) continue;
    EXPECT_EQ(r.forward->neighbour, Nb(2)) << c.name;
    EXPECT_EQ(std::get<SeqnoRequest>(r.forward->tlv).hop_count, c.hops - 1) << c.name;
  }
}

// A pending forwarded request (seqno 10, received with hop count 5) versus a later one.
TEST(RequestTrackerTest, ForwardDuplicateSuppression) {
  struct Case {
    const char* name;
    uint16_t seqno;
    uint8_t hops;
    bool forwarded;
  };
  const std::vector<Case> cases = {
      {"same seqno, same hop count", 10, 5, false},
      {"same seqno, lower hop count", 10, 3, false},
      {"same seqno, higher hop count", 10, 9, true},
      {"older seqno", 9, 9, false},
      {"older seqno across the wrap", 0xFFFF, 9, false},
      {"newer seqno", 11, 2, true},
  };
  for (const Case& c : cases) {
    RequestTracker tracker;
    ASSERT_TRUE(tracker.ForwardSeqnoRequest(Req(10, 5), Nb(1), Nb(2), kT0).forward);
    const ForwardResult r =
        tracker.ForwardSeqnoRequest(Req(c.seqno, c.hops), Nb(3), Nb(2), kT0 + seconds(1));
    EXPECT_EQ(r.forward.has_value(), c.forwarded) << c.name;
    if (!c.forwarded) EXPECT_EQ(r.drop, ForwardDropReason::kDuplicate) << c.name;
  }
}

TEST(RequestTrackerTest, SuppressedRequesterStillGetsTheUpdate) {
  RequestTracker tracker;
  (void)tracker.ForwardSeqnoRequest(Req(10, 5), Nb(1), Nb(2), kT0);
  (void)tracker.ForwardSeqnoRequest(Req(10, 5), Nb(3), Nb(2), kT0);
  const auto satisfied = tracker.OnUpdate(Upd(10));
  ASSERT_EQ(satisfied.size(), 1u);
  EXPECT_FALSE(satisfied[0].originated);
  EXPECT_EQ(satisfied[0].requesters, (std::vector<NeighbourKey>{Nb(1), Nb(3)}));
  EXPECT_EQ(tracker.size(), 0u);
}

TEST(RequestTrackerTest, HigherHopCountReplacesPendingAndKeepsRequesters) {
  RequestTracker tracker;
  (void)tracker.ForwardSeqnoRequest(Req(10, 3), Nb(1), Nb(2), kT0);
  const ForwardResult r = tracker.ForwardSeqnoRequest(Req(10, 9), Nb(3), Nb(2), kT0);
  ASSERT_TRUE(r.forward.has_value());
  EXPECT_EQ(std::get<SeqnoRequest>(r.forward->tlv).hop_count, 8);
  EXPECT_EQ(tracker.size(), 1u);
  const auto satisfied = tracker.OnUpdate(Upd(12));
  ASSERT_EQ(satisfied.size(), 1u);
  EXPECT_EQ(satisfied[0].requesters, (std::vector<NeighbourKey>{Nb(1), Nb(3)}));
}

// Pending Seqno Request for seqno `asked` from kSource.
TEST(RequestTrackerTest, SatisfactionByUpdate) {
  struct Case {
    const char* name;
    uint16_t asked;
    Update update;
    bool satisfied;
  };
  const std::vector<Case> cases = {
      {"newer seqno", 10, Upd(11), true},
      {"equal seqno", 10, Upd(10), true},
      {"older seqno", 10, Upd(9), false},
      {"newer across the wrap", 0xFFFF, Upd(0), true},
      {"older across the wrap", 0, Upd(0xFFFF), false},
      {"half a circle away", 0, Upd(0x8000), false},
      {"retraction with an old seqno", 10, Upd(1, kMetricInfinity), true},
      {"another router-id", 10, Upd(1, 100, RouterId::FromUint64(0xCD)), true},
      {"another prefix", 10, Upd(11, 100, kSource, "fd00:2::/64"), false},
  };
  for (const Case& c : cases) {
    RequestTracker tracker;
    (void)tracker.SendSeqnoRequest(Req(c.asked, 64), Nb(2), kT0);
    const auto satisfied = tracker.OnUpdate(c.update);
    EXPECT_EQ(satisfied.size(), c.satisfied ? 1u : 0u) << c.name;
    EXPECT_EQ(tracker.size(), c.satisfied ? 0u : 1u) << c.name;
    if (c.satisfied) EXPECT_TRUE(satisfied[0].originated) << c.name;
  }
}

TEST(RequestTrackerTest, RouteRequestIsSatisfiedByAnyUpdateForItsDestination) {
  RequestTracker tracker;
  (void)tracker.SendRouteRequest(Dest(), std::nullopt, kT0);
  Update wildcard;
  wildcard.wildcard = true;
  wildcard.metric = Metric::Infinity();
  EXPECT_TRUE(tracker.OnUpdate(wildcard).empty());
  EXPECT_TRUE(tracker.OnUpdate(Upd(1, 100, kSource, "fd00:2::/64")).empty());
  const auto satisfied = tracker.OnUpdate(Upd(1));
  ASSERT_EQ(satisfied.size(), 1u);
  EXPECT_FALSE(satisfied[0].key.IsSeqnoRequest());
  EXPECT_TRUE(satisfied[0].requesters.empty());
}

TEST(RequestTrackerTest, SatisfiedRequestIsNotResent) {
  RequestTracker tracker;
  (void)tracker.SendSeqnoRequest(Req(5, 64), Nb(2), kT0);
  (void)tracker.OnUpdate(Upd(5));
  EXPECT_TRUE(tracker.Tick(kT0 + seconds(2)).empty());
  EXPECT_TRUE(tracker.SendSeqnoRequest(Req(5, 64), Nb(2), kT0 + seconds(2)).has_value());
}

}  // namespace
}  // namespace plexus::babel
