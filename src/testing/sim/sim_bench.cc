// Simulator scale benchmark: random connected graphs of average degree 4, one
// babel::Engine per node, default Babel timers, 10 ms links with 2 ms jitter,
// failure detection 1 s. Prints, per size: virtual time to full convergence
// (every node routes to every prefix over existing links, polled each
// second), the wall and CPU time that took, and at steady state (a 64 s window, four
// update intervals, starting 30 s after convergence) Babel payload bytes and
// packets sent per node per second.
//
//   plexus_sim_bench [nodes...]    (default: 50 100 200 500 1000)
#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <vector>

#include "testing/sim/babel_node.h"
#include "testing/sim/invariants.h"
#include "testing/sim/network.h"

namespace plexus::sim {
namespace {

using std::chrono::seconds;

constexpr Duration kConvergeLimit = seconds(300);
constexpr Duration kSettle = seconds(30);
constexpr Duration kWindow = seconds(64);

struct Row {
  int nodes = 0;
  size_t links = 0;
  std::optional<Duration> converge;
  double converge_wall = 0;
  double converge_cpu = 0;
  double window_wall = 0;
  double bytes_per_node_s = 0;
  double packets_per_node_s = 0;
};

double WallSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// This process's CPU time: the machine may be shared, so wall time alone misleads.
double CpuSeconds() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

void MeasureWindow(Network& network, Row& row) {
  network.RunFor(kSettle);
  const TrafficStats before = network.stats();
  const auto start = std::chrono::steady_clock::now();
  network.RunFor(kWindow);
  row.window_wall = WallSince(start);
  const double scale =
      static_cast<double>(row.nodes) * std::chrono::duration<double>(kWindow).count();
  row.bytes_per_node_s =
      static_cast<double>(network.stats().bytes_sent - before.bytes_sent) / scale;
  row.packets_per_node_s =
      static_cast<double>(network.stats().packets_sent - before.packets_sent) / scale;
}

Row Measure(int nodes) {
  SimRandom random(static_cast<uint64_t>(nodes));
  NetworkParams params;
  params.seed = static_cast<uint64_t>(nodes);
  params.start_spread = seconds(2);
  params.link = {std::chrono::milliseconds(10), std::chrono::milliseconds(2), 0};
  params.detection_delay = seconds(1);
  Network network(RandomConnectedGraph(nodes, 4, random), params, BabelFactory({}));
  Row row{nodes, network.link_count()};
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = CpuSeconds();
  network.Start();
  network.RunUntil(params.start + params.start_spread);
  row.converge = RunUntilConverged(network, kConvergeLimit, seconds(1));
  if (row.converge) *row.converge += params.start_spread;
  row.converge_wall = WallSince(start);
  row.converge_cpu = CpuSeconds() - cpu_start;
  if (row.converge) MeasureWindow(network, row);
  return row;
}

void Print(const Row& r) {
  const std::string converge =
      r.converge ? fmt::format("{:.0f} s", std::chrono::duration<double>(*r.converge).count())
                 : std::string("> 300 s");
  std::printf("%s\n",
              fmt::format("{:>6} {:>6} {:>10} {:>10.1f} {:>10.1f} {:>10.1f} {:>14.0f} {:>12.2f}",
                          r.nodes, r.links, converge, r.converge_wall, r.converge_cpu,
                          r.window_wall, r.bytes_per_node_s, r.packets_per_node_s)
                  .c_str());
  std::fflush(stdout);
}

}  // namespace
}  // namespace plexus::sim

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {50, 100, 200, 500, 1000};
  std::printf("%6s %6s %10s %10s %10s %10s %14s %12s\n", "nodes", "links", "converge", "wall s",
              "cpu s", "window s", "bytes/node/s", "pkts/node/s");
  std::printf("%6s %6s %10s %10s %10s %10s %14s %12s\n", "", "", "(virtual)", "(to conv.)",
              "(to conv.)", "(64 s wall)", "(steady)", "(steady)");
  for (int n : sizes) plexus::sim::Print(plexus::sim::Measure(n));
  return 0;
}
