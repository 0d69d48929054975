#include "testing/sim/event_queue.h"

#include <algorithm>
#include <utility>

namespace plexus::sim {

bool EventQueue::Later(const Event& a, const Event& b) {
  if (a.at != b.at) return a.at > b.at;
  return a.seq > b.seq;
}

uint64_t EventQueue::Schedule(Timestamp at, std::function<void()> fn) {
  const uint64_t seq = next_seq_++;
  heap_.push_back(Event{std::max(at, now_), seq, std::move(fn)});
  std::push_heap(heap_.begin(), heap_.end(), Later);
  return seq;
}

bool EventQueue::RunNext() {
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), Later);
  Event event = std::move(heap_.back());
  heap_.pop_back();
  now_ = event.at;
  ++events_run_;
  event.fn();
  return true;
}

Timestamp EventQueue::NextTime() const {
  return heap_.empty() ? Timestamp::Infinite() : heap_.front().at;
}

}  // namespace plexus::sim
