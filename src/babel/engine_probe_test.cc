// Engine tests at the wire: a hand-written neighbour (a "probe") sends
// crafted packets and reads what the engine answers.
#include <gtest/gtest.h>

#include "babel/engine.h"
#include "babel/engine_test_net.h"
#include "testing/fake_random.h"

namespace plexus::babel {
namespace {

using std::chrono::seconds;
using testnet::Dest;

const IpAddress kSelf = *IpAddress::Parse("fe80::1");
const IpAddress kSelf2 = *IpAddress::Parse("fe80::2");
const IpAddress kProbe = *IpAddress::Parse("fe80::99");
const IpAddress kProbe2 = *IpAddress::Parse("fe80::98");
const RouterId kOther = RouterId::FromUint64(0x77);

struct Received {
  OutgoingPacket packet;
  Packet decoded;
};

class EngineProbeTest : public ::testing::Test {
 protected:
  EngineProbeTest() {
    EngineParams params;
    params.router_id = RouterId::FromUint64(0x42);
    engine_ = std::make_unique<Engine>(params, random_, now_);
    EXPECT_TRUE(engine_->AddInterface(1, kSelf, now_));
    EXPECT_TRUE(engine_->AddInterface(2, kSelf2, now_));
  }

  // Sends `tlvs` in one packet from `from` on `interface`; returns what the
  // engine sent in reaction.
  std::vector<Received> Send(const std::vector<Tlv>& tlvs, const IpAddress& from = kProbe,
                             uint32_t interface = 1) {
    PacketWriter writer(from);
    for (const Tlv& tlv : tlvs) EXPECT_TRUE(writer.Append(tlv));
    const Bytes bytes = writer.Finish();
    engine_->Receive(interface, from, bytes, now_);
    return Take();
  }

  std::vector<Received> Take() {
    std::vector<Received> out;
    for (OutgoingPacket& p : engine_->TakeOutgoing()) {
      const IpAddress source = p.interface_id == 1 ? kSelf : kSelf2;
      Result<Packet> decoded = DecodePacket(p.payload, source);
      EXPECT_TRUE(decoded.ok());
      EXPECT_TRUE(decoded->skipped.empty());
      out.push_back({std::move(p), std::move(*decoded)});
    }
    return out;
  }

  // Makes `from` a neighbour with a finite cost (two Hellos and an IHU).
  void BecomeNeighbour(const IpAddress& from = kProbe, uint32_t interface = 1) {
    const IpAddress self = interface == 1 ? kSelf : kSelf2;
    for (uint16_t i = 0; i < 2; ++i) {
      Hello hello{0, Seqno(i), Centiseconds(400), std::nullopt};
      Send({hello, Ihu{Metric(96), Centiseconds(400), self, std::nullopt}}, from, interface);
    }
  }

  Update RouteUpdate(const Destination& d, uint16_t seqno, uint16_t metric,
                     RouterId router = kOther) {
    Update u;
    u.prefix = d.prefix;
    u.source_prefix = d.source_prefix;
    u.interval = Centiseconds(1600);
    u.seqno = Seqno(seqno);
    u.metric = Metric(metric);
    u.router_id = router;
    // IPv4 prefixes need an IPv6 next hop (AE 4): the probe's address.
    if (metric != kMetricInfinity) u.next_hop = kProbe;
    return u;
  }

  Seqno OwnSeqno(const Destination& d) {
    for (const RouteInfo& r : engine_->Routes(now_)) {
      if (r.local && r.destination == d) return r.seqno;
    }
    ADD_FAILURE() << "no own prefix";
    return Seqno();
  }

