#include "babel/route_table.h"

#include <algorithm>

namespace plexus::babel {

namespace {

// The first key of `destination` in the map's order: NeighbourKey{} (interface
// 0, the all-zero IPv4 address) sorts before every neighbour.
RouteKey FirstKey(const Destination& destination) {
  return {destination, NeighbourKey{}};
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
  const RouteKey key{destination, neighbour};
  RouteEvents events;
  auto it = routes_.find(key);
  if (it == routes_.end()) {
    // §3.5.3: a retraction of a route we do not know is ignored.
    if (update.IsRetraction() || !update.router_id) return events;
    Route route;
    route.key = key;
    route.router_id = *update.router_id;
    it = routes_.emplace(key, route).first;
  }
  std::optional<Route> previous;
  if (it->second.selected) previous = it->second;
  ApplyUpdate(it->second, update, link_cost, now);
  const SourceKey source = it->second.source();
  // §3.8.2.1: an unfeasible update for the selected route, or for a
  // destination with no selected route at all (starvation, which must not
  // last until the source entry is collected), asks for a newer seqno.
  const bool starving = !previous && Selected(destination) == nullptr;
  if ((previous || starving) && !update.IsRetraction() &&
      !sources.IsFeasible(source, update.seqno, update.metric)) {
    const Seqno wanted = sources.Find(source)->seqno.Next();
    events.seqno_requests.push_back({destination, source.router_id, wanted, neighbour});
  }
  Select(destination, sources, previous, events);
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

// RFC 8966 §4.6.9: an Update with AE 0 retracts every route of the neighbour.
RouteEvents RouteTable::RetractAll(const NeighbourKey& neighbour, const SourceTable& sources) {
  Touched touched;
  for (auto& [key, route] : routes_) {
    if (key.neighbour != neighbour) continue;
    Touch(touched, route);
    route.advertised_metric = Metric::Infinity();
  }
  return SelectAll(touched, sources);
}

RouteEvents RouteTable::OnNeighbourCost(const NeighbourKey& neighbour, Metric link_cost,
                                        const SourceTable& sources) {
  Touched touched;
  for (auto& [key, route] : routes_) {
    if (key.neighbour != neighbour || route.link_cost == link_cost) continue;
    Touch(touched, route);
    route.link_cost = link_cost;
  }
  return SelectAll(touched, sources);
}

RouteEvents RouteTable::RemoveNeighbour(const NeighbourKey& neighbour, const SourceTable& sources) {
  Touched touched;
  for (auto it = routes_.begin(); it != routes_.end();) {
    if (it->first.neighbour != neighbour) {
      ++it;
      continue;
    }
    Touch(touched, it->second);
    it = routes_.erase(it);
  }
  return SelectAll(touched, sources);
}

RouteEvents RouteTable::Reselect(const SourceTable& sources) {
  Touched touched;
  for (const auto& [key, route] : routes_) touched.try_emplace(key.destination);
  return SelectAll(touched, sources);
}

// RFC 8966 §3.5.4.
RouteEvents RouteTable::Tick(Timestamp now, const SourceTable& sources) {
  Touched touched;
  for (auto it = routes_.begin(); it != routes_.end();) {
    Route& route = it->second;
    if (route.expires_at > now) {
      ++it;
      continue;
    }
    Touch(touched, route);
    if (route.advertised_metric.IsInfinite()) {
      it = routes_.erase(it);
      continue;
    }
    route.advertised_metric = Metric::Infinity();
    route.expires_at = now + route.expiry_time;
    ++it;
  }
  return SelectAll(touched, sources);
}

Timestamp RouteTable::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [key, route] : routes_) earliest = std::min(earliest, route.expires_at);
  return earliest;
}

void RouteTable::Touch(Touched& touched, const Route& route) {
  std::optional<Route>& previous = touched[route.key.destination];
  if (route.selected) previous = route;
}

RouteEvents RouteTable::SelectAll(const Touched& touched, const SourceTable& sources) {
  RouteEvents events;
  for (const auto& [destination, previous] : touched) {
    Select(destination, sources, previous, events);
  }
  return events;
}

RouteTable::Map::iterator RouteTable::End(const Destination& destination) {
  auto it = routes_.lower_bound(FirstKey(destination));
  while (it != routes_.end() && it->first.destination == destination) ++it;
  return it;
}

// RFC 8966 §3.6, with the hysteresis described in route_table.h.
void RouteTable::Select(const Destination& destination, const SourceTable& sources,
                        const std::optional<Route>& previous, RouteEvents& events) {
  const auto begin = routes_.lower_bound(FirstKey(destination));
  const auto end = End(destination);
  auto current = end;
  for (auto it = begin; it != end; ++it) {
    Route& route = it->second;
    route.feasible = sources.IsFeasible(route.source(), route.seqno, route.advertised_metric);
    if (route.selected) current = it;
  }
  std::optional<Route> old_route = previous;
  if (!old_route && current != end) old_route = current->second;
  const auto chosen = ChooseBest(begin, end, current);
  if (current != end) current->second.selected = false;
  std::optional<Route> new_route;
  if (chosen != end) {
    chosen->second.selected = true;
    new_route = chosen->second;
  }
  if (!old_route && !new_route) return;
  if (old_route && new_route && old_route->key == new_route->key &&
      old_route->router_id == new_route->router_id) {
    return;
  }
  events.selection_changed.push_back({destination, old_route, new_route});
  if (!new_route) ReportLoss(*old_route, sources, events);
}

RouteTable::Map::iterator RouteTable::ChooseBest(Map::iterator begin, Map::iterator end,
                                                 Map::iterator current) const {
  auto best = end;
  for (auto it = begin; it != end; ++it) {
    if (!it->second.IsSelectable()) continue;
    if (best == end || it->second.metric() < best->second.metric()) best = it;
  }
  if (current == end || best == end || !current->second.IsSelectable()) return best;
  const uint32_t candidate = uint32_t{best->second.metric().value()} + params_.switch_margin;
  return candidate < current->second.metric().value() ? best : current;
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

const Route* RouteTable::Find(const RouteKey& key) const {
  auto it = routes_.find(key);
  return it == routes_.end() ? nullptr : &it->second;
}

const Route* RouteTable::Selected(const Destination& destination) const {
  for (auto it = routes_.lower_bound(FirstKey(destination));
       it != routes_.end() && it->first.destination == destination; ++it) {
    if (it->second.selected) return &it->second;
  }
  return nullptr;
}

std::vector<Route> RouteTable::RoutesTo(const Destination& destination) const {
  std::vector<Route> out;
  for (auto it = routes_.lower_bound(FirstKey(destination));
       it != routes_.end() && it->first.destination == destination; ++it) {
    out.push_back(it->second);
  }
  return out;
}

}  // namespace plexus::babel
