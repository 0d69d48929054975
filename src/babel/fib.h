// The forwarding view of the route table: one installed route per
// destination that has a selected route (RFC 8966 §3.6), with a version
// number that changes exactly when the content does, so the node republishes
// its forwarding snapshot only when needed.
//
// Threading: not thread-safe; owned by the Babel engine on the control thread.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "babel/flat_hash_map.h"
#include "babel/metric.h"
#include "babel/route_table.h"
#include "babel/router_id.h"
#include "base/ip.h"

namespace plexus::babel {

// A selected route, as the forwarding table needs it. `next_hop` is the
// neighbour's link-local IPv6 address (for IPv4 prefixes too, RFC 9229).
struct InstalledRoute {
  Destination destination;
  uint32_t interface_id = 0;
  IpAddress next_hop;
  Metric metric;
  RouterId router_id;
  bool operator==(const InstalledRoute&) const = default;
};

class Fib {
 public:
  // Installs `route` for `destination`, or removes it when empty; the version
  // changes only if the entry did.
  void Set(const Destination& destination, const std::optional<InstalledRoute>& route);
  // Every installed route, sorted by destination (sorted on each call).
  std::vector<InstalledRoute> Entries() const;
  // The destinations installed now, sorted (on each call).
  std::vector<Destination> Destinations() const;
  const InstalledRoute* Find(const Destination& destination) const;
  void Prefetch(const Destination& destination) const { entries_.Prefetch(destination); }
  uint64_t version() const { return version_; }
  size_t size() const { return entries_.size(); }

  // The destinations whose entry changed since the last call (in order of
  // change, possibly repeated), so a follower can copy only those; nullopt
  // when more changed than the journal keeps (about size() + 64: then
  // compare Entries() instead). Bounded, so nobody needs to call it.
  std::optional<std::vector<Destination>> TakeChanged();

 private:
  void Journal(const Destination& destination);

  FlatHashMap<Destination, InstalledRoute, DestinationHash> entries_;
  uint64_t version_ = 0;
  std::vector<Destination> journal_;
  bool journal_overflowed_ = false;
};

}  // namespace plexus::babel
