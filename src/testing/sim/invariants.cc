#include "testing/sim/invariants.h"

#include <fmt/format.h>

namespace plexus::sim {
namespace {

const char* EndName(Path::End end) {
  switch (end) {
    case Path::End::kDelivered:
      return "delivered";
    case Path::End::kNoRoute:
      return "no route";
    case Path::End::kLoop:
      return "loop";
    case Path::End::kBadInterface:
      return "unknown interface";
    case Path::End::kBadNextHop:
      return "next hop is not the neighbour's address";
  }
  return "?";
}

// One step of FollowPath: the next node from `node`, or how the walk ends.
std::optional<Path::End> Advance(const Network& network, const babel::Destination& destination,
                                 Path& path) {
  const int node = path.nodes.back();
  const babel::InstalledRoute* route = network.FibEntry(node, destination);
  if (route == nullptr) return Path::End::kNoRoute;
  const std::optional<Hop> hop = network.Neighbour(node, route->interface_id);
  if (!hop) return Path::End::kBadInterface;
  if (route->next_hop != network.link_local(hop->node)) return Path::End::kBadNextHop;
  path.links.push_back(hop->link);
  path.nodes.push_back(hop->node);
  return std::nullopt;
}

std::string Describe(const Network& network, const babel::Destination& d) {
  const std::optional<int> owner = network.Owner(d);
  return fmt::format("{} (node {})", d.prefix.ToString(), owner ? *owner : -1);
}

std::vector<int> UsableComponents(const Network& network) {
  return Components(
      network.graph(), [&](size_t link) { return network.LinkUsable(link); },
      [&](int node) { return network.node_running(node); });
}

void Report(std::vector<std::string>& problems, size_t max, std::string text) {
  if (problems.size() < max) problems.push_back(std::move(text));
}

bool Full(const std::vector<std::string>& problems, size_t max) {
  return problems.size() >= max;
}

// (3) for one (node, destination) pair.
void CheckPair(const Network& network, const std::vector<int>& component, int node,
               const babel::Destination& d, int owner, std::vector<std::string>& problems,
               size_t max) {
  if (component[node] != component[owner]) {
    if (network.FibEntry(node, d) != nullptr) {
      Report(problems, max,
             fmt::format("node {} keeps a route to unreachable {}", node, Describe(network, d)));
    }
    return;
  }
  const Path path = FollowPath(network, node, d);
  bool usable = path.end == Path::End::kDelivered;
  for (size_t link : path.links) usable = usable && network.LinkUsable(link);
  if (!usable) {
    Report(problems, max,
           fmt::format("node {} to {}: {}", node, Describe(network, d), path.ToString()));
  }
}

}  // namespace

std::string Path::ToString() const {
  std::string out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    out += fmt::format("{}{}", i == 0 ? "" : " -> ", nodes[i]);
    if (i < links.size()) out += fmt::format(" [link {}]", links[i]);
  }
  return out + fmt::format(" ({})", EndName(end));
}

Path FollowPath(const Network& network, int from, const babel::Destination& destination) {
  const int owner = *network.Owner(destination);
  std::vector<char> visited(network.node_count(), 0);
  Path path;
  path.nodes.push_back(from);
  visited[from] = 1;
  while (path.nodes.back() != owner) {
    if (std::optional<Path::End> end = Advance(network, destination, path)) {
      path.end = *end;
      return path;
    }
    if (visited[path.nodes.back()]++ != 0) {
      path.end = Path::End::kLoop;
      return path;
    }
  }
  path.end = Path::End::kDelivered;
  return path;
}

babel::Metric MetricBound(int nodes, uint16_t max_link_cost) {
  const uint64_t bound = uint64_t{max_link_cost} * static_cast<uint64_t>(std::max(nodes - 1, 1));
  return bound >= babel::kMetricInfinity ? babel::Metric::Infinity()
                                         : babel::Metric(static_cast<uint16_t>(bound));
}

bool InvariantChecker::AfterEvent(const Network& network, std::span<const FibChange> changes) {
  for (const FibChange& change : changes) {
    if (violation_) return false;
    CheckChange(network, change);
  }
  if (!violation_ && network.now() - last_audit_ >= params_.audit_interval) Audit(network);
  return !violation_;
}

void InvariantChecker::CheckChange(const Network& network, const FibChange& change) {
  if (!change.new_route) return;
  CheckEntry(network, change.node, *change.new_route);
  if (violation_ || !network.Owner(change.destination)) return;
  ++paths_checked_;
  const Path path = FollowPath(network, change.node, change.destination);
  if (path.end == Path::End::kLoop || path.end == Path::End::kBadInterface ||
      path.end == Path::End::kBadNextHop) {
    Fail(network, fmt::format("{} towards {}: {}", EndName(path.end),
                              Describe(network, change.destination), path.ToString()));
  }
}

void InvariantChecker::CheckEntry(const Network& network, int node,
                                  const babel::InstalledRoute& route) {
  if (route.metric.IsInfinite() || route.metric > params_.metric_bound) {
    Fail(network, fmt::format("node {} installed {} with metric {} (bound {})", node,
                              Describe(network, route.destination), route.metric.ToString(),
                              params_.metric_bound.ToString()));
  }
}

void InvariantChecker::Audit(const Network& network) {
  last_audit_ = network.now();
  ++audits_;
  if (network.now() - network.last_topology_change() < params_.retraction_bound) return;
  const std::vector<int> component = UsableComponents(network);
  for (int node = 0; node < network.node_count() && !violation_; ++node) {
    for (const babel::InstalledRoute& r : network.fib(node)) {
      const std::optional<int> owner = network.Owner(r.destination);
      if (!owner || component[*owner] == component[node]) continue;
      Fail(network, fmt::format("node {} still routes to unreachable {} {} after the last "
                                "topology change",
                                node, Describe(network, r.destination),
                                FormatTime(network.now(), network.last_topology_change())));
      break;
    }
  }
}

void InvariantChecker::Fail(const Network& network, const std::string& what) {
  violation_ = fmt::format("seed {}, t={}: {}", network.seed(),
                           FormatTime(network.now(), network.params().start), what);
}

std::vector<std::string> ConvergenceProblems(const Network& network, size_t max_problems) {
  std::vector<std::string> problems;
  const std::vector<int> component = UsableComponents(network);
  for (int owner = 0; owner < network.node_count() && !Full(problems, max_problems); ++owner) {
    for (const babel::Destination& d : network.prefixes(owner)) {
      for (int node = 0; node < network.node_count() && !Full(problems, max_problems); ++node) {
        if (node == owner || !network.node_running(node)) continue;
        CheckPair(network, component, node, d, owner, problems, max_problems);
      }
    }
  }
  return problems;
}

}  // namespace plexus::sim

namespace plexus::sim {

std::optional<Duration> RunUntilConverged(Network& network, Duration limit, Duration poll) {
  const Timestamp begin = network.now();
  while (!network.halted()) {
    if (ConvergenceProblems(network, 1).empty()) return network.now() - begin;
    if (network.now() - begin >= limit) return std::nullopt;
    network.RunFor(poll);
  }
  return std::nullopt;
}

}  // namespace plexus::sim