  testing::FakeRandom random_{7};
  Timestamp now_ = Timestamp::FromNanos(int64_t{5'000'000'000'000});
  std::unique_ptr<Engine> engine_;
};

std::vector<Update> UpdatesIn(const std::vector<Received>& received,
                              std::optional<IpAddress> to = std::nullopt, bool multicast = false) {
  std::vector<Update> out;
  for (const Received& r : received) {
    if (multicast ? r.packet.destination.has_value() : r.packet.destination != to) continue;
    for (const Tlv& tlv : r.decoded.tlvs) {
      if (const auto* u = std::get_if<Update>(&tlv)) out.push_back(*u);
    }
  }
  return out;
}

template <typename T>
std::vector<T> TlvsIn(const std::vector<Received>& received) {
  std::vector<T> out;
  for (const Received& r : received) {
    for (const Tlv& tlv : r.decoded.tlvs) {
      if (const auto* t = std::get_if<T>(&tlv)) out.push_back(*t);
    }
  }
  return out;
}

TEST_F(EngineProbeTest, NewInterfaceSendsHelloAndWildcardRequest) {
  EngineParams params;
  params.router_id = RouterId::FromUint64(0x43);
  Engine engine(params, random_, now_);
  EXPECT_FALSE(engine.AddInterface(1, *IpAddress::Parse("fd00::1"), now_).ok());
  ASSERT_TRUE(engine.AddInterface(1, kSelf, now_).ok());
  EXPECT_FALSE(engine.AddInterface(1, kSelf, now_).ok()) << "id in use";
  std::vector<OutgoingPacket> out = engine.TakeOutgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].destination);
  const Packet p = *DecodePacket(out[0].payload, kSelf);
  ASSERT_GE(p.tlvs.size(), 2u);
  const auto* hello = std::get_if<Hello>(&p.tlvs[0]);
  ASSERT_NE(hello, nullptr);
  EXPECT_TRUE(hello->timestamp);
  EXPECT_EQ(hello->interval, Centiseconds(400));
  EXPECT_EQ(std::get<RouteRequest>(p.tlvs[1]), RouteRequest{});
  EXPECT_TRUE(engine.TakeOutgoing().empty());
}

TEST_F(EngineProbeTest, InterfaceParamsApplyPerInterface) {
  InterfaceParams params;
  params.hello_interval = seconds(1);
  params.update_interval = seconds(5);
  params.max_packet_size = 100;
  ASSERT_TRUE(engine_->AddInterface(3, *IpAddress::Parse("fe80::3"), now_, params));
  for (int i = 0; i < 20; ++i) {
    engine_->AddPrefix(Dest(("fd00:" + std::to_string(i) + "::/64").c_str()), now_);
  }
  for (const OutgoingPacket& p : engine_->TakeOutgoing()) {
    const Packet decoded = *DecodePacket(p.payload, kSelf);
    for (const Tlv& tlv : decoded.tlvs) {
      const auto* u = std::get_if<Update>(&tlv);
      if (u == nullptr) continue;
      EXPECT_EQ(u->interval, p.interface_id == 3 ? Centiseconds(500) : Centiseconds(1600));
    }
    if (p.interface_id == 3) EXPECT_LE(p.payload.size(), 100u);
  }
  now_ = now_ + seconds(1);
  EXPECT_EQ(engine_->NextDeadline(), now_) << "the 1 s Hello timer of interface 3";
  engine_->Tick(now_);
  const std::vector<OutgoingPacket> out = engine_->TakeOutgoing();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].interface_id, 3u);
  const Packet hello = *DecodePacket(out[0].payload, *IpAddress::Parse("fe80::3"));
  EXPECT_EQ(std::get<Hello>(hello.tlvs[0]).interval, Centiseconds(100));
}

TEST_F(EngineProbeTest, HelloCarriesIhuWithEchoedTimestamp) {
  Hello hello{0, Seqno(5), Centiseconds(400), 123456u};
  Send({hello});
  now_ = engine_->NextDeadline();
  engine_->Tick(now_);
  const std::vector<Received> out = Take();
  const std::vector<Ihu> ihus = TlvsIn<Ihu>(out);
  ASSERT_EQ(ihus.size(), 1u);
  EXPECT_EQ(ihus[0].address, kProbe);
  ASSERT_TRUE(ihus[0].timestamp);
  EXPECT_EQ(ihus[0].timestamp->origin, 123456u);
  EXPECT_EQ(TlvsIn<Hello>(out).size(), 2u) << "one Hello per interface";
}

