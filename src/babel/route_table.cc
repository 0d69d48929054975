#include "babel/route_table.h"

#include <algorithm>

namespace plexus::babel {

namespace {

// The route through `neighbour` among one destination's routes (a handful:
// one per neighbour that announced it), or null.
template <typename RoutesT>  // RouteTable::Routes, const or not
auto* FindNeighbour(RoutesT& routes, const NeighbourKey& neighbour) {
  for (auto& route : routes) {
    if (route.key.neighbour == neighbour) return &route;
  }
  return static_cast<decltype(&routes.front())>(nullptr);
}

template <typename RoutesT>
auto* FindSelected(RoutesT& routes) {
  for (auto& route : routes) {
    if (route.selected) return &route;
  }
  return static_cast<decltype(&routes.front())>(nullptr);
}

}  // namespace

// RFC 8966 §3.5.3. Differences from the letter of the RFC, both allowed by it:
// an unfeasible update for a route we do not have creates an (unselectable)
// route rather than being ignored, so starvation is visible; an unfeasible
// update for the selected route is applied (the route is unselected) rather
// than ignored, and a unicast Seqno Request for the feasibility distance's
// seqno + 1 is asked of that neighbour (§3.8.2.2) when it is not a retraction.
RouteEvents RouteTable::OnUpdate(const NeighbourKey& neighbour, Metric link_cost,
                                 const Update& update, const SourceTable& sources, Timestamp now) {
  if (update.wildcard) return RetractAll(neighbour, sources);
  const Destination destination{update.prefix, update.source_prefix};
  RouteEvents events;
  Routes* routes = routes_.find(destination);
  Route* route = routes == nullptr ? nullptr : FindNeighbour(*routes, neighbour);
  if (route == nullptr) {
    // §3.5.3: a retraction of a route we do not know is ignored.
    if (update.IsRetraction() || !update.router_id) return events;
    if (routes == nullptr) {
      routes = routes_.try_emplace(destination).first;
      order_stale_ = true;
    }
    const auto at = std::find_if(routes->begin(), routes->end(),
                                 [&](const Route& r) { return neighbour < r.key.neighbour; });
    Route added;
    added.key = {destination, neighbour};
    added.router_id = *update.router_id;
    route = &*routes->insert(at, added);
    ++size_;
  }
  std::optional<Route> previous;
  if (route->selected) previous = *route;
  ApplyUpdate(*route, update, link_cost, now);
  const SourceKey source = route->source();
  // §3.8.2.1: an unfeasible update for the selected route, or for a
  // destination with no selected route at all (starvation, which must not
  // last until the source entry is collected), asks for a newer seqno.
  const bool starving = !previous && FindSelected(*routes) == nullptr;
  if ((previous || starving) && !update.IsRetraction() &&
      !sources.IsFeasible(source, update.seqno, update.metric)) {
    const Seqno wanted = sources.Find(source)->seqno.Next();
    events.seqno_requests.push_back({destination, source.router_id, wanted, neighbour});
  }
  Select(destination, *routes, sources, previous, events);
  return events;
}

void RouteTable::ApplyUpdate(Route& route, const Update& update, Metric link_cost,
                             Timestamp now) const {
  route.seqno = update.seqno;
  route.advertised_metric = update.metric;
  route.link_cost = link_cost;
  if (update.router_id) route.router_id = *update.router_id;
  if (update.next_hop) route.next_hop = update.next_hop;
  if (update.IsRetraction()) return;  // §3.5.3: the expiry timer is only reset by finite updates
  const Duration interval = std::chrono::duration_cast<Duration>(update.interval);
  route.expiry_time = interval * params_.expiry_multiple_num / params_.expiry_multiple_den;
  route.expires_at = now + route.expiry_time;
}

template <typename Affects, typename Apply>
RouteEvents RouteTable::PassOverRoutes(const SourceTable& sources, Affects affects, Apply apply) {
  RouteEvents events;
  std::vector<Destination> emptied;
  for (const Destination& destination : Order()) {
    Routes& routes = *routes_.find(destination);
    bool touched = false;
    std::optional<Route> previous;  // the selected route before the change
    for (auto route = routes.begin(); route != routes.end();) {
      if (!affects(*route)) {
        ++route;
        continue;
      }
      touched = true;
      if (route->selected) previous = *route;
      if (apply(*route)) {
        route = routes.erase(route);
        --size_;
      } else {
        ++route;
      }
    }
    if (touched) Select(destination, routes, sources, previous, events);
    if (routes.empty()) emptied.push_back(destination);
  }
  for (const Destination& destination : emptied) routes_.erase(destination);
  if (!emptied.empty()) order_stale_ = true;
  return events;
}

// RFC 8966 §4.6.9: an Update with AE 0 retracts every route of the neighbour.
RouteEvents RouteTable::RetractAll(const NeighbourKey& neighbour, const SourceTable& sources) {
  return PassOverRoutes(
      sources, [&](const Route& route) { return route.key.neighbour == neighbour; },
      [](Route& route) {
        route.advertised_metric = Metric::Infinity();
        return false;
      });
}

RouteEvents RouteTable::OnNeighbourCost(const NeighbourKey& neighbour, Metric link_cost,
                                        const SourceTable& sources) {
  return PassOverRoutes(
      sources,
      [&](const Route& route) {
        return route.key.neighbour == neighbour && route.link_cost != link_cost;
      },
      [&](Route& route) {
        route.link_cost = link_cost;
        return false;
      });
}

RouteEvents RouteTable::RemoveNeighbour(const NeighbourKey& neighbour, const SourceTable& sources) {
  return PassOverRoutes(
      sources, [&](const Route& route) { return route.key.neighbour == neighbour; },
      [](Route&) { return true; });
}

RouteEvents RouteTable::Reselect(const SourceTable& sources) {
  return PassOverRoutes(
      sources, [](const Route&) { return true; }, [](Route&) { return false; });
}

// RFC 8966 §3.5.4.
RouteEvents RouteTable::Tick(Timestamp now, const SourceTable& sources) {
  return PassOverRoutes(
      sources, [now](const Route& route) { return route.expires_at <= now; },
      [now](Route& route) {
        if (route.advertised_metric.IsInfinite()) return true;
        route.advertised_metric = Metric::Infinity();
        route.expires_at = now + route.expiry_time;
        return false;
      });
}

Timestamp RouteTable::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [destination, routes] : routes_) {
    for (const Route& route : routes) earliest = std::min(earliest, route.expires_at);
  }
  return earliest;
}

