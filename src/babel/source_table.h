// The source table (RFC 8966 §3.2.5): for each source (prefix, source prefix,
// router-id) this node has advertised, its feasibility distance, maintained by
// §3.7.3 and garbage-collected after kSourceGcTime without an advertisement.
//
//   route selected / advertised --OnAdvertised--> entry (distance, gc deadline)
//   update received ---------------IsFeasible---> §3.5.1 against the entry
//   Tick(now) ------------------------------------> drops entries past deadline
//
// Source-specific routing (RFC 9079 §5): the source prefix is part of the key,
// so a source-specific route and a plain route for the same prefix have
// separate feasibility distances.
//
// Threading: not thread-safe; owned by the Babel core on the control thread.
#pragma once

#include <compare>
#include <cstddef>
#include <optional>

#include "babel/constants.h"
#include "babel/feasibility.h"
#include "babel/flat_hash_map.h"
#include "babel/key_hash.h"
#include "babel/metric.h"
#include "babel/router_id.h"
#include "babel/seqno.h"
#include "base/ip.h"
#include "base/time.h"

namespace plexus::babel {

// RFC 8966 §3.2.5, RFC 9079 §5.
struct SourceKey {
  Prefix prefix;
  std::optional<Prefix> source_prefix;
  RouterId router_id;
  auto operator<=>(const SourceKey&) const = default;  // NOLINT(modernize-use-nullptr)
};

struct SourceKeyHash {
  size_t operator()(const SourceKey& key) const {
    return HashRouterId(HashPrefix(HashPrefix(0, key.prefix), key.source_prefix), key.router_id);
  }
};

struct SourceEntry {
  FeasibilityDistance distance;
  Timestamp gc_deadline;  // RFC 8966 §3.2.5 garbage-collection timer
};

class SourceTable {
 public:
  explicit SourceTable(Duration gc_time = kSourceGcTime) : gc_time_(gc_time) {}

  // RFC 8966 §3.7.3: we advertised (or selected for advertisement) a route to
  // `key` with `distance`. A retraction (infinite metric) changes nothing.
  // Otherwise the entry is created, or its distance replaced when `distance`
  // is strictly better (newer seqno, or same seqno and smaller metric), and
  // its garbage-collection timer is reset in either case.
  void OnAdvertised(const SourceKey& key, FeasibilityDistance distance, Timestamp now);

  // Starts loading the entry of `key` (see RouteTable::Prefetch).
  void Prefetch(const SourceKey& key) const { entries_.Prefetch(key); }

  // The feasibility distance of `key`, if it has an entry.
  std::optional<FeasibilityDistance> Find(const SourceKey& key) const;

  // RFC 8966 §3.5.1 for an update (seqno, advertised metric) from `key`.
  bool IsFeasible(const SourceKey& key, Seqno seqno, Metric metric) const {
    return babel::IsFeasible(seqno, metric, Find(key));
  }

  // Drops every entry whose garbage-collection timer has expired (deadline <=
  // now); returns how many were dropped.
  size_t Tick(Timestamp now);
  // The earliest garbage-collection deadline; Timestamp::Infinite() if empty.
  Timestamp NextDeadline() const;

  size_t size() const { return entries_.size(); }

 private:
  Duration gc_time_;
  // No order needed: Tick and NextDeadline look at every entry anyway.
  FlatHashMap<SourceKey, SourceEntry, SourceKeyHash> entries_;
};

}  // namespace plexus::babel
