#include "testing/sim/invariants.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/sim/scripted_node.h"

namespace plexus::sim {
namespace {

using std::chrono::seconds;
using ::testing::HasSubstr;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});

struct Fixture {
  explicit Fixture(Graph graph, CheckerParams checker_params = {})
      : network(std::move(graph), Params(), factory.Make()), checker(checker_params) {
    network.set_observer(&checker);
    network.Start();
    network.RunUntil(kT0);
  }
  static NetworkParams Params() {
    NetworkParams p;
    p.seed = 5;
    p.start = kT0;
    return p;
  }
  // `from` routes `owner`'s prefix through its neighbour `via`.
  babel::InstalledRoute Route(int from, int via, int owner, uint16_t metric = 96) {
    for (size_t l = 0; l < network.link_count(); ++l) {
      const Edge& e = network.graph().edges[l];
      if ((e.a == from && e.b == via) || (e.b == from && e.a == via)) {
        return {NodePrefix(owner), network.InterfaceOn(from, l), NodeLinkLocal(via),
                babel::Metric(metric), babel::RouterId::FromUint64(owner + 1)};
      }
    }
    ADD_FAILURE() << "no link " << from << "-" << via;
    return {};
  }
  void Install(int node, Timestamp at, std::vector<babel::InstalledRoute> fib) {
    factory.Latest(node).InstallAt(at, std::move(fib));
    network.Touch(node);
  }
  // Every node routes to every other along the line 0-1-...-(n-1).
  void InstallLineRoutes(int n, Timestamp at) {
    for (int node = 0; node < n; ++node) {
      std::vector<babel::InstalledRoute> fib;
      for (int owner = 0; owner < n; ++owner) {
        if (owner != node) fib.push_back(Route(node, owner > node ? node + 1 : node - 1, owner));
      }
      Install(node, at, fib);
    }
  }
  ScriptedFactory factory;
  Network network;
  InvariantChecker checker;
};

TEST(InvariantsTest, DetectsALoopWhenItForms) {
  Fixture f(RingGraph(3));
  f.Install(0, kT0 + seconds(1), {f.Route(0, 1, 2)});
  f.Install(1, kT0 + seconds(2), {f.Route(1, 0, 2)});
  f.network.RunFor(seconds(5));
  ASSERT_FALSE(f.checker.ok());
  EXPECT_THAT(f.checker.violation(),
              HasSubstr("seed 5, t=2.000000s: loop towards fd00:0:0:2::/64"));
  EXPECT_THAT(f.checker.violation(), HasSubstr("1 [link 0] -> 0 [link 0] -> 1"));
  EXPECT_TRUE(f.network.halted());
  EXPECT_EQ(f.network.now(), kT0 + seconds(2)) << "halted at the violation";
}

TEST(InvariantsTest, ConsistentRoutesPassAndConverge) {
  Fixture f(LineGraph(4));
  EXPECT_EQ(ConvergenceProblems(f.network).size(), 10u) << "no routes at all";
  f.InstallLineRoutes(4, kT0 + seconds(1));
  f.network.RunFor(seconds(3));
  EXPECT_TRUE(f.checker.ok()) << f.checker.violation();
  EXPECT_GT(f.checker.paths_checked(), 0u);
  EXPECT_TRUE(ConvergenceProblems(f.network).empty());
  const Path path = FollowPath(f.network, 0, NodePrefix(3));
  EXPECT_EQ(path.nodes, (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(path.end, Path::End::kDelivered);
}

TEST(InvariantsTest, MetricAboveTheBoundFails) {
  CheckerParams params;
  params.metric_bound = MetricBound(3, 192);
  EXPECT_EQ(params.metric_bound, babel::Metric(384));
  Fixture f(LineGraph(3), params);
  f.Install(0, kT0 + seconds(1), {f.Route(0, 1, 2, 385)});
  f.network.RunFor(seconds(2));
  EXPECT_THAT(f.checker.violation(), HasSubstr("metric 385 (bound 384)"));
  EXPECT_EQ(MetricBound(1000, 192), babel::Metric::Infinity());
}

TEST(InvariantsTest, NextHopMustBeTheNeighboursAddress) {
  Fixture f(LineGraph(3));
  babel::InstalledRoute r = f.Route(0, 1, 2);
  r.next_hop = NodeLinkLocal(2);
  f.Install(0, kT0 + seconds(1), {r});
  f.network.RunFor(seconds(2));
  EXPECT_THAT(f.checker.violation(), HasSubstr("next hop is not the neighbour's address"));
}

TEST(InvariantsTest, ConvergenceRejectsFailedLinksAndUnreachablePrefixes) {
  Fixture f(LineGraph(3));
  f.InstallLineRoutes(3, kT0 + seconds(1));
  f.network.Schedule(kT0 + seconds(2), [&] { f.network.FailLink(1); });  // 1-2
  f.network.RunFor(seconds(3));
  const std::vector<std::string> problems = ConvergenceProblems(f.network);
  ASSERT_EQ(problems.size(), 4u);  // 0 and 1 to 2, 2 to 0 and 1
  EXPECT_THAT(problems[0], HasSubstr("node 2 keeps a route to unreachable fd00::/64 (node 0)"));
  EXPECT_THAT(problems[2], HasSubstr("node 0 keeps a route to unreachable fd00:0:0:2::/64"));
}

TEST(InvariantsTest, RoutesToUnreachablePrefixesMustGoWithinTheBound) {
  CheckerParams params;
  params.retraction_bound = seconds(10);
  Fixture f(LineGraph(3), params);
  f.InstallLineRoutes(3, kT0 + seconds(1));
  f.network.Schedule(kT0 + seconds(2), [&] { f.network.FailLink(1); });
  for (int i = 3; i < 20; ++i) f.network.Schedule(kT0 + seconds(i), [] {});  // audits run on events
  f.network.RunFor(seconds(11));
  EXPECT_TRUE(f.checker.ok()) << f.checker.violation();
  f.network.RunFor(seconds(2));
  EXPECT_THAT(f.checker.violation(),
              HasSubstr("t=12.000000s: node 0 still routes to unreachable fd00:0:0:2::/64"));
}

TEST(InvariantsTest, StoppedOwnersPrefixIsUnreachable) {
  Fixture f(LineGraph(3));
  f.InstallLineRoutes(3, kT0 + seconds(1));
  f.network.Schedule(kT0 + seconds(2), [&] { f.network.StopNode(2); });
  f.network.RunFor(seconds(3));
  const std::vector<std::string> problems = ConvergenceProblems(f.network);
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_THAT(problems[1], HasSubstr("node 1 keeps a route to unreachable fd00:0:0:2::/64"));
}

}  // namespace
}  // namespace plexus::sim
