#include "babel/link_cost.h"

#include <algorithm>
#include <bit>

namespace plexus::babel {
namespace {

constexpr uint32_t kEtxUnit = 256;  // the cost of one expected transmission

Metric Saturate(uint32_t value) {
  return value >= kMetricInfinity ? Metric::Infinity() : Metric(static_cast<uint16_t>(value));
}

}  // namespace

Metric TwoOutOfThreeRxcost(uint16_t history, Metric nominal) {
  return std::popcount(static_cast<unsigned>(history & 0b111)) >= 2 ? nominal : Metric::Infinity();
}

Metric EtxRxcost(uint16_t history) {
  const uint32_t received = std::popcount(history);
  if (received == 0) return Metric::Infinity();
  // 256 / (received / 16), rounded to nearest.
  return Saturate((kEtxUnit * 16 + received / 2) / received);
}

Metric Rxcost(uint16_t history, const LinkCostParams& params) {
  switch (params.quality) {
    case LinkQuality::kTwoOutOfThree:
      return TwoOutOfThreeRxcost(history, params.nominal_rxcost);
    case LinkQuality::kEtx:
      return EtxRxcost(history);
  }
  return Metric::Infinity();
}

Metric LinkCost(Metric rxcost, Metric txcost, LinkQuality quality) {
  if (rxcost.IsInfinite() || txcost.IsInfinite()) return Metric::Infinity();
  if (quality == LinkQuality::kTwoOutOfThree) return txcost;
  const uint32_t a = std::max<uint32_t>(txcost.value(), kEtxUnit);
  const uint32_t b = std::max<uint32_t>(rxcost.value(), kEtxUnit);
  return Saturate((a * b + kEtxUnit / 2) / kEtxUnit);
}

}  // namespace plexus::babel
