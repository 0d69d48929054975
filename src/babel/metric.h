// Metric: a 16-bit Babel route metric; 0xFFFF is infinity (RFC 8966 §2.1, §3.5.2).
#pragma once

#include <compare>
#include <cstdint>
#include <string>

#include "babel/constants.h"

namespace plexus::babel {

// Addition saturates at infinity: a route is never made cheaper by overflow,
// and anything plus infinity is infinity (RFC 8966 §3.5.2 "M(c, m) = c + m").
class Metric {
 public:
  constexpr Metric() = default;
  constexpr explicit Metric(uint16_t value) : value_(value) {}
  static constexpr Metric Infinity() { return Metric(kMetricInfinity); }

  constexpr uint16_t value() const { return value_; }
  constexpr bool IsInfinite() const { return value_ == kMetricInfinity; }

  friend constexpr Metric operator+(Metric a, Metric b) {
    const uint32_t sum = uint32_t{a.value_} + b.value_;
    return Metric(sum >= kMetricInfinity ? kMetricInfinity : static_cast<uint16_t>(sum));
  }
  constexpr Metric& operator+=(Metric other) {
    *this = *this + other;
    return *this;
  }

  // Metrics are plain integers: a total order, infinity is the largest.
  friend constexpr auto operator<=>(Metric a, Metric b) = default;

  std::string ToString() const { return IsInfinite() ? "inf" : std::to_string(value_); }

 private:
  uint16_t value_ = 0;
};

}  // namespace plexus::babel
