#include "io/event_loop.h"

#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace plexus::io {

namespace {

constexpr uint64_t kWakeupKey = 0;
constexpr int kMaxEventsPerWait = 64;

uint32_t ToEpollEvents(uint32_t interest) {
  uint32_t events = 0;
  if (interest & kReadable) events |= EPOLLIN;
  if (interest & kWritable) events |= EPOLLOUT;
  return events;
}

uint32_t FromEpollEvents(uint32_t events) {
  uint32_t out = 0;
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLPRI)) out |= kReadable;
  if (events & EPOLLOUT) out |= kWritable;
  if (events & (EPOLLERR | EPOLLHUP)) out |= kFdError;
  return out;
}

// epoll_pwait2 takes a nanosecond timeout; negative `wait` is clamped to 0.
int EpollWait(int epoll_fd, epoll_event* events, int max_events, Duration wait) {
  if (wait < Duration::zero()) wait = Duration::zero();
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(wait.count() / 1'000'000'000);
  ts.tv_nsec = static_cast<long>(wait.count() % 1'000'000'000);
  int n = ::epoll_pwait2(epoll_fd, events, max_events, &ts, nullptr);
  if (n >= 0 || errno != ENOSYS) return n;
  // Kernels before 5.11: millisecond resolution, rounded up so a timer is
  // never woken early.
  int64_t ms = (wait.count() + 999'999) / 1'000'000;
  return ::epoll_wait(epoll_fd, events, max_events,
                      static_cast<int>(std::min<int64_t>(ms, 1 << 30)));
}

}  // namespace

Result<std::unique_ptr<EventLoop>> EventLoop::Create(const Clock& clock) {
  UniqueFd epoll(::epoll_create1(EPOLL_CLOEXEC));
  if (!epoll.valid()) return MakeError("epoll_create1: {}", std::strerror(errno));
  Result<Wakeup> wakeup = Wakeup::Create();
  if (!wakeup) return wakeup.error().Wrap("event loop");
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = kWakeupKey;
  if (::epoll_ctl(epoll.get(), EPOLL_CTL_ADD, wakeup->fd(), &ev) != 0) {
    return MakeError("epoll_ctl(eventfd): {}", std::strerror(errno));
  }
  return std::unique_ptr<EventLoop>(
      new EventLoop(clock, std::move(epoll), std::move(wakeup).value()));
}

EventLoop::EventLoop(const Clock& clock, UniqueFd epoll, Wakeup wakeup)
    : clock_(clock), epoll_(std::move(epoll)), wakeup_(std::move(wakeup)) {}

EventLoop::~EventLoop() = default;

Status EventLoop::WatchFd(int fd, uint32_t interest, FdCallback callback) {
  if (watch_key_by_fd_.contains(fd)) return MakeError("fd {} is already watched", fd);
  uint64_t key = next_watch_key_++;
  epoll_event ev{};
  ev.events = ToEpollEvents(interest);
  ev.data.u64 = key;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
    return MakeError("watching fd {}: {}", fd, std::strerror(errno));
  }
  watches_[key] = std::make_unique<Watch>(Watch{fd, std::move(callback)});
  watch_key_by_fd_[fd] = key;
  return Ok();
}

Status EventLoop::ModifyFd(int fd, uint32_t interest) {
  auto it = watch_key_by_fd_.find(fd);
  if (it == watch_key_by_fd_.end()) return MakeError("fd {} is not watched", fd);
  epoll_event ev{};
  ev.events = ToEpollEvents(interest);
  ev.data.u64 = it->second;
  if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, fd, &ev) != 0) {
    return MakeError("modifying fd {}: {}", fd, std::strerror(errno));
  }
  return Ok();
}

void EventLoop::UnwatchFd(int fd) {
  auto it = watch_key_by_fd_.find(fd);
  if (it == watch_key_by_fd_.end()) return;
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  auto watch = watches_.find(it->second);
  // The callback may be running right now: free it after dispatch.
  retired_watches_.push_back(std::move(watch->second));
  watches_.erase(watch);
  watch_key_by_fd_.erase(it);
}

TimerId EventLoop::ScheduleAt(Timestamp when, Task task) {
  TimerId id = next_timer_id_++;
  timers_.emplace(std::make_pair(when, id), std::move(task));
  timer_deadlines_.emplace(id, when);
  return id;
}