const std::vector<Destination>& RouteTable::Order() const {
  if (!order_stale_) return order_;
  order_.clear();
  order_.reserve(routes_.size());
  for (const auto& [destination, routes] : routes_) order_.push_back(destination);
  std::sort(order_.begin(), order_.end());
  order_stale_ = false;
  return order_;
}

// RFC 8966 §3.6, with the hysteresis described in route_table.h.
void RouteTable::Select(const Destination& destination, Routes& routes, const SourceTable& sources,
                        const std::optional<Route>& previous, RouteEvents& events) {
  Route* current = nullptr;
  // The routes of one destination mostly share one source (the originator's
  // router-id): look each source up once.
  std::optional<RouterId> looked_up;
  std::optional<FeasibilityDistance> distance;
  for (Route& route : routes) {
    if (route.selected) current = &route;
    if (route.advertised_metric.IsInfinite()) {
      route.feasible = true;  // §3.5.1: retractions are always feasible
      continue;
    }
    if (looked_up != route.router_id) {
      distance = sources.Find(route.source());
      looked_up = route.router_id;
    }
    route.feasible = IsFeasible(route.seqno, route.advertised_metric, distance);
  }
  std::optional<Route> old_route = previous;
  if (!old_route && current != nullptr) old_route = *current;
  Route* chosen = ChooseBest(routes, current);
  if (current != nullptr) current->selected = false;
  std::optional<Route> new_route;
  if (chosen != nullptr) {
    chosen->selected = true;
    new_route = *chosen;
  }
  if (!old_route && !new_route) return;
  if (old_route && new_route && old_route->key == new_route->key &&
      old_route->router_id == new_route->router_id) {
    return;
  }
  events.selection_changed.push_back({destination, old_route, new_route});
  if (!new_route) ReportLoss(*old_route, sources, events);
}

Route* RouteTable::ChooseBest(Routes& routes, Route* current) const {
  Route* best = nullptr;
  for (Route& route : routes) {
    if (!route.IsSelectable()) continue;
    if (best == nullptr || route.metric() < best->metric()) best = &route;
  }
  if (current == nullptr || best == nullptr || !current->IsSelectable()) return best;
  const uint32_t candidate = uint32_t{best->metric().value()} + params_.switch_margin;
  return candidate < current->metric().value() ? best : current;
}

// The destination lost its last selectable route: the core must retract it,
// and (RFC 8966 §3.8.2.1, avoiding starvation) ask every neighbour for a
// newer seqno when a feasibility distance could make other routes unfeasible.
void RouteTable::ReportLoss(const Route& old_route, const SourceTable& sources,
                            RouteEvents& events) {
  const Destination& destination = old_route.key.destination;
  events.retractions.push_back(destination);
  const std::optional<FeasibilityDistance> distance = sources.Find(old_route.source());
  if (!distance) return;
  events.seqno_requests.push_back(
      {destination, old_route.router_id, distance->seqno.Next(), std::nullopt});
}

void RouteTable::PrefetchRoutes(const Destination& destination) const {
  const Routes* routes = routes_.find(destination);
  if (routes == nullptr || routes->empty()) return;
  const auto* first = reinterpret_cast<const char*>(routes->data());
  const auto* end = reinterpret_cast<const char*>(routes->data() + routes->size());
  for (const char* line = first; line < end; line += 64) __builtin_prefetch(line);
}

const Route* RouteTable::Find(const RouteKey& key) const {
  const Routes* routes = routes_.find(key.destination);
  return routes == nullptr ? nullptr : FindNeighbour(*routes, key.neighbour);
}

const Route* RouteTable::Selected(const Destination& destination) const {
  const Routes* routes = routes_.find(destination);
  return routes == nullptr ? nullptr : FindSelected(*routes);
}

std::vector<Route> RouteTable::RoutesTo(const Destination& destination) const {
  const Routes* routes = routes_.find(destination);
  return routes == nullptr ? std::vector<Route>{} : *routes;
}

}  // namespace plexus::babel
