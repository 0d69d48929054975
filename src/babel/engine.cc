#include "babel/engine.h"

#include <algorithm>

#include "babel/engine_impl.h"

namespace plexus::babel {

// ---- Impl: public calls ----------------------------------------------------

Engine::Impl::Impl(const EngineParams& params, Random& random, Timestamp now)
    : params_(params),
      random_(random),
      neighbours_(params.interface.link),
      sources_(params.source_gc_time),
      routes_(params.routes),
      xroutes_(params.router_id,
               params.initial_seqno.value_or(Seqno(static_cast<uint16_t>(random.NextU32())))) {}

Status Engine::Impl::AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now,
                                  const InterfaceParams& params) {
  if (interfaces_.contains(id)) return MakeError("babel interface {} already exists", id);
  if (!link_local.IsLinkLocalV6()) {
    return MakeError("babel interface {}: {} is not an IPv6 link-local address", id,
                     link_local.ToString());
  }
  const Seqno hello_seqno(static_cast<uint16_t>(random_.NextU32()));
  interfaces_.try_emplace(id, id, link_local, params, hello_seqno);
  neighbours_.SetInterfaceParams(id, params.link);
  InterfaceUp(id, now);
  return Ok();
}

void Engine::Impl::RemoveInterface(uint32_t id, Timestamp now) {
  if (!interfaces_.contains(id)) return;
  DeclareInterfaceDown(id, now);
  // Routes learned on it from senders that never became neighbours.
  std::set<NeighbourKey> senders;
  routes_.ForEachDestination([&](const Destination& destination, const RouteTable::Routes& routes) {
    for (const Route& route : routes) {
      if (route.key.neighbour.interface_id == id) senders.insert(route.key.neighbour);
    }
  });
  for (const NeighbourKey& sender : senders) {
    ApplyRouteEvents(routes_.RemoveNeighbour(sender, sources_), now);
  }
  all_dirty_ = true;
  interfaces_.erase(id);
  buffer_.Drop(id);
  Finish(now);
}

void Engine::Impl::InterfaceDown(uint32_t id, Timestamp now) {
  DeclareInterfaceDown(id, now);
  Finish(now);
}

void Engine::Impl::InterfaceUp(uint32_t id, Timestamp now) {
  auto it = interfaces_.find(id);
  if (it == interfaces_.end()) return;
  SendHello(it->second, now);
  SendWildcardRequest(it->second);
  SendFullUpdate(std::nullopt, id, now);
  it->second.ScheduleUpdate(now, random_);
  Finish(now);
}

void Engine::Impl::AddPrefix(const Destination& destination, Timestamp now) {
  if (const std::optional<XrouteOutput> out = xroutes_.Add(destination)) {
    SendXroute(*out, std::nullopt);
    advertised_.erase(destination);
    urgent_.erase(destination);
    dirty_.push_back(destination);
  }
  Finish(now);
}

// A destination we stop originating is retracted, unless another node
// originates it too and we have a route to it: then that route is announced.
void Engine::Impl::RemovePrefix(const Destination& destination, Timestamp now) {
  if (const std::optional<XrouteOutput> out = xroutes_.Remove(destination)) {
    if (routes_.Selected(destination) == nullptr) {
      Advertised last{out->router_id, out->seqno, Metric(0), NeighbourKey{}};
      SendRetraction(destination, last, now);
    }
    dirty_.push_back(destination);
  }
  Finish(now);
}

void Engine::Impl::Receive(uint32_t interface_id, const IpAddress& source, ByteSpan packet,
                           Timestamp now) {
  ++stats_.packets_received;
  stats_.bytes_received += packet.size();
  const auto it = interfaces_.find(interface_id);
  if (it == interfaces_.end()) {
    ++stats_.unknown_interface;
    return;
  }
  if (source == it->second.link_local()) return;  // our own multicast, looped back
  Result<Packet> decoded = DecodePacket(packet, source);
  if (!decoded) {
    ++stats_.malformed_packets;
    return;
  }
  stats_.skipped_tlvs += decoded->skipped.size();
  Received rx{it->second, NeighbourKey{interface_id, source}, std::nullopt, now};
  for (const Tlv& tlv : decoded->tlvs) {
    const Hello* hello = std::get_if<Hello>(&tlv);
    if (hello != nullptr && hello->timestamp) rx.hello_timestamp = hello->timestamp;
  }
  Prefetch(decoded->tlvs);
  for (const Tlv& tlv : decoded->tlvs) Dispatch(rx, tlv);
  Finish(now);
}