TEST_F(EngineProbeTest, WildcardRouteRequestGetsAFullUpdateByUnicast) {
  engine_->AddPrefix(Dest("fd00:1::/64"), now_);
  engine_->AddPrefix(Dest("10.1.0.0/16"), now_);
  engine_->AddPrefix(Dest("::/0", "fd00::/48"), now_);
  Take();
  const std::vector<Received> out = Send({RouteRequest{}});
  const std::vector<Update> updates = UpdatesIn(out, kProbe);
  ASSERT_EQ(updates.size(), 3u);
  for (const Update& u : updates) {
    EXPECT_EQ(u.metric, Metric(0));
    EXPECT_EQ(u.router_id, engine_->router_id());
    EXPECT_EQ(u.next_hop, kSelf);
  }
  EXPECT_EQ(engine_->stats().requests_received, 1u);
}

TEST_F(EngineProbeTest, SpecificRouteRequestGetsUpdateOrRetraction) {
  const Destination own = Dest("fd00:1::/64", "fd00::/48");
  engine_->AddPrefix(own, now_);
  Take();
  std::vector<Update> updates =
      UpdatesIn(Send({RouteRequest{own.prefix, own.source_prefix}}), kProbe);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].source_prefix, own.source_prefix);
  EXPECT_FALSE(updates[0].IsRetraction());
  // The same prefix without the source prefix is another destination.
  updates = UpdatesIn(Send({RouteRequest{own.prefix, std::nullopt}}), kProbe);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_TRUE(updates[0].IsRetraction());
  EXPECT_EQ(updates[0].router_id, engine_->router_id());
}

TEST_F(EngineProbeTest, LearnedRouteIsAnnouncedAndAnswered) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  EXPECT_TRUE(UpdatesIn(Send({RouteUpdate(d, 10, 100)}), std::nullopt, true).empty())
      << "triggered updates wait for the delay";
  ASSERT_EQ(engine_->Fib().size(), 1u) << "the Fib does not";
  now_ = now_ + EngineParams{}.triggered_update_delay;
  EXPECT_EQ(engine_->NextDeadline(), now_);
  engine_->Tick(now_);
  const std::vector<Update> triggered = UpdatesIn(Take(), std::nullopt, true);
  ASSERT_EQ(triggered.size(), 2u) << "a triggered update on both interfaces";
  EXPECT_EQ(triggered[0].metric, Metric(196));
  EXPECT_EQ(triggered[0].router_id, kOther);
  ASSERT_EQ(engine_->Fib().size(), 1u);
  EXPECT_EQ(engine_->Fib()[0].next_hop, kProbe);
  EXPECT_EQ(engine_->Fib()[0].interface_id, 1u);
  const std::vector<Update> answer =
      UpdatesIn(Send({RouteRequest{d.prefix, std::nullopt}}), kProbe);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].seqno, Seqno(10));
}

// RFC 8966 §3.7.2: which changes of the selected route trigger an update.
// Updates arrive from one neighbour, whose first Update (seqno 10, metric
// 200) set our feasibility distance to (10, 296).
TEST_F(EngineProbeTest, TriggeredUpdatesFollowTheRouteChanges) {
  enum Expect { kNothing, kUpdate, kRetraction };
  struct Case {
    const char* name = "";
    uint16_t seqno = 0;
    uint16_t metric = 0;
    RouterId router;
    Expect expect = kNothing;
  };
  const RouterId other2 = RouterId::FromUint64(0x78);
  const Case cases[] = {
      {"small decrease waits for the periodic update", 10, 150, kOther, kNothing},
      {"large decrease", 10, 10, kOther, kUpdate},
      {"same again", 10, 10, kOther, kNothing},
      {"increase with the same seqno is unfeasible: route lost", 10, 300, kOther, kRetraction},
      {"newer seqno makes it feasible", 11, 300, kOther, kUpdate},
      {"newer seqno alone", 12, 300, kOther, kUpdate},
      {"router-id change", 1, 300, other2, kUpdate},
  };
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 200)});
  now_ = now_ + seconds(1);
  engine_->Tick(now_);
  Take();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::vector<Update> updates =
        UpdatesIn(Send({RouteUpdate(d, c.seqno, c.metric, c.router)}), std::nullopt, true);
    now_ = now_ + seconds(1);
    engine_->Tick(now_);
    for (const Update& u : UpdatesIn(Take(), std::nullopt, true)) updates.push_back(u);
    if (c.expect == kNothing) {
      EXPECT_TRUE(updates.empty());
      continue;
    }
    ASSERT_FALSE(updates.empty());
    if (c.expect == kRetraction) {
      EXPECT_TRUE(updates[0].IsRetraction());
      continue;
    }
    EXPECT_EQ(updates[0].metric, Metric(c.metric + 96));
    EXPECT_EQ(updates[0].router_id, c.router);
    EXPECT_EQ(updates[0].seqno, Seqno(c.seqno));
  }
}