TimerId EventLoop::ScheduleAfter(Duration delay, Task task) {
  return ScheduleAt(clock_.Now() + delay, std::move(task));
}

bool EventLoop::Cancel(TimerId id) {
  auto it = timer_deadlines_.find(id);
  if (it == timer_deadlines_.end()) return false;
  timers_.erase({it->second, id});
  timer_deadlines_.erase(it);
  return true;
}

Timestamp EventLoop::NextDeadline() const {
  return timers_.empty() ? Timestamp::Infinite() : timers_.begin()->first.first;
}

void EventLoop::Post(Task task) {
  bool was_empty;
  {
    std::lock_guard lock(posted_mutex_);
    was_empty = posted_.empty();
    posted_.push_back(std::move(task));
  }
  if (was_empty) wakeup_.Signal();
}

Status EventLoop::Run() {
  while (!stop_requested_.load(std::memory_order_acquire)) {
    Timestamp deadline = NextDeadline();
    Duration wait = deadline.IsInfinite() ? std::chrono::hours(1) : deadline - clock_.Now();
    Status s = RunOnce(wait);
    if (!s) return s;
  }
  stop_requested_.store(false, std::memory_order_release);
  return Ok();
}

Status EventLoop::RunOnce(Duration max_wait) {
  Timestamp deadline = NextDeadline();
  if (!deadline.IsInfinite()) max_wait = std::min(max_wait, deadline - clock_.Now());
  Status s = WaitAndDispatch(max_wait);
  if (!s) return s;
  RunPostedTasks();
  RunDueTimers();
  retired_watches_.clear();
  return Ok();
}

void EventLoop::Stop() {
  stop_requested_.store(true, std::memory_order_release);
  wakeup_.Signal();
}

Status EventLoop::WaitAndDispatch(Duration max_wait) {
  std::array<epoll_event, kMaxEventsPerWait> events;
  int n = EpollWait(epoll_.get(), events.data(), kMaxEventsPerWait, max_wait);
  if (n < 0) {
    if (errno == EINTR) return Ok();
    return MakeError("epoll_wait: {}", std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) {
    if (events[i].data.u64 == kWakeupKey) {
      wakeup_.Drain();
    } else {
      DispatchFd(events[i].data.u64, events[i].events);
    }
  }
  return Ok();
}

void EventLoop::DispatchFd(uint64_t key, uint32_t epoll_events) {
  auto it = watches_.find(key);
  if (it == watches_.end()) return;  // unwatched by an earlier callback
  Watch* watch = it->second.get();
  watch->callback(FromEpollEvents(epoll_events));
}

void EventLoop::RunPostedTasks() {
  std::vector<Task> tasks;
  {
    std::lock_guard lock(posted_mutex_);
    tasks.swap(posted_);
  }
  for (Task& task : tasks) task();
}

void EventLoop::RunDueTimers() {
  // Only timers due on entry run; one a callback schedules for "now" runs in
  // the next iteration, so a self-rescheduling timer cannot spin here.
  Timestamp now = clock_.Now();
  std::vector<TimerId> due;
  for (const auto& entry : timers_) {
    if (entry.first.first > now) break;
    due.push_back(entry.first.second);
  }
  for (TimerId id : due) {
    auto deadline = timer_deadlines_.find(id);
    if (deadline == timer_deadlines_.end()) continue;  // cancelled by an earlier callback
    auto timer = timers_.find({deadline->second, id});
    Task task = std::move(timer->second);
    timers_.erase(timer);
    timer_deadlines_.erase(deadline);
    task();
  }
}

Status EventLoop::StopOnSignals(std::initializer_list<int> signals) {
  sigset_t mask;
  sigemptyset(&mask);
  for (int sig : signals) sigaddset(&mask, sig);
  if (::pthread_sigmask(SIG_BLOCK, &mask, nullptr) != 0) return MakeError("pthread_sigmask failed");
  int fd =
      ::signalfd(signal_fd_.valid() ? signal_fd_.get() : -1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return MakeError("signalfd: {}", std::strerror(errno));
  if (signal_fd_.valid()) return Ok();  // the existing fd's mask was replaced
  signal_fd_.Reset(fd);
  return WatchFd(fd, kReadable, [this](uint32_t) {
    signalfd_siginfo info;
    while (::read(signal_fd_.get(), &info, sizeof info) == sizeof info) {
    }
    Stop();
  });
}

}  // namespace plexus::io