// A large mesh's tables do not fit in the cache, and a packet's Updates are
// for unrelated destinations: starting every lookup's memory loads first
// lets them overlap. Two rounds, since a destination's routes are found
// through its table slot.
void Engine::Impl::Prefetch(const std::vector<Tlv>& tlvs) const {
  const auto for_each_update = [&tlvs](const auto& fn) {
    for (const Tlv& tlv : tlvs) {
      const Update* update = std::get_if<Update>(&tlv);
      if (update != nullptr && !update->wildcard) fn(*update);
    }
  };
  for_each_update([this](const Update& update) {
    routes_.Prefetch({update.prefix, update.source_prefix});
    if (update.router_id)
      sources_.Prefetch({update.prefix, update.source_prefix, *update.router_id});
  });
  for_each_update([this](const Update& update) {
    routes_.PrefetchRoutes({update.prefix, update.source_prefix});
  });
}

// The same for the per-destination state that reconciliation and triggered
// updates read, a batch at a time (more would not stay in cache).
void Engine::Impl::Prefetch(std::span<const Destination> destinations) const {
  for (const Destination& destination : destinations) {
    routes_.Prefetch(destination);
    advertised_.Prefetch(destination);
    fib_.Prefetch(destination);
  }
  for (const Destination& destination : destinations) routes_.PrefetchRoutes(destination);
  for (const Destination& destination : destinations) {
    if (const Route* route = routes_.Selected(destination)) sources_.Prefetch(route->source());
  }
}

template <typename Fn>
void Engine::Impl::ForEachPrefetched(const std::vector<Destination>& destinations, Fn fn) const {
  constexpr size_t kBatch = 16;
  for (size_t begin = 0; begin < destinations.size(); begin += kBatch) {
    const auto batch =
        std::span(destinations).subspan(begin).first(std::min(kBatch, destinations.size() - begin));
    Prefetch(batch);
    for (const Destination& destination : batch) fn(destination);
  }
}

void Engine::Impl::Tick(Timestamp now) {
  ApplyNeighbourEvents(neighbours_.Tick(now), now);
  if (route_deadline_ <= now) {
    ApplyRouteEvents(routes_.Tick(now, sources_), now);
    route_deadline_ = routes_.NextDeadline();
  }
  if (source_deadline_ <= now) {
    if (sources_.Tick(now) > 0) ApplyRouteEvents(routes_.Reselect(sources_), now);
    source_deadline_ = sources_.NextDeadline();
  }
  for (const OutgoingRequest& request : requests_.Tick(now)) SendRequest(request);
  if (refresh_check_ <= now) RequestExpiringRoutes(now);
  ResendUrgentUpdates(now);
  TickInterfaces(now);
  Reconcile(now);
  SendTriggeredUpdates(now);
  Finish(now);
}

void Engine::Impl::TickInterfaces(Timestamp now) {
  for (auto& [id, interface] : interfaces_) {
    if (interface.HelloDue(now)) SendHello(interface, now);
    if (!interface.UpdateDue(now)) continue;
    SendFullUpdate(std::nullopt, id, now);
    interface.ScheduleUpdate(now, random_);
  }
}

