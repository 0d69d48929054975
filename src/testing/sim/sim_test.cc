// babel::Engine in the simulator: convergence, loop-freedom after every event
// (InvariantChecker), rerouting and retraction, over many seeds of line,
// ring, grid and random topologies. A failure message starts with the seed.
#include <gtest/gtest.h>

#include <string>
#include <tuple>
#include <vector>

#include "testing/sim/babel_node.h"
#include "testing/sim/churn.h"
#include "testing/sim/invariants.h"
#include "testing/sim/network.h"

namespace plexus::sim {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// 2-out-of-3 nominal rxcost 96 plus the largest RTT penalty, 96.
constexpr uint16_t kMaxLinkCost = 192;
constexpr Duration kPoll = milliseconds(250);

NetworkParams Params(uint64_t seed, bool detection = true) {
  NetworkParams p;
  p.seed = seed;
  p.start_spread = seconds(2);
  p.link = {milliseconds(10), milliseconds(4), 0};
  if (detection) p.detection_delay = seconds(1);
  return p;
}

// A network of Babel engines under an InvariantChecker.
class BabelSim {
 public:
  // Starts every node (within the start spread).
  BabelSim(Graph graph, NetworkParams params)
      : network_(std::move(graph), params, BabelFactory({})), checker_(Checker(network_)) {
    network_.set_observer(&checker_);
    network_.Start();
    network_.RunUntil(params.start + params.start_spread);
  }

  Network& network() { return network_; }

  // Runs until converged (at most `limit`); the result says why not.
  ::testing::AssertionResult Converge(Duration limit) {
    const Timestamp begin = network_.now();
    converge_time_ = RunUntilConverged(network_, limit, kPoll);
    if (!checker_.ok()) return ::testing::AssertionFailure() << checker_.violation();
    if (network_.stats().stalled_ticks != 0) {
      return ::testing::AssertionFailure()
             << Context() << ": " << network_.stats().stalled_ticks << " stalled ticks";
    }
    if (converge_time_) return ::testing::AssertionSuccess();
    auto failure = ::testing::AssertionFailure()
                   << Context() << ": not converged " << FormatTime(network_.now(), begin)
                   << " after t=" << FormatTime(begin, network_.params().start) << ":";
    for (const std::string& p : ConvergenceProblems(network_, 5)) failure << "\n  " << p;
    return failure;
  }

  // Runs for `d`, checking invariants only.
  ::testing::AssertionResult Run(Duration d) {
    network_.RunFor(d);
    if (checker_.ok()) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << checker_.violation();
  }

  Duration converge_time() const { return converge_time_.value_or(Duration(-1)); }

  std::string Context() const {
    const Graph& g = network_.graph();
    return "seed " + std::to_string(network_.seed()) +
           (g.nodes <= 40 ? ", graph " + Describe(g) : ", " + std::to_string(g.nodes) + " nodes");
  }

 private:
  static InvariantChecker Checker(const Network& network) {
    CheckerParams params;
    params.metric_bound = MetricBound(network.node_count(), kMaxLinkCost);
    return InvariantChecker(params);
  }

