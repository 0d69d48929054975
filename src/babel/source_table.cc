#include "babel/source_table.h"

#include <algorithm>

namespace plexus::babel {

void SourceTable::OnAdvertised(const SourceKey& key, FeasibilityDistance distance, Timestamp now) {
  if (distance.metric.IsInfinite()) return;  // RFC 8966 §3.7.3: retractions leave no entry
  auto [entry, inserted] = entries_.try_emplace(key);
  if (inserted || IsStrictlyBetter(distance, entry->distance)) entry->distance = distance;
  entry->gc_deadline = now + gc_time_;
}

std::optional<FeasibilityDistance> SourceTable::Find(const SourceKey& key) const {
  const SourceEntry* entry = entries_.find(key);
  if (entry == nullptr) return std::nullopt;
  return entry->distance;
}

size_t SourceTable::Tick(Timestamp now) {
  return entries_.erase_if(
      [now](const SourceKey&, const SourceEntry& entry) { return entry.gc_deadline <= now; });
}

Timestamp SourceTable::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [key, entry] : entries_) earliest = std::min(earliest, entry.gc_deadline);
  return earliest;
}

}  // namespace plexus::babel
