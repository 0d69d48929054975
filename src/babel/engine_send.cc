// Engine::Impl: what goes on the wire. Every TLV is queued in the
// UpdateBuffer and packed when the public call ends (Engine::Impl::Finish).
//
// Targets: an Update or request goes multicast on one interface, multicast
// on every interface (target and interface_id empty), or unicast to one
// neighbour. Updates carry the sending interface's update interval and, when
// not retractions, its link-local address as next hop: IPv4 prefixes thus go
// out with AE 4 (RFC 9229), and PacketWriter emits Next Hop / Router-Id TLVs
// only when the receiver's parser state needs them.
#include <algorithm>

#include "babel/engine_impl.h"

namespace plexus::babel {

// RFC 8966 §3.4.1 and §3.4.2: a multicast Hello, and an IHU to every
// neighbour of the interface with it (plexus links are lossy tunnels), each
// echoing that neighbour's last Hello timestamp (RFC 9616 §3.2).
void Engine::Impl::SendHello(Interface& interface, Timestamp now) {
  QueueOn(interface, std::nullopt, interface.MakeHello(now));
  const LinkParams& params = interface.params().link;
  for (const NeighbourKey& key : neighbours_.Keys(interface.id())) {
    const Neighbour* neighbour = neighbours_.Find(key);
    Ihu ihu{neighbour->Rxcost(params), interface.hello_interval(), key.address, std::nullopt};
    if (const std::optional<IhuEcho> echo = neighbour->ihu_echo()) {
      ihu.timestamp = IhuTimestamp{echo->origin, echo->receive};
    }
    QueueOn(interface, std::nullopt, ihu);
  }
}

// RFC 8966 §3.8.2.1: a new interface asks for a full update.
void Engine::Impl::SendWildcardRequest(const Interface& interface) {
  QueueOn(interface, std::nullopt, RouteRequest{});
}

void Engine::Impl::SendRequest(const OutgoingRequest& request) {
  const Tlv tlv = std::visit([](const auto& t) -> Tlv { return t; }, request.tlv);
  if (request.neighbour) {
    const auto it = interfaces_.find(request.neighbour->interface_id);
    if (it != interfaces_.end()) QueueOn(it->second, request.neighbour->address, tlv);
    return;
  }
  for (const auto& [id, interface] : interfaces_) QueueOn(interface, std::nullopt, tlv);
}

// RFC 8966 §3.7.1: every own prefix and every selected route.
void Engine::Impl::SendFullUpdate(const Target& target, std::optional<uint32_t> interface_id,
                                  Timestamp now) {
  ++stats_.full_updates_sent;
  for (const XrouteOutput& xroute : xroutes_.Announcements()) {
    SendXroute(xroute, target, interface_id);
  }
  routes_.ForEachDestination([&](const Destination& destination, const RouteTable::Routes& routes) {
    for (const Route& route : routes) {
      if (!route.selected || xroutes_.Find(destination)) continue;
      SendRoute(route, target, now, interface_id);
    }
  });
}

Update Engine::Impl::XrouteUpdate(const XrouteOutput& xroute) {
  Update update;
  update.prefix = xroute.destination.prefix;
  update.source_prefix = xroute.destination.source_prefix;
  update.seqno = xroute.seqno;
  update.metric = xroute.metric;
  update.router_id = xroute.router_id;
  return update;
}

void Engine::Impl::SendXroute(const XrouteOutput& xroute, const Target& target,
                              std::optional<uint32_t> interface_id) {
  SendUpdate(XrouteUpdate(xroute), target, interface_id);
}

// RFC 8966 §3.7.3: advertising a route updates its source's feasibility
// distance. What was multicast on every interface is what triggered updates
// compare against (ReconcileAdvertised); a periodic update on one interface
// only records a destination not yet recorded, so it will be retracted.
void Engine::Impl::SendRoute(const Route& route, const Target& target, Timestamp now,
                             std::optional<uint32_t> interface_id) {
  const Destination& destination = route.key.destination;
  Update update;
  update.prefix = destination.prefix;
  update.source_prefix = destination.source_prefix;
  update.seqno = route.seqno;
  update.metric = route.metric();
  update.router_id = route.router_id;
  sources_.OnAdvertised(route.source(), {route.seqno, route.metric()}, now);
  source_deadline_ = std::min(source_deadline_, now + params_.source_gc_time);
  if (!target && (!interface_id || !advertised_.contains(destination))) {
    advertised_[destination] = {route.router_id, route.seqno, route.metric(), route.key.neighbour};
  }
  if (!target) urgent_.erase(destination);
  SendUpdate(update, target, interface_id);
}

// RFC 8966 §3.8.1.1: an update for `destination`, or a retraction if we have
// no route to it.
void Engine::Impl::SendAnswer(const Destination& destination, const Target& target, Timestamp now) {
  if (const std::optional<XrouteOutput> xroute = xroutes_.Announcement(destination)) {
    SendXroute(*xroute, target);
  } else if (const Route* route = routes_.Selected(destination)) {
    SendRoute(*route, target, now);
  } else {
    // With the router-id and seqno we last announced, if any, so the
    // receiver's route keeps its source (§3.5.3 applies the router-id).
    const Advertised* last = advertised_.find(destination);
    Update retraction;
    retraction.prefix = destination.prefix;
    retraction.source_prefix = destination.source_prefix;
    retraction.seqno = last != nullptr ? last->seqno : xroutes_.seqno();
    retraction.router_id = last != nullptr ? last->router_id : router_id();
    retraction.metric = Metric::Infinity();
    SendUpdate(retraction, target);
  }
}

// RFC 8966 §3.7.2: retractions are sent on every interface, then resent
// (urgently) a few times in case one is lost.
void Engine::Impl::SendRetraction(const Destination& destination, const Advertised& last,
                                  Timestamp now) {
  Update update;
  update.prefix = destination.prefix;
  update.source_prefix = destination.source_prefix;
  update.seqno = last.seqno;
  update.metric = Metric::Infinity();
  update.router_id = last.router_id;
  ++stats_.retractions_sent;
  SendUrgently(update, now);
}

// Sends `update` on every interface now and params_.retraction_sends - 1
// more times, kUrgentTimeout apart, unless superseded meanwhile.
void Engine::Impl::SendUrgently(const Update& update, Timestamp now) {
  SendUpdate(update, std::nullopt);
  const Destination destination{update.prefix, update.source_prefix};
  if (params_.retraction_sends > 1) {
    urgent_[destination] = {update, params_.retraction_sends - 1, now + kUrgentTimeout};
  }
}

// A retraction is superseded by a route or an own prefix; an own prefix's
// announcement by its removal or a newer seqno.
bool Engine::Impl::Superseded(const Destination& destination, const Update& update) const {
  if (update.IsRetraction()) {
    return routes_.Selected(destination) != nullptr || xroutes_.Find(destination) != nullptr;
  }
  return xroutes_.Find(destination) == nullptr || xroutes_.seqno() != update.seqno;
}

void Engine::Impl::ResendUrgentUpdates(Timestamp now) {
  for (auto it = urgent_.begin(); it != urgent_.end();) {
    UrgentUpdate& urgent = it->second;
    if (Superseded(it->first, urgent.update)) {
      it = urgent_.erase(it);
      continue;
    }
    if (urgent.deadline <= now) {
      SendUpdate(urgent.update, std::nullopt);
      urgent.deadline = now + kUrgentTimeout;
      if (--urgent.sends_left <= 0) {
        it = urgent_.erase(it);
        continue;
      }
    }
    ++it;
  }
}

void Engine::Impl::SendUpdate(Update update, const Target& target,
                              std::optional<uint32_t> interface_id) {
  const auto fill = [&update](const Interface& interface) {
    update.interval = interface.update_interval();
    update.next_hop =
        update.IsRetraction() ? std::nullopt : std::optional<IpAddress>(interface.link_local());
  };
  if (target) {
    const auto it = interfaces_.find(target->interface_id);
    if (it == interfaces_.end()) return;
    fill(it->second);
    QueueOn(it->second, target->address, update);
    return;
  }
  for (const auto& [id, interface] : interfaces_) {
    if (interface_id && id != *interface_id) continue;
    fill(interface);
    QueueOn(interface, std::nullopt, update);
  }
}

void Engine::Impl::QueueOn(const Interface& interface, const std::optional<IpAddress>& to,
                           const Tlv& tlv) {
  buffer_.Add(interface.id(), to, tlv);
}

}  // namespace plexus::babel