// A selected route with less than one update interval (2/7 of its expiry
// time) left has missed at least two periodic updates: ask its neighbour for
// it by unicast before it expires (RFC 8966 §3.8.2 lets a node send a Route
// Request whenever it needs a route; the tracker resends and suppresses).
// The next check is when the next route enters that window.
void Engine::Impl::RequestExpiringRoutes(Timestamp now) {
  refresh_check_ = Timestamp::Infinite();
  routes_.ForEachDestination([&](const Destination& destination, const RouteTable::Routes& routes) {
    for (const Route& route : routes) {
      const Timestamp window = RefreshWindow(route);
      if (window > now) {
        refresh_check_ = std::min(refresh_check_, window);
      } else if (route.selected) {
        if (auto out = requests_.SendRouteRequest(destination, route.key.neighbour, now)) {
          SendRequest(*out);
        }
      }
    }
  });
}

Timestamp Engine::Impl::RefreshWindow(const Route& route) {
  return route.expires_at - route.expiry_time * 2 / 7;
}

std::vector<OutgoingPacket> Engine::Impl::TakeOutgoing() {
  std::vector<OutgoingPacket> out;
  out.swap(outgoing_);
  return out;
}

// ---- Impl: reactions to table events ----------------------------------------

// A neighbour's cost changes the metric of every route through it; which
// destinations those are is only known to the route table, so every
// destination is reconciled.
void Engine::Impl::ApplyNeighbourEvents(const NeighbourEvents& events, Timestamp now) {
  if (events.empty()) return;
  for (const CostChange& change : events.cost_changed) {
    ApplyRouteEvents(routes_.OnNeighbourCost(change.key, change.new_cost, sources_), now);
  }
  for (const NeighbourKey& key : events.removed) {
    ApplyRouteEvents(routes_.RemoveNeighbour(key, sources_), now);
  }
  all_dirty_ = true;
}

// Selection changes are reconciled at the end of the call; seqno requests
// (RFC 8966 §3.8.2) go out through the request tracker.
void Engine::Impl::ApplyRouteEvents(const RouteEvents& events, Timestamp now) {
  for (const SelectionChange& change : events.selection_changed) {
    dirty_.push_back(change.destination);
  }
  for (const SeqnoRequestNeeded& needed : events.seqno_requests) {
    SeqnoRequest request{needed.destination.prefix, needed.destination.source_prefix, needed.seqno,
                         kSeqnoRequestHopCount, needed.router_id};
    if (auto out = requests_.SendSeqnoRequest(request, needed.neighbour, now)) SendRequest(*out);
  }
}

// DESIGN.md §2.5: the transport went silent, so every neighbour on the
// interface is down at once.
void Engine::Impl::DeclareInterfaceDown(uint32_t id, Timestamp now) {
  for (const NeighbourKey& key : neighbours_.Keys(id)) {
    ApplyNeighbourEvents(neighbours_.DeclareDown(key, now), now);
  }
}

// ---- Impl: end of every call ------------------------------------------------

void Engine::Impl::SortUnique(std::vector<Destination>& destinations) {
  std::sort(destinations.begin(), destinations.end());
  destinations.erase(std::unique(destinations.begin(), destinations.end()), destinations.end());
}

void Engine::Impl::Finish(Timestamp now) {
  Reconcile(now);
  Flush();
  next_deadline_ = ComputeDeadline();
}

void Engine::Impl::Reconcile(Timestamp now) {
  ForEachPrefetched(DirtyDestinations(), [&](const Destination& destination) {
    ReconcileFib(destination);
    ReconcileAdvertised(destination, now);
  });
}

// Sorted, without repeats.
std::vector<Destination> Engine::Impl::DirtyDestinations() {
  std::vector<Destination> dirty;
  dirty.swap(dirty_);
  if (all_dirty_) {
    all_dirty_ = false;
    routes_.ForEachDestination(
        [&](const Destination& destination, const RouteTable::Routes& routes) {
          if (std::ranges::any_of(routes, &Route::selected)) dirty.push_back(destination);
        });
    for (const Destination& destination : fib_.Destinations()) dirty.push_back(destination);
    for (const auto& [destination, last] : advertised_) dirty.push_back(destination);
  }
  SortUnique(dirty);
  return dirty;
}

