// EventQueue: the simulator's clock and agenda. Events run in (time,
// sequence) order: two events at one instant run in the order they were
// scheduled, so a run depends only on the seed.
//
//   Schedule(at, fn) --> heap of {at, seq, fn} --> RunNext(): now := at; fn()
//
// An event scheduled in the past runs at the current time (never before an
// event already run). Threading: not thread-safe; owned by one sim::Network.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "base/time.h"

namespace plexus::sim {

class EventQueue {
 public:
  explicit EventQueue(Timestamp start) : now_(start) {}

  // Queues `fn` to run at max(at, now()); returns its sequence number.
  uint64_t Schedule(Timestamp at, std::function<void()> fn);
  // Runs the earliest event; false if there is none.
  bool RunNext();
  // The time of the earliest event; Timestamp::Infinite() if none.
  Timestamp NextTime() const;
  // Moves the clock forward to `t` (never back) without running anything.
  void AdvanceTo(Timestamp t) { now_ = std::max(now_, t); }

  Timestamp now() const { return now_; }
  size_t size() const { return heap_.size(); }
  uint64_t events_run() const { return events_run_; }

 private:
  struct Event {
    Timestamp at;
    uint64_t seq = 0;
    std::function<void()> fn;
  };
  // Heap order: the earliest (at, seq) on top.
  static bool Later(const Event& a, const Event& b);

  std::vector<Event> heap_;
  Timestamp now_;
  uint64_t next_seq_ = 0;
  uint64_t events_run_ = 0;
};

}  // namespace plexus::sim
