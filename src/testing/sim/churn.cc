#include "testing/sim/churn.h"

#include <optional>
#include <vector>

namespace plexus::sim {
namespace {

size_t FailedLinks(const Network& network) {
  size_t count = 0;
  for (size_t l = 0; l < network.link_count(); ++l) count += network.link_failed(l) ? 1 : 0;
  return count;
}

// A uniformly chosen link whose failed state is `failed`.
std::optional<size_t> PickLink(Network& network, bool failed) {
  std::vector<size_t> candidates;
  for (size_t l = 0; l < network.link_count(); ++l) {
    if (network.link_failed(l) == failed) candidates.push_back(l);
  }
  if (candidates.empty()) return std::nullopt;
  return candidates[network.random().Below(candidates.size())];
}

void FailOne(Network& network, const ChurnParams& params) {
  if (FailedLinks(network) >= params.max_failed_links) return;
  if (std::optional<size_t> l = PickLink(network, false)) network.FailLink(*l);
}

void RestoreOne(Network& network) {
  if (std::optional<size_t> l = PickLink(network, true)) network.RestoreLink(*l);
}

void ChangeDelay(Network& network, const ChurnParams& params) {
  if (network.link_count() == 0) return;
  const size_t l = network.random().Below(network.link_count());
  LinkParams p = network.link_params(l);
  p.delay = params.min_delay + network.random().UpTo(params.max_delay - params.min_delay);
  network.SetLinkParams(l, p);
}

void RestartOne(Network& network, const ChurnParams& params) {
  const int node = static_cast<int>(network.random().Below(network.node_count()));
  if (!network.node_running(node)) return;
  network.StopNode(node);
  const Timestamp back = network.now() + network.random().UpTo(params.max_downtime);
  network.Schedule(back, [&network, node] { network.StartNode(node); });
}

void Act(Network& network, const ChurnParams& params) {
  const int total =
      params.fail_weight + params.restore_weight + params.delay_weight + params.restart_weight;
  if (total <= 0) return;
  int pick = static_cast<int>(network.random().Below(total));
  if ((pick -= params.fail_weight) < 0) return FailOne(network, params);
  if ((pick -= params.restore_weight) < 0) return RestoreOne(network);
  if ((pick -= params.delay_weight) < 0) return ChangeDelay(network, params);
  RestartOne(network, params);
}

void ScheduleNext(Network& network, const ChurnParams& params, Timestamp until) {
  const Timestamp at = network.now() + network.random().UpTo(2 * params.mean_gap);
  if (at >= until) return;
  network.Schedule(at, [&network, params, until] {
    Act(network, params);
    ScheduleNext(network, params, until);
  });
}

}  // namespace

void ScheduleChurn(Network& network, const ChurnParams& params, Timestamp until) {
  ScheduleNext(network, params, until);
}

void RestoreAll(Network& network) {
  for (size_t l = 0; l < network.link_count(); ++l) {
    if (network.link_failed(l)) network.RestoreLink(l);
  }
  for (int n = 0; n < network.node_count(); ++n) network.StartNode(n);
}

}  // namespace plexus::sim
