#include "base/time.h"

#include <time.h>

namespace plexus {

namespace {
// Added to CLOCK_MONOTONIC so a real Now() is never the zero ("never") point.
constexpr int64_t kMonotonicOffsetNs = int64_t{1} << 40;
}  // namespace

Timestamp SystemClock::Now() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return Timestamp::FromNanos(kMonotonicOffsetNs + ts.tv_sec * 1'000'000'000LL + ts.tv_nsec);
}

WallTime SystemClock::WallNow() const {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return {ts.tv_sec, static_cast<uint32_t>(ts.tv_nsec)};
}

}  // namespace plexus
