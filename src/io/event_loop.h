// EventLoop: the control thread's epoll loop (DESIGN.md §3, STYLE.md rule 7).
//
//   loop = EventLoop::Create(clock)
//   loop->WatchFd(fd, kReadable, [](uint32_t events) { ... });
//   id = loop->ScheduleAt(deadline, [] { ... });   loop->Cancel(id);
//   other thread: loop->Post([] { ... });          // runs on the loop thread
//   loop->StopOnSignals({SIGINT, SIGTERM});        // before starting threads
//   loop->Run();                                   // until Stop()
//
// One iteration: sleep in epoll until the earliest timer or an fd event ->
// run fd callbacks -> run posted tasks -> run timers whose deadline <= now.
// Time comes from the injected Clock, so with a testing::FakeClock a test
// advances the clock and calls RunOnce(0ns) to fire due timers.
//
// Threads: everything runs on the thread that calls Run()/RunOnce() (the
// "loop thread"), except Post() and Stop(), which are safe from any thread;
// Stop() is also async-signal-safe. Callbacks may call any method, including
// UnwatchFd() and Cancel() on themselves.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

#include "base/result.h"
#include "base/time.h"
#include "io/unique_fd.h"
#include "io/wakeup.h"

namespace plexus::io {

// Readiness bits for WatchFd interest and for the callback argument.
inline constexpr uint32_t kReadable = 1u << 0;
inline constexpr uint32_t kWritable = 1u << 1;
// Only reported (error or hang-up on the fd), never requested.
inline constexpr uint32_t kFdError = 1u << 2;

using TimerId = uint64_t;
inline constexpr TimerId kNoTimer = 0;

class EventLoop {
 public:
  using FdCallback = std::function<void(uint32_t events)>;
  using Task = std::function<void()>;

  static Result<std::unique_ptr<EventLoop>> Create(const Clock& clock);
  ~EventLoop();

  // Calls `callback` on the loop thread while `fd` is ready for any of
  // `interest` (level-triggered). The fd stays owned by the caller, who must
  // UnwatchFd() before closing it. Fails if `fd` is already watched.
  Status WatchFd(int fd, uint32_t interest, FdCallback callback);
  // Changes the interest set of a watched fd.
  Status ModifyFd(int fd, uint32_t interest);
  // Stops watching; no callback for `fd` runs after this returns.
  void UnwatchFd(int fd);

  // Runs `task` once on the loop thread when Now() >= `when` (timers due in
  // the same iteration fire in deadline order, then in scheduling order).
  TimerId ScheduleAt(Timestamp when, Task task);
  TimerId ScheduleAfter(Duration delay, Task task);
  // Cancels a pending timer; false if it already ran or was cancelled.
  bool Cancel(TimerId id);
  // The earliest pending deadline, or Timestamp::Infinite().
  Timestamp NextDeadline() const;

  // Queues `task` to run on the loop thread and wakes the loop. Any thread.
  void Post(Task task);

  // Runs iterations until Stop(). Returns an error only if epoll fails.
  Status Run();
  // One iteration, sleeping at most `max_wait` for something to happen.
  Status RunOnce(Duration max_wait);
  // Makes Run() return after the current iteration. Any thread, and from a
  // signal handler. A Stop() before Run() makes Run() return at once.
  void Stop();

  // Blocks `signals` in the calling thread (call it before creating other
  // threads so they inherit the mask) and calls Stop() when one arrives.
  Status StopOnSignals(std::initializer_list<int> signals);

  const Clock& clock() const { return clock_; }

 private:
  struct Watch {
    int fd;
    FdCallback callback;
  };

  EventLoop(const Clock& clock, UniqueFd epoll, Wakeup wakeup);
  Status WaitAndDispatch(Duration max_wait);
  void DispatchFd(uint64_t key, uint32_t epoll_events);
  void RunPostedTasks();
  void RunDueTimers();

  const Clock& clock_;
  UniqueFd epoll_;
  Wakeup wakeup_;  // signalled by Post() and Stop()
  UniqueFd signal_fd_;
  std::atomic<bool> stop_requested_{false};

  // Fd watches, keyed by a registration number that never repeats (so a
  // closed and reused fd number cannot reach a stale callback).
  uint64_t next_watch_key_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Watch>> watches_;
  std::unordered_map<int, uint64_t> watch_key_by_fd_;
  std::vector<std::unique_ptr<Watch>> retired_watches_;  // freed after dispatch

  TimerId next_timer_id_ = 1;
  std::map<std::pair<Timestamp, TimerId>, Task> timers_;
  std::unordered_map<TimerId, Timestamp> timer_deadlines_;

  std::mutex posted_mutex_;
  std::vector<Task> posted_;  // guarded by posted_mutex_
};

}  // namespace plexus::io
