#include "babel/fib.h"

namespace plexus::babel {

void Fib::Set(const Destination& destination, const std::optional<InstalledRoute>& route) {
  auto it = entries_.find(destination);
  if (!route) {
    if (it == entries_.end()) return;
    entries_.erase(it);
  } else if (it == entries_.end()) {
    entries_.emplace(destination, *route);
  } else if (it->second == *route) {
    return;
  } else {
    it->second = *route;
  }
  ++version_;
}

std::vector<InstalledRoute> Fib::Entries() const {
  std::vector<InstalledRoute> out;
  out.reserve(entries_.size());
  for (const auto& [destination, route] : entries_) out.push_back(route);
  return out;
}

std::vector<Destination> Fib::Destinations() const {
  std::vector<Destination> out;
  out.reserve(entries_.size());
  for (const auto& [destination, route] : entries_) out.push_back(destination);
  return out;
}

}  // namespace plexus::babel
