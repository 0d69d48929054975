#include "base/log.h"

#include <unistd.h>

#include <string>

namespace plexus {

namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};

constexpr std::string_view kNames[] = {"debug", "info", "warning", "error", "off"};
}  // namespace

void SetLogLevel(LogLevel level) {
  g_level.store(static_cast<int>(level));
}
LogLevel GetLogLevel() {
  return static_cast<LogLevel>(g_level.load(std::memory_order_relaxed));
}

bool ParseLogLevel(std::string_view name, LogLevel& out) {
  for (size_t i = 0; i < std::size(kNames); ++i) {
    if (kNames[i] == name) {
      out = static_cast<LogLevel>(i);
      return true;
    }
  }
  return false;
}

void LogLine(LogLevel level, std::string_view message) {
  SystemClock clock;
  WallTime t = clock.WallNow();
  std::string line = fmt::format("{}.{:03d} {:<7} {}\n", t.seconds, t.nanoseconds / 1'000'000,
                                 kNames[static_cast<int>(level)], message);
  // One write(2) per line keeps lines from different threads whole.
  ssize_t ignored = write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
}

bool RateLimiter::Allow(Timestamp now) {
  int64_t start = window_start_.load(std::memory_order_relaxed);
  if (now.nanos() - start >= period_.count()) {
    if (window_start_.compare_exchange_strong(start, now.nanos())) count_.store(0);
  }
  return count_.fetch_add(1, std::memory_order_relaxed) < burst_;
}

}  // namespace plexus
