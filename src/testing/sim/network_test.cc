#include "testing/sim/network.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/sim/churn.h"
#include "testing/sim/scripted_node.h"

namespace plexus::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});

babel::OutgoingPacket Packet(uint32_t interface_id, uint8_t tag,
                             std::optional<IpAddress> destination = std::nullopt) {
  return {interface_id, destination, Bytes{std::byte{tag}}};
}

struct Fixture {
  Fixture(Graph graph, NetworkParams params) : network(std::move(graph), params, factory.Make()) {
    network.Start();
    network.RunUntil(params.start);
  }
  ScriptedNode& Node(int n) { return factory.Latest(n); }
  void SendAt(int n, Timestamp at, babel::OutgoingPacket packet) {
    Node(n).SendAt(at, std::move(packet));
    network.Touch(n);
  }
  ScriptedFactory factory;
  Network network;
};

NetworkParams Params(uint64_t seed = 1) {
  NetworkParams p;
  p.seed = seed;
  p.start = kT0;
  return p;
}

TEST(NetworkTest, NodesGetInterfacesPerLinkAndAddresses) {
  Fixture f(LineGraph(3), Params());
  ASSERT_EQ(f.Node(1).interfaces.size(), 2u);
  EXPECT_EQ(f.Node(1).interfaces[0].first, 1u);
  EXPECT_EQ(f.Node(1).interfaces[1].first, 2u);
  EXPECT_EQ(f.Node(1).interfaces[0].second.ToString(), "fe80::2");
  EXPECT_EQ(f.Node(0).prefixes, std::vector<babel::Destination>{NodePrefix(0)});
  EXPECT_EQ(NodePrefix(258).prefix.ToString(), "fd00:0:0:102::/64");
  EXPECT_EQ(NodeIpv4Prefix(258).prefix.ToString(), "10.0.1.3/32");
  EXPECT_EQ(f.network.Neighbour(1, 2)->node, 2);
  EXPECT_EQ(f.network.InterfaceOn(1, 0), 1u);
  EXPECT_FALSE(f.network.Neighbour(1, 3));
  EXPECT_EQ(f.network.Owner(NodePrefix(2)), 2);
}

TEST(NetworkTest, PacketArrivesAfterTheLinkDelayAtTheOtherEnd) {
  NetworkParams params = Params();
  params.link.delay = milliseconds(25);
  Fixture f(LineGraph(3), params);
  f.SendAt(1, kT0 + seconds(1), Packet(2, 7));  // interface 2: towards node 2
  f.network.RunFor(seconds(2));
  ASSERT_EQ(f.Node(2).received.size(), 1u);
  EXPECT_TRUE(f.Node(0).received.empty());
  const ScriptedNode::Received& r = f.Node(2).received[0];
  EXPECT_EQ(r.at, kT0 + seconds(1) + milliseconds(25));
  EXPECT_EQ(r.interface_id, 1u);
  EXPECT_EQ(r.source, NodeLinkLocal(1));
  EXPECT_EQ(r.payload, Bytes{std::byte{7}});
  EXPECT_EQ(f.network.stats().packets_delivered, 1u);
}

TEST(NetworkTest, StartingNodeReachesRunningNeighboursAtOnce) {
  ScriptedFactory factory;
  factory.setup = [](int, ScriptedNode& n) { n.greet = true; };
  Network network(LineGraph(2), Params(), factory.Make());
  network.Start();
  network.RunFor(seconds(1));
  // Node 0 started first: its greeting found no one; node 1's reached node 0.
  EXPECT_TRUE(factory.Latest(1).received.empty());
  ASSERT_EQ(factory.Latest(0).received.size(), 1u);
  EXPECT_EQ(factory.Latest(0).received[0].at, kT0 + milliseconds(10));
}

TEST(NetworkTest, JitterStaysWithinBounds) {
  NetworkParams params = Params();
  params.link = {milliseconds(10), milliseconds(5), 0};
  Fixture f(LineGraph(2), params);
  for (int i = 0; i < 200; ++i) f.SendAt(0, kT0 + milliseconds(100 * i), Packet(1, 1));
  f.network.RunFor(seconds(30));
  ASSERT_EQ(f.Node(1).received.size(), 200u);
  bool varied = false;
  for (size_t i = 0; i < 200; ++i) {
    const Duration d = f.Node(1).received[i].at - (kT0 + milliseconds(100 * i));
    ASSERT_GE(d, milliseconds(10));
    ASSERT_LE(d, milliseconds(15));
    varied = varied || d != f.Node(1).received[0].at - kT0;
  }
  EXPECT_TRUE(varied);
}

