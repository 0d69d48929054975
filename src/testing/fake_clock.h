// A Clock for tests and the simulator: time moves only when told to.
#pragma once

#include "base/time.h"

namespace plexus::testing {

class FakeClock final : public Clock {
 public:
  // Starts at a nonzero point, since a zero Timestamp means "never" in cores.
  explicit FakeClock(Timestamp start = Timestamp::FromNanos(1'000'000'000'000))
      : now_(start), wall_{1'700'000'000, 0} {}

  Timestamp Now() const override { return now_; }
  WallTime WallNow() const override {
    Duration d = now_ - start_;
    int64_t ns = wall_.nanoseconds + d.count();
    return {wall_.seconds + ns / 1'000'000'000, static_cast<uint32_t>(ns % 1'000'000'000)};
  }

  void Advance(Duration d) { now_ = now_ + d; }
  void AdvanceTo(Timestamp t) {
    if (t > now_) now_ = t;
  }
  // Moves the wall clock alone (as an NTP step would).
  void SetWall(WallTime w) {
    wall_ = w;
    start_ = now_;
  }

 private:
  Timestamp now_;
  Timestamp start_ = now_;
  WallTime wall_;
};

}  // namespace plexus::testing