  Network network_;
  InvariantChecker checker_;
  std::optional<Duration> converge_time_;
};

// ---------------------------------------------------------------- topologies x seeds

enum class Shape { kLine, kRing, kGrid, kRandom };

std::string ShapeName(Shape s) {
  switch (s) {
    case Shape::kLine:
      return "Line";
    case Shape::kRing:
      return "Ring";
    case Shape::kGrid:
      return "Grid";
    case Shape::kRandom:
      return "Random";
  }
  return "?";
}

Graph MakeGraph(Shape shape, uint64_t seed) {
  SimRandom random(seed * 7919);
  switch (shape) {
    case Shape::kLine:
      return LineGraph(8 + static_cast<int>(random.Below(8)));
    case Shape::kRing:
      return RingGraph(8 + static_cast<int>(random.Below(12)));
    case Shape::kGrid:
      return GridGraph(3 + static_cast<int>(random.Below(3)), 4);
    case Shape::kRandom:
      return RandomConnectedGraph(15 + static_cast<int>(random.Below(16)), 3.5, random);
  }
  return {};
}

using ShapeSeed = std::tuple<Shape, uint64_t>;

std::string ParamName(const ::testing::TestParamInfo<ShapeSeed>& info) {
  return ShapeName(std::get<0>(info.param)) + "_seed" + std::to_string(std::get<1>(info.param));
}

class ShapeSeedTest : public ::testing::TestWithParam<ShapeSeed> {
 protected:
  Shape shape() const { return std::get<0>(GetParam()); }
  uint64_t seed() const { return std::get<1>(GetParam()); }
  Graph graph() const { return MakeGraph(shape(), seed()); }
};

// ---------------------------------------------------------------- convergence

class ConvergenceTest : public ShapeSeedTest {};

TEST_P(ConvergenceTest, ConvergesLoopFreeAndStaysConverged) {
  BabelSim sim(graph(), Params(seed()));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  ASSERT_TRUE(sim.Run(seconds(20)));
  EXPECT_TRUE(ConvergenceProblems(sim.network()).empty()) << sim.Context();
}

INSTANTIATE_TEST_SUITE_P(Seeds, ConvergenceTest,
                         ::testing::Combine(::testing::Values(Shape::kLine, Shape::kRing,
                                                              Shape::kGrid, Shape::kRandom),
                                            ::testing::Range<uint64_t>(1, 26)),
                         ParamName);

// ---------------------------------------------------------------- churn

class ChurnTest : public ShapeSeedTest {};

// Links fail and come back, delays (RTT costs) change and, with failure
// detection, nodes restart, for 60 s; loop-freedom and the metric bound hold
// after every event; then the network converges on what is left (partitions
// retracted), and again once everything is restored. Odd seeds detect
// failures (InterfaceDown), even seeds rely on Hellos alone.
//
// A restarted node keeps its router-id but draws a new seqno; when that is
// older than the one its neighbours remember, its prefix stays unfeasible
// until their source entries are collected (kSourceGcTime, 3 min), hence the
// long settling limit.
TEST_P(ChurnTest, LoopFreeDuringChurnAndReconverges) {
  const bool detection = seed() % 2 == 1;
  BabelSim sim(graph(), Params(seed(), detection));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  ChurnParams churn;
  churn.mean_gap = milliseconds(1500);
  churn.restart_weight = detection ? 1 : 0;
  churn.max_failed_links = 4;
  ScheduleChurn(sim.network(), churn, sim.network().now() + seconds(60));
  ASSERT_TRUE(sim.Run(seconds(60)));
  ASSERT_TRUE(sim.Converge(seconds(240))) << "after churn";
  sim.network().Schedule(sim.network().now(), [&] { RestoreAll(sim.network()); });
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  ASSERT_TRUE(sim.Converge(seconds(240))) << "after restoring everything";
}

INSTANTIATE_TEST_SUITE_P(Seeds, ChurnTest,
                         ::testing::Combine(::testing::Values(Shape::kLine, Shape::kRing,
                                                              Shape::kGrid, Shape::kRandom),
                                            ::testing::Range<uint64_t>(1, 21)),
                         ParamName);

// ---------------------------------------------------------------- rerouting

// The link of the path from `from` to `owner` whose failure leaves them
// connected, the first such; nullopt if none.
std::optional<size_t> RedundantLinkOnPath(Network& network, int from, int owner) {
  const Path path = FollowPath(network, from, NodePrefix(owner));
  for (size_t link : path.links) {
    const std::vector<int> c = Components(
        network.graph(), [&](size_t l) { return l != link; }, [](int) { return true; });
    if (c[from] == c[owner]) return link;
  }
  return std::nullopt;
}

class RerouteTest : public ShapeSeedTest {};

TEST_P(RerouteTest, TrafficLeavesAFailedLinkWhenAnotherPathExists) {
  const bool detection = seed() % 2 == 1;
  BabelSim sim(graph(), Params(seed(), detection));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  Network& net = sim.network();
  const int from = 0, owner = net.node_count() / 2 + 1;
  const std::optional<size_t> link = RedundantLinkOnPath(net, from, owner);
  ASSERT_TRUE(link) << sim.Context();
  net.Schedule(net.now(), [&] { net.FailLink(*link); });
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  // Detection: 1 s, then a triggered update per hop. Hellos alone: two missed
  // Hellos (8-12 s) make the link's cost infinite first.
  ASSERT_TRUE(sim.Converge(detection ? seconds(10) : seconds(30)));
  const Path path = FollowPath(net, from, NodePrefix(owner));
  for (size_t l : path.links) EXPECT_NE(l, *link) << sim.Context() << ": " << path.ToString();
}

INSTANTIATE_TEST_SUITE_P(Seeds, RerouteTest,
                         ::testing::Combine(::testing::Values(Shape::kRing, Shape::kGrid,
                                                              Shape::kRandom),
                                            ::testing::Range<uint64_t>(1, 21)),
                         ParamName);

// ---------------------------------------------------------------- partition

class PartitionTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(PartitionTest, UnreachablePrefixesAreRetracted) {
  const bool detection = GetParam() % 2 == 1;
  BabelSim sim(LineGraph(10), Params(GetParam(), detection));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  Network& net = sim.network();
  net.Schedule(net.now(), [&] { net.FailLink(4); });  // 4-5: {0..4} | {5..9}
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  ASSERT_TRUE(sim.Converge(detection ? seconds(10) : seconds(60)));
  for (int n = 0; n < 5; ++n) EXPECT_EQ(net.fib(n).size(), 4u) << "node " << n;
  net.Schedule(net.now(), [&] { net.StopNode(2); });
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  ASSERT_TRUE(sim.Converge(detection ? seconds(10) : seconds(60))) << "after stopping node 2";
  EXPECT_TRUE(net.fib(1).size() == 1u && net.fib(3).size() == 1u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, PartitionTest, ::testing::Range<uint64_t>(1, 11));

// ---------------------------------------------------------------- known engine limits

// A restarted node keeps its router-id. Starting from a random seqno it would,
// for some seeds, announce routes older than its neighbours' feasibility
// distances, unfeasible everywhere until their source entries are collected
// (kSourceGcTime, 3 min): Seqno Requests make it bump its seqno by one only
// (RFC 8966 §3.8.1.2). The node keeps its seqno across restarts
// (node/seqno_store.h), and so do the simulator's nodes (BabelFactory).
class RestartTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(RestartTest, RestartedNodeIsReachableWithin30Seconds) {
  BabelSim sim(LineGraph(3), Params(GetParam()));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  Network& net = sim.network();
  net.Schedule(net.now(), [&] { net.StopNode(2); });
  net.Schedule(net.now() + seconds(5), [&] { net.StartNode(2); });
  ASSERT_TRUE(sim.Run(seconds(5)));
  EXPECT_TRUE(sim.Converge(seconds(30)));
}

INSTANTIATE_TEST_SUITE_P(Seeds, RestartTest, ::testing::Range<uint64_t>(1, 11));

// DISABLED: fails (engine limitation, reported). Starvation (RFC 8966
// §3.8.2.1): a node whose selected route was lost sends Seqno Requests, which
// give up after their resends while the network is partitioned; afterwards
// the unfeasible Updates it keeps receiving for the starved destination
// trigger no new request (RouteTable::OnUpdate asks only when the selected
// route's update is unfeasible), so the destination stays unreachable until
// the source entry is collected (3 min). Hellos only, 90 s of link churn,
// everything restored, 60 s to converge: failed at engine 483ea2b for Line
// seeds 4 8 9 10 12 13 20, Ring seeds 1 7; RouteTable::OnUpdate now also
// asks when the destination has no selected route (§3.8.2.1).
class StarvationTest : public ShapeSeedTest {};

TEST_P(StarvationTest, StarvedDestinationRecoversAfterRestoreWithin60Seconds) {
  BabelSim sim(graph(), Params(seed(), false));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  ChurnParams churn;
  churn.mean_gap = milliseconds(1500);
  churn.restart_weight = 0;
  churn.max_failed_links = 4;
  ScheduleChurn(sim.network(), churn, sim.network().now() + seconds(90));
  ASSERT_TRUE(sim.Run(seconds(90)));
  ASSERT_TRUE(sim.Converge(seconds(240)));
  sim.network().Schedule(sim.network().now(), [&] { RestoreAll(sim.network()); });
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  EXPECT_TRUE(sim.Converge(seconds(60)));
}

INSTANTIATE_TEST_SUITE_P(Seeds, StarvationTest,
                         ::testing::Combine(::testing::Values(Shape::kLine, Shape::kRing,
                                                              Shape::kGrid, Shape::kRandom),
                                            ::testing::Range<uint64_t>(1, 21)),
                         ParamName);

// ---------------------------------------------------------------- lossy links, IPv4

class LossyTest : public ::testing::TestWithParam<uint64_t> {};

TEST_P(LossyTest, LossAndJitterKeepRoutesLoopFree) {
  SimRandom random(GetParam());
  NetworkParams params = Params(GetParam());
  params.link = {milliseconds(20), milliseconds(30), 0.1};
  params.announce_ipv4 = true;
  BabelSim sim(RandomConnectedGraph(12, 3, random), params);
  ASSERT_TRUE(sim.Converge(seconds(90)));
  ASSERT_TRUE(sim.Run(seconds(60)));
}

INSTANTIATE_TEST_SUITE_P(Seeds, LossyTest, ::testing::Range<uint64_t>(1, 9));

// ---------------------------------------------------------------- determinism, scale

uint64_t ChurnTraceHash(uint64_t seed) {
  SimRandom random(seed);
  BabelSim sim(RandomConnectedGraph(15, 3, random), Params(seed));
  ChurnParams churn;
  churn.restart_weight = 1;
  ScheduleChurn(sim.network(), churn, sim.network().now() + seconds(60));
  EXPECT_TRUE(sim.Run(seconds(80)));
  return sim.network().trace_hash();
}

TEST(BabelSimTest, SameSeedSameRun) {
  EXPECT_EQ(ChurnTraceHash(3), ChurnTraceHash(3));
  EXPECT_NE(ChurnTraceHash(3), ChurnTraceHash(4));
}

// The engine is ~10x slower unoptimised: a debug build simulates 100 nodes,
// a release build 200, within the test time budget.
#ifdef NDEBUG
constexpr int kLargeNodes = 200;
#else
constexpr int kLargeNodes = 100;
#endif

TEST(BabelSimTest, LargeRandomGraphConvergesAndReroutes) {
  SimRandom random(2024);
  BabelSim sim(RandomConnectedGraph(kLargeNodes, 4, random), Params(2024));
  ASSERT_TRUE(sim.Converge(seconds(60)));
  Network& net = sim.network();
  for (int i = 0; i < 3; ++i) {
    const std::optional<size_t> link = RedundantLinkOnPath(net, i, net.node_count() - 1 - i);
    ASSERT_TRUE(link);
    net.Schedule(net.now(), [&net, l = *link] { net.FailLink(l); });
  }
  ASSERT_TRUE(sim.Run(milliseconds(1)));
  ASSERT_TRUE(sim.Converge(seconds(30)));
}

TEST(BabelSimTest, LongLineConverges) {
  BabelSim sim(LineGraph(kLargeNodes / 4), Params(7));
  ASSERT_TRUE(sim.Converge(seconds(120)));
}

}  // namespace
}  // namespace plexus::sim
