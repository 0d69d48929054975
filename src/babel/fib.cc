#include "babel/fib.h"

#include <algorithm>

namespace plexus::babel {

namespace {

// Journal entries allowed beyond the table's size before it gives up.
constexpr size_t kJournalSlack = 64;

}  // namespace

void Fib::Set(const Destination& destination, const std::optional<InstalledRoute>& route) {
  InstalledRoute* installed = entries_.find(destination);
  if (!route) {
    if (installed == nullptr) return;
    entries_.erase(destination);
  } else if (installed == nullptr) {
    entries_[destination] = *route;
  } else if (*installed == *route) {
    return;
  } else {
    *installed = *route;
  }
  ++version_;
  Journal(destination);
}

void Fib::Journal(const Destination& destination) {
  if (journal_overflowed_) return;
  if (journal_.size() >= entries_.size() + kJournalSlack) {
    journal_overflowed_ = true;
    journal_.clear();
    journal_.shrink_to_fit();
    return;
  }
  journal_.push_back(destination);
}

std::optional<std::vector<Destination>> Fib::TakeChanged() {
  std::vector<Destination> changed;
  changed.swap(journal_);
  if (!journal_overflowed_) return changed;
  journal_overflowed_ = false;
  return std::nullopt;
}

const InstalledRoute* Fib::Find(const Destination& destination) const {
  return entries_.find(destination);
}

std::vector<InstalledRoute> Fib::Entries() const {
  std::vector<InstalledRoute> out;
  out.reserve(entries_.size());
  for (const auto& [destination, route] : entries_) out.push_back(route);
  std::sort(out.begin(), out.end(), [](const InstalledRoute& a, const InstalledRoute& b) {
    return a.destination < b.destination;
  });
  return out;
}

std::vector<Destination> Fib::Destinations() const {
  std::vector<Destination> out;
  out.reserve(entries_.size());
  for (const auto& [destination, route] : entries_) out.push_back(destination);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace plexus::babel
