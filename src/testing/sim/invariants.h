// Routing invariants over a sim::Network's FIBs.
//
// Paths: FollowPath walks the next hops (interface -> neighbour node) from a
// node towards a destination until it reaches the destination's owner, a
// node without a route, or a node it already visited (a loop).
//
// InvariantChecker (an Observer) checks after every event:
//  (1) loop-freedom. A forwarding loop needs a cycle of next hops; a cycle
//      that did not exist before an event contains an entry the event
//      changed, so walking from every changed (node, destination) finds
//      every new loop. The check is thus exact, at the cost of the changes.
//  (2) no count-to-infinity: every installed metric is finite and at most
//      `metric_bound` (a loop-free path's worst cost), and, once the topology
//      has been still for `retraction_bound`, no node keeps a route to a
//      prefix whose owner it cannot reach (audited every `audit_interval`).
//  A next hop must also be the neighbour's link-local address on that link.
// The first violation halts the network; its text names the seed, the time
// and the path.
//
// ConvergenceProblems checks (3) at a quiet moment: every running node has a
// route to every prefix of every node it can reach over usable links, whose
// path uses only usable links, and no route to a prefix it cannot reach.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "babel/metric.h"
#include "testing/sim/network.h"

namespace plexus::sim {

struct Path {
  enum class End { kDelivered, kNoRoute, kLoop, kBadInterface, kBadNextHop };
  End end = End::kNoRoute;
  std::vector<int> nodes;     // from the start node on; for kLoop ends with the revisited node
  std::vector<size_t> links;  // links[i] joins nodes[i] and nodes[i + 1]
  std::string ToString() const;
};

// Walks from `from` to the owner of `destination` (which must have one).
Path FollowPath(const Network& network, int from, const babel::Destination& destination);

struct CheckerParams {
  babel::Metric metric_bound = babel::Metric::Infinity();
  Duration retraction_bound = std::chrono::seconds(150);
  Duration audit_interval = std::chrono::seconds(1);
};

class InvariantChecker final : public Observer {
 public:
  explicit InvariantChecker(CheckerParams params = {}) : params_(params) {}

  bool AfterEvent(const Network& network, std::span<const FibChange> changes) override;

  bool ok() const { return !violation_; }
  // "seed 7, t=12.3s: loop towards fd00:0:0:5::/64: 3 -> 4 -> 3".
  std::string violation() const { return violation_.value_or(""); }
  uint64_t paths_checked() const { return paths_checked_; }
  uint64_t audits() const { return audits_; }

 private:
  void CheckChange(const Network& network, const FibChange& change);
  void CheckEntry(const Network& network, int node, const babel::InstalledRoute& route);
  void Audit(const Network& network);
  void Fail(const Network& network, const std::string& what);

  CheckerParams params_;
  std::optional<std::string> violation_;
  Timestamp last_audit_;
  uint64_t paths_checked_ = 0;
  uint64_t audits_ = 0;
};

// (3): up to `max_problems` descriptions; empty when converged.
std::vector<std::string> ConvergenceProblems(const Network& network, size_t max_problems = 10);

// Runs `network` until ConvergenceProblems is empty, polling every `poll`,
// for at most `limit`; returns the virtual time it took, or nullopt.
std::optional<Duration> RunUntilConverged(Network& network, Duration limit, Duration poll);

// The metric bound for (2): (nodes - 1) hops of `max_link_cost`, saturating.
babel::Metric MetricBound(int nodes, uint16_t max_link_cost);

}  // namespace plexus::sim
