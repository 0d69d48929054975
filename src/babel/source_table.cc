#include "babel/source_table.h"

#include <algorithm>

namespace plexus::babel {

void SourceTable::OnAdvertised(const SourceKey& key, FeasibilityDistance distance, Timestamp now) {
  if (distance.metric.IsInfinite()) return;  // RFC 8966 §3.7.3: retractions leave no entry
  auto [it, inserted] = entries_.try_emplace(key, SourceEntry{distance, now + gc_time_});
  if (inserted) return;
  if (IsStrictlyBetter(distance, it->second.distance)) it->second.distance = distance;
  it->second.gc_deadline = now + gc_time_;
}

std::optional<FeasibilityDistance> SourceTable::Find(const SourceKey& key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.distance;
}

size_t SourceTable::Tick(Timestamp now) {
  return std::erase_if(entries_, [now](const auto& kv) { return kv.second.gc_deadline <= now; });
}

Timestamp SourceTable::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [key, entry] : entries_) earliest = std::min(earliest, entry.gc_deadline);
  return earliest;
}

}  // namespace plexus::babel
