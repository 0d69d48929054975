// Wakeup: an eventfd used to wake a thread blocked in epoll/poll.
//
// Signal() is safe from any thread and from a signal handler (it is a single
// write(2)). The signal is level-triggered: it stays readable until Drain().
// A Wakeup that is never drained works as a "shut down" latch: every later
// wait sees it at once.
#pragma once

#include "base/result.h"
#include "io/unique_fd.h"

namespace plexus::io {

class Wakeup {
 public:
  static Result<Wakeup> Create();

  // Makes fd() readable. Any thread; async-signal-safe.
  void Signal() const;
  // Makes fd() unreadable again (until the next Signal()).
  void Drain() const;
  // True if signalled and not yet drained (does not drain).
  bool IsSignalled() const;
  int fd() const { return fd_.get(); }

 private:
  explicit Wakeup(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

enum class WaitOutcome { kReady, kWoken };

// Blocks until `fd` has any of `poll_events` (POLLIN, POLLOUT; errors count as
// ready) or `wakeup` is signalled. The wakeup wins when both happen.
WaitOutcome WaitForFd(int fd, short poll_events, const Wakeup& wakeup);

}  // namespace plexus::io
