// Random churn on a sim::Network: link failures and restorations, link cost
// changes (through delay changes, which Babel's RTT cost sees) and node
// restarts, drawn from the network's SimRandom so a seed fixes them too.
#pragma once

#include <chrono>
#include <cstddef>

#include "testing/sim/network.h"

namespace plexus::sim {

struct ChurnParams {
  // Gap between actions: uniform in [0, 2 x mean_gap].
  Duration mean_gap = std::chrono::seconds(2);
  // Relative weights of the actions.
  int fail_weight = 3;
  int restore_weight = 3;
  int delay_weight = 2;
  int restart_weight = 0;
  // Delay changes pick a one-way delay uniformly in [min_delay, max_delay].
  Duration min_delay = std::chrono::milliseconds(1);
  Duration max_delay = std::chrono::milliseconds(100);
  // A restarted node is down for a time uniform in [0, max_downtime].
  Duration max_downtime = std::chrono::seconds(10);
  // A failure is skipped when this many links are failed already.
  size_t max_failed_links = 1'000'000;
};

// Schedules random actions on `network` from now until `until`.
void ScheduleChurn(Network& network, const ChurnParams& params, Timestamp until);

// Restores every failed link and starts every stopped node, now.
void RestoreAll(Network& network);

}  // namespace plexus::sim