// RFC 8966 §3.8.2.2: an unfeasible update for the selected route makes us
// ask that neighbour for a newer seqno.
TEST_F(EngineProbeTest, UnfeasibleUpdateForSelectedRouteAsksForNewerSeqno) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  now_ = now_ + seconds(1);
  engine_->Tick(now_);  // announced: feasibility distance (10, 196)
  Take();
  const std::vector<Received> out = Send({RouteUpdate(d, 10, 200)});
  std::vector<Received> unicast;
  for (const Received& r : out) {
    if (r.packet.destination == kProbe) unicast.push_back(r);
  }
  const std::vector<SeqnoRequest> requests = TlvsIn<SeqnoRequest>(unicast);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(TlvsIn<SeqnoRequest>(out).size(), 1u) << "no multicast request as well";
  EXPECT_EQ(requests[0].seqno, Seqno(11));
  EXPECT_EQ(requests[0].router_id, kOther);
  EXPECT_EQ(requests[0].hop_count, kSeqnoRequestHopCount);
  EXPECT_TRUE(engine_->Fib().empty()) << "the unfeasible route is not used";
  // The newer seqno makes it feasible again.
  Send({RouteUpdate(d, 11, 200)});
  ASSERT_EQ(engine_->Fib().size(), 1u);
  EXPECT_EQ(engine_->Fib()[0].metric, Metric(296));
}

// RFC 8966 §3.7.2: a retraction is sent at once, then resent urgently.
TEST_F(EngineProbeTest, RetractionIsSentAtOnceAndResent) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  now_ = now_ + seconds(1);
  engine_->Tick(now_);
  Take();
  Update retraction = RouteUpdate(d, 10, kMetricInfinity);
  int sends = 0;
  for (const Update& u : UpdatesIn(Send({retraction}), std::nullopt, true)) {
    sends += u.IsRetraction() && u.prefix == d.prefix ? 1 : 0;
  }
  EXPECT_EQ(sends, 2) << "on both interfaces";
  EXPECT_TRUE(engine_->Fib().empty());
  for (int i = 0; i < 5; ++i) {
    now_ = engine_->NextDeadline();
    engine_->Tick(now_);
    for (const Update& u : UpdatesIn(Take(), std::nullopt, true)) {
      sends += u.IsRetraction() && u.prefix == d.prefix ? 1 : 0;
    }
  }
  EXPECT_EQ(sends, 2 * EngineParams{}.retraction_sends);
}

TEST_F(EngineProbeTest, WildcardRetractionDropsEveryRouteOfTheNeighbour) {
  BecomeNeighbour();
  Send({RouteUpdate(Dest("fd00:7::/64"), 10, 100), RouteUpdate(Dest("10.7.0.0/16"), 10, 100)});
  ASSERT_EQ(engine_->Fib().size(), 2u);
  Update wildcard;
  wildcard.wildcard = true;
  wildcard.interval = Centiseconds(1600);
  wildcard.metric = Metric::Infinity();
  Send({wildcard});
  EXPECT_TRUE(engine_->Fib().empty());
}

TEST_F(EngineProbeTest, OwnPrefixIsNeitherInTheFibNorTakenFromOthers) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  ASSERT_EQ(engine_->Fib().size(), 1u);
  engine_->AddPrefix(d, now_);
  EXPECT_TRUE(engine_->Fib().empty());
  const std::vector<Update> answer =
      UpdatesIn(Send({RouteRequest{d.prefix, std::nullopt}}), kProbe);
  ASSERT_EQ(answer.size(), 1u);
  EXPECT_EQ(answer[0].router_id, engine_->router_id()) << "ours, not the learned one";
  EXPECT_EQ(answer[0].metric, Metric(0));
  // Stop originating it: the other node's route takes over, no retraction.
  const std::vector<Received> out = Take();
  engine_->RemovePrefix(d, now_);
  for (const Update& u : UpdatesIn(Take(), std::nullopt, true)) EXPECT_FALSE(u.IsRetraction());
  ASSERT_EQ(engine_->Fib().size(), 1u);
  EXPECT_EQ(engine_->Fib()[0].router_id, kOther);
}

