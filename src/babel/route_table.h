// The route table (RFC 8966 §3.2.6): one route per (prefix, source prefix,
// neighbour), fed by received Updates (§3.5.3), neighbour cost changes and the
// route expiry timer (§3.5.4); route selection (§3.6) runs per destination
// after every change and reports what the Babel core must send.
//
//   Update --OnUpdate------> route (router-id, seqno, advertised metric,
//   cost ---OnNeighbourCost-> link cost, next hop, expiry)
//   timer --Tick-----------> expire: metric := inf, then flush
//                                  |
//                                  v   feasible flags from the SourceTable
//                            Select(destination)  --> RouteEvents
//                              selection_changed  (triggered update)
//                              seqno_requests     (§3.8.2)
//                              retractions        (no route left)
//
// A route's metric is advertised metric + link cost, saturating at infinity
// (§3.5.2). Its feasibility is judged on the advertised metric (§3.5.1) and is
// re-evaluated against the SourceTable at every selection, because the table
// changes when the core advertises.
//
// Hysteresis (§3.6 leaves the choice to the implementation): the selected
// route stays selected while it is feasible with a finite metric, unless
// another feasible route's metric is smaller by more than `switch_margin`.
// babeld instead smooths metrics over time; a fixed margin is simpler and,
// with link costs that already carry their own hysteresis (link_cost.h),
// keeps RTT noise from flapping routes.
//
// Source-specific routes (RFC 9079): a destination is (prefix, source prefix);
// each is selected independently.
//
// Threading: not thread-safe; owned by the Babel core on the control thread.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "babel/constants.h"
#include "babel/flat_hash_map.h"
#include "babel/key_hash.h"
#include "babel/metric.h"
#include "babel/neighbour.h"
#include "babel/router_id.h"
#include "babel/seqno.h"
#include "babel/source_table.h"
#include "babel/tlv.h"
#include "base/ip.h"
#include "base/time.h"

namespace plexus::babel {

// A destination: what route selection picks one route for (RFC 9079 §5).
struct Destination {
  Prefix prefix;
  std::optional<Prefix> source_prefix;
  auto operator<=>(const Destination&) const = default;  // NOLINT(modernize-use-nullptr)
};

struct DestinationHash {
  size_t operator()(const Destination& d) const {
    return HashPrefix(HashPrefix(0, d.prefix), d.source_prefix);
  }
};

// RFC 8966 §3.2.6: a route table entry is indexed by destination and neighbour.
struct RouteKey {
  Destination destination;
  NeighbourKey neighbour;
  auto operator<=>(const RouteKey&) const = default;  // NOLINT(modernize-use-nullptr)
};

struct Route {
  RouteKey key;
  RouterId router_id;
  Seqno seqno;
  Metric advertised_metric;  // as received in the Update
  Metric link_cost;          // the neighbour's cost (§3.4.3)
  std::optional<IpAddress> next_hop;
  Timestamp expires_at;     // §3.5.4 expiry timer
  Duration expiry_time{0};  // 3.5 x the Interval of the last Update
  bool feasible = false;    // §3.5.1 against the SourceTable, at the last selection
  bool selected = false;

  // RFC 8966 §3.5.2: M(c, m) = c + m, infinity if either is.
  Metric metric() const { return advertised_metric + link_cost; }
  SourceKey source() const {
    return {key.destination.prefix, key.destination.source_prefix, router_id};
  }
  // Route selection (§3.6) only considers feasible routes with a finite metric.
  bool IsSelectable() const { return feasible && !metric().IsInfinite(); }
};

// The selected route of `destination` changed: a new route, no route any more
// (new_route empty: send a retraction), or the selected route changed its
// router-id (§3.5.3: an update MUST be sent). Both routes are copies taken
// before and after the change.
struct SelectionChange {
  Destination destination;
  std::optional<Route> old_route;
  std::optional<Route> new_route;
};

// A Seqno Request to send (RFC 8966 §3.8.2): to `neighbour` by unicast, or to
// every neighbour when empty.
struct SeqnoRequestNeeded {
  Destination destination;
  RouterId router_id;
  Seqno seqno;
  std::optional<NeighbourKey> neighbour;
};

struct RouteEvents {
  std::vector<SelectionChange> selection_changed;
  std::vector<SeqnoRequestNeeded> seqno_requests;
  // Destinations that had a selected route and now have none (also reported
  // in selection_changed with an empty new_route).
  std::vector<Destination> retractions;
};

struct RouteTableParams {
  // A feasible route replaces the selected one only when its metric is
  // smaller by more than this (see the file comment).
  uint16_t switch_margin = 32;
  // Route expiry time as a multiple of the Update interval (RFC 8966
  // Appendix B: 3.5), stored as a ratio to stay in integer arithmetic.
  int expiry_multiple_num = 7;
  int expiry_multiple_den = 2;
};

class RouteTable {
 public:
  explicit RouteTable(RouteTableParams params = {}) : params_(params) {}

