// Time for protocol cores: a monotonic Timestamp and an injected Clock (STYLE.md rule 6).
//
// Cores never read a clock themselves; they are handed `now`. The node uses
// SystemClock; tests and the simulator use testing::FakeClock.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>

namespace plexus {

using Duration = std::chrono::nanoseconds;
using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace): 5s, 120ms in cores

// A point on the monotonic clock. Default-constructed is the zero point, which
// cores use to mean "never" (e.g. no handshake yet).
class Timestamp {
 public:
  constexpr Timestamp() = default;
  static constexpr Timestamp FromNanos(int64_t ns) { return Timestamp(ns); }
  static constexpr Timestamp Infinite() { return Timestamp(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t nanos() const { return ns_; }
  constexpr bool IsZero() const { return ns_ == 0; }
  constexpr bool IsInfinite() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr Timestamp operator+(Duration d) const {
    if (IsInfinite()) return *this;
    return Timestamp(ns_ + d.count());
  }
  constexpr Timestamp operator-(Duration d) const { return Timestamp(ns_ - d.count()); }
  constexpr Duration operator-(Timestamp o) const { return Duration(ns_ - o.ns_); }
  constexpr auto operator<=>(const Timestamp&) const = default;  // NOLINT(modernize-use-nullptr)

 private:
  constexpr explicit Timestamp(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

// Wall-clock time as seconds + nanoseconds since the Unix epoch (for TAI64N).
struct WallTime {
  int64_t seconds = 0;
  uint32_t nanoseconds = 0;
};

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic; never goes back.
  virtual Timestamp Now() const = 0;
  // Wall clock; may jump.
  virtual WallTime WallNow() const = 0;
};

// The real clocks (CLOCK_MONOTONIC offset so that Now() is never zero, CLOCK_REALTIME).
class SystemClock final : public Clock {
 public:
  Timestamp Now() const override;
  WallTime WallNow() const override;
};

}  // namespace plexus
