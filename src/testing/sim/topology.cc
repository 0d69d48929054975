#include "testing/sim/topology.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <set>
#include <utility>

namespace plexus::sim {
namespace {

// Union-find with path halving; the root of each set is its smallest node.
int Find(std::vector<int>& parent, int x) {
  while (parent[x] != x) x = parent[x] = parent[parent[x]];
  return x;
}

void Unite(std::vector<int>& parent, int a, int b) {
  a = Find(parent, a);
  b = Find(parent, b);
  if (a != b) parent[std::max(a, b)] = std::min(a, b);
}

std::vector<int> Shuffled(int n, SimRandom& random) {
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  for (int i = n - 1; i > 0; --i) std::swap(order[i], order[random.Below(i + 1)]);
  return order;
}

std::pair<int, int> Ordered(int a, int b) {
  return {std::min(a, b), std::max(a, b)};
}

}  // namespace

Graph LineGraph(int n) {
  Graph g{n, {}};
  for (int i = 0; i + 1 < n; ++i) g.edges.push_back({i, i + 1});
  return g;
}

Graph RingGraph(int n) {
  Graph g = LineGraph(n);
  if (n >= 3) g.edges.push_back({n - 1, 0});
  return g;
}

Graph GridGraph(int width, int height) {
  Graph g{width * height, {}};
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      const int node = y * width + x;
      if (x + 1 < width) g.edges.push_back({node, node + 1});
      if (y + 1 < height) g.edges.push_back({node, node + width});
    }
  }
  return g;
}

Graph RandomConnectedGraph(int n, double average_degree, SimRandom& random) {
  Graph g{n, {}};
  std::set<std::pair<int, int>> present;
  const std::vector<int> order = Shuffled(n, random);
  for (int i = 1; i < n; ++i) {
    const int parent = order[random.Below(i)];
    g.edges.push_back({parent, order[i]});
    present.insert(Ordered(parent, order[i]));
  }
  const auto max_edges = static_cast<size_t>(n) * (n - 1) / 2;
  const size_t target = std::min(max_edges, static_cast<size_t>(n * average_degree / 2));
  while (g.edges.size() < target) {
    const int a = static_cast<int>(random.Below(n));
    const int b = static_cast<int>(random.Below(n));
    if (a == b || !present.insert(Ordered(a, b)).second) continue;
    g.edges.push_back({a, b});
  }
  return g;
}

std::vector<int> Components(const Graph& graph, const std::function<bool(size_t)>& usable,
                            const std::function<bool(int)>& present) {
  std::vector<int> parent(graph.nodes);
  std::iota(parent.begin(), parent.end(), 0);
  for (size_t i = 0; i < graph.edges.size(); ++i) {
    const Edge& e = graph.edges[i];
    if (usable(i) && present(e.a) && present(e.b)) Unite(parent, e.a, e.b);
  }
  for (int v = 0; v < graph.nodes; ++v) parent[v] = Find(parent, v);
  return parent;
}

std::string Describe(const Graph& graph) {
  std::string out = fmt::format("{} nodes:", graph.nodes);
  for (const Edge& e : graph.edges) out += fmt::format(" {}-{}", e.a, e.b);
  return out;
}

}  // namespace plexus::sim