TEST(NetworkTest, LossDropsTheConfiguredFraction) {
  NetworkParams params = Params();
  params.link.loss = 0.3;
  Fixture f(LineGraph(2), params);
  for (int i = 0; i < 5000; ++i) f.SendAt(0, kT0 + milliseconds(i), Packet(1, 1));
  f.network.RunFor(seconds(10));
  EXPECT_NEAR(f.Node(1).received.size() / 5000.0, 0.7, 0.03);
  EXPECT_EQ(f.network.stats().packets_lost + f.network.stats().packets_delivered, 5000u);
}

TEST(NetworkTest, UnicastReachesOnlyTheNeighboursAddress) {
  Fixture f(LineGraph(2), Params());
  f.SendAt(0, kT0 + seconds(1), Packet(1, 1, NodeLinkLocal(1)));
  f.SendAt(0, kT0 + seconds(1), Packet(1, 2, NodeLinkLocal(5)));
  f.SendAt(0, kT0 + seconds(1), Packet(9, 3));  // no such interface
  f.network.RunFor(seconds(2));
  ASSERT_EQ(f.Node(1).received.size(), 1u);
  EXPECT_EQ(f.Node(1).received[0].payload, Bytes{std::byte{1}});
  EXPECT_EQ(f.network.stats().packets_misrouted, 2u);
}

TEST(NetworkTest, SimultaneousPacketsKeepTheirOrder) {
  Fixture f(LineGraph(2), Params());
  for (uint8_t i = 0; i < 10; ++i) f.SendAt(0, kT0 + seconds(1), Packet(1, i));
  f.network.RunFor(seconds(2));
  ASSERT_EQ(f.Node(1).received.size(), 10u);
  for (uint8_t i = 0; i < 10; ++i) EXPECT_EQ(f.Node(1).received[i].payload[0], std::byte{i});
}

TEST(NetworkTest, FailedLinkDropsPacketsIncludingInFlight) {
  NetworkParams params = Params();
  params.link.delay = milliseconds(100);
  Fixture f(LineGraph(2), params);
  f.SendAt(0, kT0 + seconds(1), Packet(1, 1));
  f.network.Schedule(kT0 + seconds(1) + milliseconds(50), [&] { f.network.FailLink(0); });
  f.SendAt(0, kT0 + seconds(2), Packet(1, 2));
  f.network.Schedule(kT0 + seconds(3), [&] { f.network.RestoreLink(0); });
  f.SendAt(0, kT0 + seconds(4), Packet(1, 3));
  f.network.RunFor(seconds(5));
  ASSERT_EQ(f.Node(1).received.size(), 1u);
  EXPECT_EQ(f.Node(1).received[0].payload, Bytes{std::byte{3}});
  EXPECT_EQ(f.network.stats().packets_dropped, 2u);
  EXPECT_TRUE(f.Node(0).events.empty()) << "no detection configured";
}

TEST(NetworkTest, DetectionDeclaresBothEndsDownThenUp) {
  NetworkParams params = Params();
  params.detection_delay = seconds(2);
  Fixture f(LineGraph(2), params);
  f.network.Schedule(kT0 + seconds(10), [&] { f.network.FailLink(0); });
  f.network.Schedule(kT0 + seconds(20), [&] { f.network.RestoreLink(0); });
  // A failure shorter than the detection delay goes unnoticed.
  f.network.Schedule(kT0 + seconds(30), [&] { f.network.FailLink(0); });
  f.network.Schedule(kT0 + seconds(31), [&] { f.network.RestoreLink(0); });
  f.network.RunFor(seconds(40));
  // Absolute times: kT0 is 1 s.
  const std::vector<std::string> expected{"down 1 @13000000000", "up 1 @21000000000"};
  EXPECT_EQ(f.Node(0).events, expected);
  EXPECT_EQ(f.Node(1).events, expected);
}