// RFC 8966 §3.2.5: once a source's entry is garbage-collected, any metric is
// feasible again.
TEST_F(EngineProbeTest, SourceGarbageCollectionMakesRoutesFeasibleAgain) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  now_ = now_ + seconds(1);
  engine_->Tick(now_);  // announced: feasibility distance (10, 196)
  Send({RouteUpdate(d, 10, kMetricInfinity)});
  Send({RouteUpdate(d, 10, 300)});
  EXPECT_TRUE(engine_->Fib().empty()) << "(10, 300) is not better than (10, 196)";
  const Timestamp gc = now_ + kSourceGcTime;
  while (now_ < gc) {  // the probe keeps the link up and the route alive
    now_ = std::min(gc, now_ + seconds(4));
    BecomeNeighbour();
    Send({RouteUpdate(d, 10, 300)});
    engine_->Tick(now_);
    Take();
  }
  now_ = now_ + seconds(1);
  engine_->Tick(now_);
  Send({RouteUpdate(d, 10, 300)});
  ASSERT_EQ(engine_->Fib().size(), 1u);
  EXPECT_EQ(engine_->Fib()[0].metric, Metric(396));
}

TEST_F(EngineProbeTest, RoutesAndNeighboursDescribeTheTables) {
  BecomeNeighbour();
  engine_->AddPrefix(Dest("fd00:1::/64"), now_);
  Send({RouteUpdate(Dest("fd00:7::/64"), 10, 100)});
  const std::vector<RouteInfo> routes = engine_->Routes(now_);
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_TRUE(routes[0].local);
  EXPECT_EQ(routes[0].metric, Metric(0));
  EXPECT_EQ(routes[0].router_id, engine_->router_id());
  EXPECT_FALSE(routes[1].local);
  EXPECT_EQ(routes[1].interface_id, 1u);
  EXPECT_EQ(routes[1].next_hop, kProbe);
  EXPECT_EQ(routes[1].metric, Metric(196));
  EXPECT_EQ(routes[1].advertised_metric, Metric(100));
  EXPECT_EQ(routes[1].link_cost, Metric(96));
  EXPECT_EQ(routes[1].seqno, Seqno(10));
  EXPECT_TRUE(routes[1].feasible);
  EXPECT_TRUE(routes[1].selected);
  const std::vector<NeighbourInfo> neighbours = engine_->Neighbours(now_);
  ASSERT_EQ(neighbours.size(), 1u);
  EXPECT_EQ(neighbours[0].key, (NeighbourKey{1, kProbe}));
  EXPECT_EQ(neighbours[0].rxcost, Metric(96));
  EXPECT_EQ(neighbours[0].txcost, Metric(96));
  EXPECT_EQ(neighbours[0].cost, Metric(96));
}

TEST_F(EngineProbeTest, RouteAboutToExpireIsRequestedFromItsNeighbour) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});  // interval 16 s: expires after 56 s
  const Timestamp learned = now_;
  std::optional<Timestamp> requested;
  for (uint16_t hello = 2; now_ < learned + seconds(56); ++hello) {
    now_ = now_ + seconds(2);
    Hello h{0, Seqno(hello), Centiseconds(400), std::nullopt};
    Send({h, Ihu{Metric(96), Centiseconds(400), kSelf, std::nullopt}});
    engine_->Tick(now_);
    for (const Received& r : Take()) {
      if (r.packet.destination != kProbe) continue;
      for (const RouteRequest& q : TlvsIn<RouteRequest>({r})) {
        if (q.prefix == d.prefix && !requested) requested = now_;
      }
    }
  }
  ASSERT_TRUE(requested) << "a unicast Route Request before expiry";
  EXPECT_GE(*requested - learned, seconds(40)) << "not while updates may still come";
  EXPECT_LT(*requested - learned, seconds(56));
  EXPECT_TRUE(engine_->Fib().empty()) << "and the route expired when nothing came";
}