void Engine::Impl::ReconcileFib(const Destination& destination) {
  const Route* route = xroutes_.Find(destination) ? nullptr : routes_.Selected(destination);
  if (route == nullptr) {
    fib_.Set(destination, std::nullopt);
    return;
  }
  // The neighbour's own address, not a Next Hop TLV's (RFC 8966 §4.6.8
  // allows a third party): a plexus link has exactly one node at its end.
  const NeighbourKey& via = route->key.neighbour;
  fib_.Set(destination, InstalledRoute{destination, via.interface_id, via.address, route->metric(),
                                       route->router_id});
}

// RFC 8966 §3.7.2: a triggered update when the selected route is new or
// changed enough, a retraction when there is none any more.
void Engine::Impl::ReconcileAdvertised(const Destination& destination, Timestamp now) {
  if (xroutes_.Find(destination)) return;  // our own prefix: announced as an xroute
  const Route* route = routes_.Selected(destination);
  const Advertised* advertised = advertised_.find(destination);
  if (route == nullptr) {
    if (advertised == nullptr) return;
    const Advertised last = *advertised;
    advertised_.erase(destination);
    SendRetraction(destination, last, now);
    return;
  }
  if (!NeedsTriggeredUpdate(destination)) return;
  if (params_.triggered_update_delay <= Duration::zero()) {
    ++stats_.triggered_updates_sent;
    SendRoute(*route, std::nullopt, now);
    return;
  }
  triggered_.push_back(destination);
  triggered_deadline_ = std::min(triggered_deadline_, now + params_.triggered_update_delay);
}

// The selected route of `destination` differs enough from what we last
// announced (or we announced nothing yet).
bool Engine::Impl::NeedsTriggeredUpdate(const Destination& destination) const {
  const Route* route = routes_.Selected(destination);
  if (route == nullptr || xroutes_.Find(destination)) return false;
  const Advertised* advertised = advertised_.find(destination);
  if (advertised == nullptr) return true;
  const Advertised& last = *advertised;
  if (last.router_id != route->router_id || last.seqno != route->seqno) return true;
  if (last.via != route->key.neighbour) return true;
  const int change = std::abs(int{route->metric().value()} - int{last.metric.value()});
  return change >= params_.triggered_update_metric_change;
}

// The delayed triggered updates, as the routes stand now, in destination
// order; a periodic update or an answer in between may have made some
// unnecessary, a retraction since then all of them (no route left).
void Engine::Impl::SendTriggeredUpdates(Timestamp now) {
  if (triggered_deadline_ > now) return;
  SortUnique(triggered_);
  ForEachPrefetched(triggered_, [&](const Destination& destination) {
    if (!NeedsTriggeredUpdate(destination)) return;
    ++stats_.triggered_updates_sent;
    SendRoute(*routes_.Selected(destination), std::nullopt, now);
  });
  triggered_.clear();
  triggered_deadline_ = Timestamp::Infinite();
}

void Engine::Impl::Flush() {
  for (const auto& [id, interface] : interfaces_) {
    const FlushCounts counts =
        buffer_.Flush(id, interface.link_local(), interface.params().max_packet_size, outgoing_);
    stats_.packets_sent += counts.packets;
    stats_.bytes_sent += counts.bytes;
    stats_.updates_sent += counts.updates;
    stats_.requests_sent += counts.requests;
  }
}

// The cached route and source deadlines may be early (refreshes only move
// the tables' deadlines later); one that would decide the result is made
// exact first, which in the steady state is rare (Hello timers come sooner).
Timestamp Engine::Impl::ComputeDeadline() {
  Timestamp others = std::min(
      {neighbours_.NextDeadline(), requests_.NextDeadline(), triggered_deadline_, refresh_check_});
  for (const auto& [id, interface] : interfaces_) {
    others = std::min(others, interface.NextDeadline());
  }
  for (const auto& [destination, urgent] : urgent_) others = std::min(others, urgent.deadline);
  if (route_deadline_ < others) route_deadline_ = routes_.NextDeadline();
  if (source_deadline_ < others) source_deadline_ = sources_.NextDeadline();
  return std::min({others, route_deadline_, source_deadline_});
}

// ---- Impl: views -----------------------------------------------------------

