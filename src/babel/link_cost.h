// Link cost from Hello histories and the neighbour's IHU (RFC 8966 §3.4.3,
// Appendix A.2).
//
//   rxcost  <- our Hello history of the neighbour (A.2.1 or A.2.2)
//   txcost  <- the rxcost the neighbour sent us in its last IHU (§3.4.2);
//              infinity when no IHU arrived within the IHU hold time
//   cost    <- f(rxcost, txcost)
//
// Pure functions over 16-bit histories (bit 0 = most recent Hello, as in
// HelloHistory::bits()).
#pragma once

#include <cstdint>

#include "babel/constants.h"
#include "babel/metric.h"

namespace plexus::babel {

enum class LinkQuality : uint8_t {
  kTwoOutOfThree,  // A.2.1 "k-out-of-j" with k = 2, j = 3: wired links, tunnels
  kEtx,            // A.2.2 ETX: lossy (wireless) links
};

struct LinkCostParams {
  LinkQuality quality = LinkQuality::kTwoOutOfThree;
  // The rxcost of a loss-free link for kTwoOutOfThree (Appendix B: 96).
  Metric nominal_rxcost{kWiredLinkCost};
};

// A.2.1: the nominal cost if at least 2 of the last 3 Hellos arrived, else infinity.
Metric TwoOutOfThreeRxcost(uint16_t history, Metric nominal);

// A.2.2: 256 / beta, beta being the fraction of the last 16 Hellos that
// arrived; infinity when none did. Rounded to the nearest integer.
Metric EtxRxcost(uint16_t history);

// The rxcost of `history` under `params`.
Metric Rxcost(uint16_t history, const LinkCostParams& params);

// §3.4.3 with A.2.1: txcost if rxcost is finite, else infinity.
// A.2.2: 256 / (alpha * beta) with alpha = min(1, 256 / txcost) and
// beta = min(1, 256 / rxcost), i.e. max(txcost, 256) * max(rxcost, 256) / 256
// rounded, saturating at infinity. Infinite if either input is.
Metric LinkCost(Metric rxcost, Metric txcost, LinkQuality quality);

}  // namespace plexus::babel
