#include "testing/sim/topology.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace plexus::sim {
namespace {

bool Connected(const Graph& g) {
  const std::vector<int> c = Components(
      g, [](size_t) { return true; }, [](int) { return true; });
  for (int label : c) {
    if (label != 0) return false;
  }
  return true;
}

TEST(TopologyTest, LineRingGrid) {
  EXPECT_EQ(LineGraph(5).edges.size(), 4u);
  EXPECT_EQ(RingGraph(5).edges.size(), 5u);
  EXPECT_EQ(RingGraph(5).edges.back(), (Edge{4, 0}));
  const Graph grid = GridGraph(4, 3);
  EXPECT_EQ(grid.nodes, 12);
  EXPECT_EQ(grid.edges.size(), 3u * 3 + 4u * 2);  // rows: 3 edges x 3, columns: 4 x 2
  EXPECT_TRUE(Connected(LineGraph(5)));
  EXPECT_TRUE(Connected(grid));
  EXPECT_EQ(Describe(LineGraph(3)), "3 nodes: 0-1 1-2");
}

TEST(TopologyTest, RandomGraphsAreConnectedSimpleAndSeeded) {
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SimRandom r(seed);
    const Graph g = RandomConnectedGraph(60, 4.0, r);
    ASSERT_TRUE(Connected(g)) << "seed " << seed;
    EXPECT_EQ(g.edges.size(), 120u);
    std::set<std::pair<int, int>> seen;
    for (const Edge& e : g.edges) {
      ASSERT_NE(e.a, e.b);
      ASSERT_TRUE(seen.insert({std::min(e.a, e.b), std::max(e.a, e.b)}).second);
    }
    SimRandom again(seed);
    EXPECT_EQ(RandomConnectedGraph(60, 4.0, again).edges, g.edges);
  }
}

TEST(TopologyTest, RandomGraphCapsEdgesAtComplete) {
  SimRandom r(9);
  EXPECT_EQ(RandomConnectedGraph(4, 10.0, r).edges.size(), 6u);
  EXPECT_EQ(RandomConnectedGraph(1, 4.0, r).edges.size(), 0u);
}

TEST(TopologyTest, ComponentsHonourUsableLinksAndAbsentNodes) {
  const Graph line = LineGraph(5);  // edges 0-1 1-2 2-3 3-4
  const std::vector<int> cut = Components(
      line, [](size_t e) { return e != 1; }, [](int) { return true; });
  EXPECT_EQ(cut, (std::vector<int>{0, 0, 2, 2, 2}));
  const std::vector<int> absent = Components(
      line, [](size_t) { return true; }, [](int n) { return n != 3; });
  EXPECT_EQ(absent, (std::vector<int>{0, 0, 0, 3, 4}));
}

}  // namespace
}  // namespace plexus::sim