TEST_F(EngineProbeTest, UpdatesWithOurRouterIdAreIgnored) {
  BecomeNeighbour();
  Send({RouteUpdate(Dest("fd00:7::/64"), 10, 100, engine_->router_id())});
  EXPECT_TRUE(engine_->Fib().empty());
}

// RFC 8966 §3.8.1.2 for a Seqno Request naming one of our own prefixes.
TEST_F(EngineProbeTest, SeqnoRequestForOwnPrefix) {
  struct Case {
    const char* name;
    bool our_router_id;
    int delta;       // requested seqno - our seqno
    bool bumped;     // our seqno goes up by exactly one
    bool multicast;  // the answer goes to every neighbour
  };
  const Case cases[] = {
      {"newer", true, 1, true, true},
      {"much newer: still by one", true, 100, true, true},
      {"equal", true, 0, false, false},
      {"older", true, -1, false, false},
      {"other router-id", false, 1, false, false},
  };
  const Destination own = Dest("fd00:1::/64");
  engine_->AddPrefix(own, now_);
  Take();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const Seqno before = OwnSeqno(own);
    SeqnoRequest request{own.prefix, std::nullopt, before.Plus(static_cast<uint16_t>(c.delta)), 10,
                         c.our_router_id ? engine_->router_id() : kOther};
    const std::vector<Received> out = Send({request});
    EXPECT_EQ(OwnSeqno(own), c.bumped ? before.Next() : before);
    const std::vector<Update> updates = UpdatesIn(out, kProbe, c.multicast);
    ASSERT_FALSE(updates.empty());
    EXPECT_EQ(updates[0].prefix, own.prefix);
    EXPECT_EQ(updates[0].seqno, OwnSeqno(own));
  }
}

// RFC 8966 §3.2.1 / §3.8.1.2 at the wrap-around: "newer" is modulo 2^16,
// and a seqno half a circle away is not newer.
TEST(EngineSeqnoWrapTest, SeqnoRequestsCompareModulo65536) {
  struct Case {
    uint16_t ours = 0;
    uint16_t requested = 0;
    uint16_t after = 0;
  };
  const Case cases[] = {
      {0xFFFF, 0x0000, 0x0000},                            // wraps to 0
      {0xFFFF, 0x0005, 0x0000},                            // by one only
      {0xFFFF, 0x7FFF, 0xFFFF},                            // exactly 2^15 away: not newer
      {0xFFFF, 0x7FFE, 0x0000}, {0x0000, 0xFFFF, 0x0000},  // older
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.requested);
    testing::FakeRandom random(1);
    EngineParams params;
    params.router_id = RouterId::FromUint64(0x42);
    params.initial_seqno = Seqno(c.ours);
    const Timestamp now = Timestamp::FromNanos(int64_t{1'000'000'000'000});
    Engine engine(params, random, now);
    ASSERT_TRUE(engine.AddInterface(1, kSelf, now));
    const Destination own = Dest("fd00:1::/64");
    engine.AddPrefix(own, now);
    engine.TakeOutgoing();
    PacketWriter writer(kProbe);
    ASSERT_TRUE(writer.Append(
        SeqnoRequest{own.prefix, std::nullopt, Seqno(c.requested), 3, params.router_id}));
    engine.Receive(1, kProbe, writer.Finish(), now);
    const std::vector<RouteInfo> routes = engine.Routes(now);
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].seqno, Seqno(c.after));
  }
}

TEST_F(EngineProbeTest, BumpedSeqnoIsAnnouncedUrgently) {
  const Destination own = Dest("fd00:1::/64");
  engine_->AddPrefix(own, now_);
  Take();
  const Seqno bumped = OwnSeqno(own).Next();
  const SeqnoRequest request{own.prefix, std::nullopt, bumped, 10, engine_->router_id()};
  int sends = 0;
  const auto count = [&](const std::vector<Received>& out) {
    for (const Update& u : UpdatesIn(out, std::nullopt, true)) {
      sends += u.prefix == own.prefix && u.seqno == bumped ? 1 : 0;
    }
  };
  count(Send({request}));
  EXPECT_EQ(sends, 2) << "at once, on both interfaces";
  for (int i = 0; i < 5; ++i) {
    now_ = now_ + kUrgentTimeout;
    engine_->Tick(now_);
    count(Take());
  }
  EXPECT_EQ(sends, 2 * EngineParams{}.retraction_sends);
}

