// Topologies for the simulator: undirected graphs of nodes 0..n-1 with
// point-to-point edges (each edge becomes one link, i.e. one Babel interface
// on each end), and connected components over the edges that are up.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "testing/sim/sim_random.h"

namespace plexus::sim {

struct Edge {
  int a = 0;
  int b = 0;
  bool operator==(const Edge&) const = default;
};

struct Graph {
  int nodes = 0;
  std::vector<Edge> edges;
};

// 0 - 1 - ... - (n-1).
Graph LineGraph(int n);
// A line closed by (n-1) - 0; n >= 3.
Graph RingGraph(int n);
// width x height, node (x, y) = y * width + x, edges to the right and below.
Graph GridGraph(int width, int height);
// A connected graph with about n * average_degree / 2 edges: a random
// spanning tree over shuffled labels, then distinct random extra edges. No
// self-loops, no parallel edges.
Graph RandomConnectedGraph(int n, double average_degree, SimRandom& random);

// Component label of each node (the smallest node of its component) over the
// edges for which `usable(edge index)` is true, and nodes for which
// `present(node)` is true (absent nodes are alone in their component).
std::vector<int> Components(const Graph& graph, const std::function<bool(size_t)>& usable,
                            const std::function<bool(int)>& present);

std::string Describe(const Graph& graph);

}  // namespace plexus::sim