TEST(NetworkTest, StoppedNodeIsSilentAndRestartsFresh) {
  NetworkParams params = Params();
  params.detection_delay = seconds(1);
  Fixture f(LineGraph(2), params);
  f.network.Schedule(kT0 + seconds(5), [&] { f.network.StopNode(1); });
  f.SendAt(0, kT0 + seconds(6), Packet(1, 1));
  f.network.Schedule(kT0 + seconds(8), [&] { f.network.StartNode(1); });
  f.SendAt(0, kT0 + seconds(9), Packet(1, 2));
  f.network.RunFor(seconds(10));
  ASSERT_EQ(f.factory.made[1].size(), 2u);
  EXPECT_EQ(f.Node(0).events, (std::vector<std::string>{"down 1 @7000000000", "up 1 @9000000000"}));
  ASSERT_EQ(f.Node(1).received.size(), 1u);
  EXPECT_EQ(f.Node(1).received[0].payload, Bytes{std::byte{2}});
  EXPECT_EQ(f.Node(1).interfaces.size(), 1u);
}

TEST(NetworkTest, DeadlinesDriveTicksAtExactTimes) {
  Fixture f(LineGraph(2), Params());
  f.SendAt(0, kT0 + milliseconds(1500), Packet(1, 1));
  f.SendAt(0, kT0 + milliseconds(700), Packet(1, 1));
  f.network.RunFor(seconds(2));
  EXPECT_EQ(f.Node(0).ticks,
            (std::vector<Timestamp>{kT0 + milliseconds(700), kT0 + milliseconds(1500)}));
  EXPECT_EQ(f.network.stats().stalled_ticks, 0u);
}

TEST(NetworkTest, StalledDeadlineIsCountedAndBackedOff) {
  Fixture f(LineGraph(2), Params());
  f.Node(0).StallAt(kT0 + seconds(1));
  f.network.Touch(0);
  f.network.RunFor(milliseconds(1010));
  EXPECT_EQ(f.network.stats().stalled_ticks, 11u);  // at 1 s, then every kStallBackoff
}

TEST(NetworkTest, FibChangesReachTheObserver) {
  struct Recorder : Observer {
    bool AfterEvent(const Network&, std::span<const FibChange> changes) override {
      for (const FibChange& c : changes) log.push_back(c);
      return true;
    }
    std::vector<FibChange> log;
  } recorder;
  Fixture f(LineGraph(2), Params());
  f.network.set_observer(&recorder);
  const babel::InstalledRoute route{NodePrefix(1), 1, NodeLinkLocal(1), babel::Metric(96), {}};
  f.Node(0).InstallAt(kT0 + seconds(1), {route});
  f.network.Touch(0);
  f.network.Schedule(kT0 + seconds(2), [&] { f.network.StopNode(0); });
  f.network.RunFor(seconds(3));
  ASSERT_EQ(recorder.log.size(), 2u);
  EXPECT_EQ(recorder.log[0].new_route, route);
  EXPECT_FALSE(recorder.log[0].old_route);
  EXPECT_EQ(recorder.log[1].old_route, route);
  EXPECT_FALSE(recorder.log[1].new_route);
  EXPECT_EQ(f.network.last_fib_change(), kT0 + seconds(2));
  EXPECT_TRUE(f.network.fib(0).empty());
}

// Runs a small network with jitter, loss and churn; returns its trace.
std::pair<uint64_t, std::vector<std::string>> RunScriptedChurn(uint64_t seed) {
  NetworkParams params = Params(seed);
  params.link = {milliseconds(10), milliseconds(10), 0.2};
  params.record_trace = true;
  params.start_spread = seconds(1);
  params.detection_delay = milliseconds(500);
  ScriptedFactory factory;
  factory.setup = [](int node, ScriptedNode& n) {
    for (int i = 0; i < 50; ++i) n.SendAt(kT0 + milliseconds(100 * i + node), Packet(1, i));
  };
  SimRandom topology_random(seed);
  Network network(RandomConnectedGraph(8, 3, topology_random), params, factory.Make());
  network.Start();
  ChurnParams churn;
  churn.mean_gap = milliseconds(300);
  churn.restart_weight = 1;
  ScheduleChurn(network, churn, kT0 + seconds(5));
  network.RunFor(seconds(8));
  return {network.trace_hash(), network.trace()};
}

TEST(NetworkTest, SameSeedGivesTheSameTrace) {
  const auto a = RunScriptedChurn(11);
  const auto b = RunScriptedChurn(11);
  const auto c = RunScriptedChurn(12);
  EXPECT_GT(a.second.size(), 100u);
  EXPECT_EQ(a.second, b.second);
  EXPECT_EQ(a.first, b.first);
  EXPECT_NE(a.first, c.first);
}

}  // namespace
}  // namespace plexus::sim
