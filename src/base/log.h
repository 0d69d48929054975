// Logging: leveled lines to stderr, with rate limiting for the packet path
// (STYLE.md rule 12: nothing per packet at info level).
//
// The level and sink are process-wide configuration set once at startup by
// cli/main; this is the one deliberate piece of global state (it holds no
// protocol state, and two Nodes in one process share it harmlessly).
#pragma once

#include <fmt/format.h>

#include <atomic>
#include <cstdint>
#include <string_view>

#include "base/time.h"

namespace plexus {

enum class LogLevel : int { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3, kOff = 4 };

void SetLogLevel(LogLevel level);
LogLevel GetLogLevel();
// Parses "debug", "info", "warning", "error", "off".
bool ParseLogLevel(std::string_view name, LogLevel& out);
void LogLine(LogLevel level, std::string_view message);

template <typename... Args>
void Log(LogLevel level, fmt::format_string<Args...> f, Args&&... args) {
  if (level < GetLogLevel()) return;
  LogLine(level, fmt::format(f, std::forward<Args>(args)...));
}

#define PLEXUS_LOG_DEBUG(...) ::plexus::Log(::plexus::LogLevel::kDebug, __VA_ARGS__)
#define PLEXUS_LOG_INFO(...) ::plexus::Log(::plexus::LogLevel::kInfo, __VA_ARGS__)
#define PLEXUS_LOG_WARNING(...) ::plexus::Log(::plexus::LogLevel::kWarning, __VA_ARGS__)
#define PLEXUS_LOG_ERROR(...) ::plexus::Log(::plexus::LogLevel::kError, __VA_ARGS__)

// Allows at most `burst` events per `period`; thread-safe. Used to keep debug
// logging of dropped packets bounded.
class RateLimiter {
 public:
  RateLimiter(uint32_t burst, Duration period) : burst_(burst), period_(period) {}
  bool Allow(Timestamp now);

 private:
  const uint32_t burst_;
  const Duration period_;
  std::atomic<int64_t> window_start_{0};
  std::atomic<uint32_t> count_{0};
};

}  // namespace plexus