TEST_F(EngineProbeTest, SeqnoRequestIsAnsweredByASelectedRouteThatSatisfiesIt) {
  BecomeNeighbour();
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  BecomeNeighbour(kProbe2, 2);
  // Asking for seqno 10 (or older) of kOther: our route satisfies it.
  const std::vector<Received> out =
      Send({SeqnoRequest{d.prefix, std::nullopt, Seqno(10), 5, kOther}}, kProbe2, 2);
  const std::vector<Update> updates = UpdatesIn(out, kProbe2);
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(updates[0].seqno, Seqno(10));
  EXPECT_TRUE(TlvsIn<SeqnoRequest>(out).empty());
}

TEST_F(EngineProbeTest, SeqnoRequestIsForwardedOnceAndTheAnswerReturns) {
  BecomeNeighbour();
  BecomeNeighbour(kProbe2, 2);
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  const SeqnoRequest request{d.prefix, std::nullopt, Seqno(11), 5, kOther};
  std::vector<Received> out = Send({request}, kProbe2, 2);
  std::vector<SeqnoRequest> forwarded = TlvsIn<SeqnoRequest>(out);
  ASSERT_EQ(forwarded.size(), 1u);
  EXPECT_EQ(out[0].packet.destination, kProbe) << "unicast along the selected route";
  EXPECT_EQ(forwarded[0].hop_count, 4);
  EXPECT_TRUE(TlvsIn<SeqnoRequest>(Send({request}, kProbe2, 2)).empty()) << "duplicate";
  // The originator's new seqno arrives: the requester gets it.
  out = Send({RouteUpdate(d, 11, 100)});
  const std::vector<Update> to_requester = UpdatesIn(out, kProbe2);
  ASSERT_EQ(to_requester.size(), 1u);
  EXPECT_EQ(to_requester[0].seqno, Seqno(11));
}

TEST_F(EngineProbeTest, SeqnoRequestWithHopCountOneIsNotForwarded) {
  BecomeNeighbour();
  BecomeNeighbour(kProbe2, 2);
  const Destination d = Dest("fd00:7::/64");
  Send({RouteUpdate(d, 10, 100)});
  const std::vector<Received> out =
      Send({SeqnoRequest{d.prefix, std::nullopt, Seqno(11), 1, kOther}}, kProbe2, 2);
  EXPECT_TRUE(TlvsIn<SeqnoRequest>(out).empty());
}

TEST_F(EngineProbeTest, RemovedInterfaceFlushesItsRoutes) {
  BecomeNeighbour();
  Send({RouteUpdate(Dest("fd00:7::/64"), 10, 100)});
  ASSERT_EQ(engine_->Fib().size(), 1u);
  now_ = now_ + EngineParams{}.triggered_update_delay;
  engine_->Tick(now_);
  Take();
  const uint64_t version = engine_->fib_version();
  engine_->RemoveInterface(1, now_);
  EXPECT_TRUE(engine_->Fib().empty());
  EXPECT_NE(engine_->fib_version(), version);
  const std::vector<Update> retractions = UpdatesIn(Take(), std::nullopt, true);
  ASSERT_EQ(retractions.size(), 1u);
  EXPECT_TRUE(retractions[0].IsRetraction());
  EXPECT_TRUE(engine_->Neighbours(now_).empty());
  engine_->Receive(1, kProbe, PacketWriter(kProbe).Finish(), now_);
  EXPECT_EQ(engine_->stats().unknown_interface, 1u);
}