std::vector<RouteInfo> Engine::Impl::Routes(Timestamp now) const {
  std::vector<RouteInfo> out;
  for (const XrouteOutput& xroute : xroutes_.Announcements()) {
    RouteInfo info;
    info.destination = xroute.destination;
    info.local = true;
    info.metric = info.advertised_metric = xroute.metric;
    info.link_cost = Metric(0);
    info.router_id = xroute.router_id;
    info.seqno = xroute.seqno;
    info.feasible = info.selected = true;
    out.push_back(info);
  }
  routes_.ForEachDestination([&](const Destination& destination, const RouteTable::Routes& routes) {
    for (const Route& route : routes) {
      const NeighbourKey& via = route.key.neighbour;
      const Neighbour* neighbour = neighbours_.Find(via);
      out.push_back(RouteInfo{destination, false, via.interface_id, via.address, route.metric(),
                              route.advertised_metric, route.link_cost,
                              neighbour ? neighbour->rtt(now) : std::nullopt, route.router_id,
                              route.seqno, route.feasible, route.selected});
    }
  });
  return out;
}

std::vector<NeighbourInfo> Engine::Impl::Neighbours(Timestamp now) const {
  std::vector<NeighbourInfo> out;
  for (const NeighbourKey& key : neighbours_.Keys()) {
    const Neighbour* neighbour = neighbours_.Find(key);
    const LinkParams& params = neighbours_.ParamsFor(key.interface_id);
    out.push_back({key, neighbour->Rxcost(params), neighbour->txcost(), neighbours_.Cost(key, now),
                   neighbour->rtt(now)});
  }
  return out;
}

// ---- Engine ----------------------------------------------------------------

Engine::Engine(const EngineParams& params, Random& random, Timestamp now)
    : impl_(std::make_unique<Impl>(params, random, now)) {}
Engine::~Engine() = default;

RouterId Engine::router_id() const {
  return impl_->router_id();
}

Seqno Engine::seqno() const {
  return impl_->seqno();
}
Status Engine::AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now,
                            std::optional<InterfaceParams> params) {
  return impl_->AddInterface(id, link_local, now, params.value_or(impl_->default_params()));
}
void Engine::RemoveInterface(uint32_t id, Timestamp now) {
  impl_->RemoveInterface(id, now);
}
void Engine::InterfaceDown(uint32_t id, Timestamp now) {
  impl_->InterfaceDown(id, now);
}
void Engine::InterfaceUp(uint32_t id, Timestamp now) {
  impl_->InterfaceUp(id, now);
}
void Engine::AddPrefix(const Destination& destination, Timestamp now) {
  impl_->AddPrefix(destination, now);
}
void Engine::RemovePrefix(const Destination& destination, Timestamp now) {
  impl_->RemovePrefix(destination, now);
}
void Engine::Receive(uint32_t interface_id, const IpAddress& source, ByteSpan packet,
                     Timestamp now) {
  impl_->Receive(interface_id, source, packet, now);
}
void Engine::Tick(Timestamp now) {
  impl_->Tick(now);
}
Timestamp Engine::NextDeadline() const {
  return impl_->NextDeadline();
}
std::vector<OutgoingPacket> Engine::TakeOutgoing() {
  return impl_->TakeOutgoing();
}
std::vector<InstalledRoute> Engine::Fib() const {
  return impl_->fib().Entries();
}
uint64_t Engine::fib_version() const {
  return impl_->fib().version();
}
std::optional<std::vector<Destination>> Engine::TakeFibChanges() {
  return impl_->TakeFibChanges();
}
std::optional<InstalledRoute> Engine::FibEntry(const Destination& destination) const {
  const InstalledRoute* route = impl_->fib().Find(destination);
  if (route == nullptr) return std::nullopt;
  return *route;
}
std::vector<RouteInfo> Engine::Routes(Timestamp now) const {
  return impl_->Routes(now);
}
std::vector<NeighbourInfo> Engine::Neighbours(Timestamp now) const {
  return impl_->Neighbours(now);
}
const EngineStats& Engine::stats() const {
  return impl_->stats();
}

}  // namespace plexus::babel