  // RFC 8966 §3.5.3: an Update received from `neighbour`, whose current cost
  // is `link_cost`. A wildcard Update retracts every route of the neighbour.
  RouteEvents OnUpdate(const NeighbourKey& neighbour, Metric link_cost, const Update& update,
                       const SourceTable& sources, Timestamp now);

  // The cost of `neighbour` changed (NeighbourEvents::cost_changed); an
  // infinite cost makes its routes unselectable. Routes are kept until they
  // expire or RemoveNeighbour is called.
  RouteEvents OnNeighbourCost(const NeighbourKey& neighbour, Metric link_cost,
                              const SourceTable& sources);

  // The neighbour is gone (NeighbourEvents::removed): flush its routes.
  RouteEvents RemoveNeighbour(const NeighbourKey& neighbour, const SourceTable& sources);

  // Re-evaluates feasibility and selection for every destination, e.g. after
  // the core advertised routes (SourceTable::OnAdvertised) or the source
  // table collected entries.
  RouteEvents Reselect(const SourceTable& sources);

  // RFC 8966 §3.5.4: a route whose expiry timer fired gets an infinite
  // metric and a new expiry timer; a route already infinite is flushed.
  RouteEvents Tick(Timestamp now, const SourceTable& sources);
  // The earliest expiry timer; Timestamp::Infinite() if the table is empty.
  Timestamp NextDeadline() const;

  // Prefetching for a batch of lookups (a received packet's Updates):
  // Prefetch(d) for each destination first, then PrefetchRoutes(d) for each.
  void Prefetch(const Destination& destination) const { routes_.Prefetch(destination); }
  void PrefetchRoutes(const Destination& destination) const;

  const Route* Find(const RouteKey& key) const;
  const Route* Selected(const Destination& destination) const;
  std::vector<Route> RoutesTo(const Destination& destination) const;
  // The routes of one destination, in neighbour order; at most one selected.
  using Routes = std::vector<Route>;
  // Calls fn(destination, routes) for every destination, in destination
  // order (so every route in key order: destination, then neighbour).
  template <typename Fn>
  void ForEachDestination(Fn&& fn) const {
    for (const Destination& destination : Order()) fn(destination, *routes_.find(destination));
  }
  size_t size() const { return size_; }

 private:
  void ApplyUpdate(Route& route, const Update& update, Metric link_cost, Timestamp now) const;
  RouteEvents RetractAll(const NeighbourKey& neighbour, const SourceTable& sources);
  // Applies `apply` to every route `affects` selects (erasing it when
  // `apply` returns true), then reselects each destination it touched, in
  // destination order.
  template <typename Affects, typename Apply>
  RouteEvents PassOverRoutes(const SourceTable& sources, Affects affects, Apply apply);
  void Select(const Destination& destination, Routes& routes, const SourceTable& sources,
              const std::optional<Route>& previous, RouteEvents& events);
  Route* ChooseBest(Routes& routes, Route* current) const;
  static void ReportLoss(const Route& old_route, const SourceTable& sources, RouteEvents& events);
  // The destinations, sorted; re-sorted here after destinations came or went.
  const std::vector<Destination>& Order() const;

  RouteTableParams params_;
  // Grouped by destination: a lookup is one probe, and selection (§3.6)
  // touches one small vector.
  FlatHashMap<Destination, Routes, DestinationHash> routes_;
  // The keys of routes_ in order, for the walks whose order shows on the
  // wire (full updates, expiry); a cache, hence mutable.
  mutable std::vector<Destination> order_;
  mutable bool order_stale_ = false;
  size_t size_ = 0;
};

}  // namespace plexus::babel