TEST_F(EngineProbeTest, FullUpdateOfManyRoutesIsPacked) {
  for (int i = 0; i < 1000; ++i) {
    const std::string p =
        "fd00:" + std::to_string(i / 100) + ":" + std::to_string(i % 100) + "::/64";
    engine_->AddPrefix(Dest(p.c_str()), now_);
  }
  Take();
  const std::vector<Received> out = Send({RouteRequest{}});
  size_t updates = 0;
  for (const Received& r : out) {
    EXPECT_LE(r.packet.payload.size(), kMaxPacketSize);
    updates += UpdatesIn({r}, kProbe).size();
  }
  EXPECT_EQ(updates, 1000u);
  EXPECT_LE(out.size(), 20u) << "many Updates per packet";
}

TEST_F(EngineProbeTest, MalformedPacketsAreCountedNeverFatal) {
  const std::vector<Bytes> bad = {
      {},
      {std::byte{42}},
      {std::byte{43}, std::byte{2}, std::byte{0}, std::byte{0}},
      {std::byte{42}, std::byte{3}, std::byte{0}, std::byte{0}},
      {std::byte{42}, std::byte{2}, std::byte{0}, std::byte{9}},
  };
  for (const Bytes& b : bad) engine_->Receive(1, kProbe, b, now_);
  EXPECT_EQ(engine_->stats().malformed_packets, bad.size());
  // A bad TLV is skipped, the rest of the packet is used.
  Bytes packet = PacketWriter(kProbe).Finish();
  const Bytes unknown = {std::byte{200}, std::byte{1}, std::byte{0}};
  packet.insert(packet.end(), unknown.begin(), unknown.end());
  packet[3] = std::byte{3};
  engine_->Receive(1, kProbe, packet, now_);
  EXPECT_EQ(engine_->stats().skipped_tlvs, 1u);
}

TEST_F(EngineProbeTest, RandomAndMutatedPacketsNeverCrash) {
  BecomeNeighbour();
  engine_->AddPrefix(Dest("fd00:1::/64"), now_);
  PacketWriter writer(kProbe);
  ASSERT_TRUE(writer.Append(Hello{0, Seqno(2), Centiseconds(400), 1u}));
  ASSERT_TRUE(writer.Append(Ihu{Metric(96), Centiseconds(400), kSelf, IhuTimestamp{1, 2}}));
  ASSERT_TRUE(writer.Append(RouteUpdate(Dest("10.0.0.0/8"), 1, 10)));
  ASSERT_TRUE(writer.Append(RouteUpdate(Dest("fd00:9::/64", "fd00::/48"), 1, 10)));
  ASSERT_TRUE(writer.Append(SeqnoRequest{*Prefix::Parse("fd00:1::/64"), {}, Seqno(1), 3, kOther}));
  ASSERT_TRUE(writer.Append(RouteRequest{}));
  const Bytes valid = writer.Finish();
  testing::FakeRandom random(99);
  for (int i = 0; i < 5000; ++i) {
    Bytes packet = valid;
    const int flips = 1 + static_cast<int>(random.Uniform(4));
    for (int f = 0; f < flips; ++f) {
      packet[random.Uniform(static_cast<uint32_t>(packet.size()))] =
          static_cast<std::byte>(random.Uniform(256));
    }
    if (i % 7 == 0) packet.resize(random.Uniform(static_cast<uint32_t>(packet.size())));
    engine_->Receive(1 + random.Uniform(2), kProbe, packet, now_);
    if (i % 100 == 0) {
      now_ = now_ + seconds(1);
      engine_->Tick(now_);
    }
    Take();
  }
  EXPECT_GT(engine_->stats().malformed_packets + engine_->stats().skipped_tlvs, 0u);
}

// RFC 8966 §3.3: an Ack Request gets a unicast Ack with the same opaque value.
TEST_F(EngineProbeTest, AnswersAckRequestsByUnicast) {
  Take();
  const std::vector<Received> out = Send({AckRequest{0xBEEF, Centiseconds(100)}});
  bool acked = false;
  for (const Received& r : out) {
    for (const Tlv& tlv : r.decoded.tlvs) {
      const auto* ack = std::get_if<Ack>(&tlv);
      if (ack == nullptr) continue;
      EXPECT_EQ(ack->opaque, 0xBEEF);
      EXPECT_EQ(r.packet.destination, kProbe);
      EXPECT_EQ(r.packet.interface_id, 1u);
      acked = true;
    }
  }
  EXPECT_TRUE(acked);
}

}  // namespace
}  // namespace plexus::babel
