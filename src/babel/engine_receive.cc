// Engine::Impl: handlers for received TLVs (RFC 8966 §3.4-§3.8). The packet
// was decoded by DecodePacket, so Updates arrive fully expanded (prefix,
// router-id and next hop from the parser state of §4.5).
#include <algorithm>
#include <variant>

#include "babel/engine_impl.h"
#include "babel/rtt.h"

namespace plexus::babel {

void Engine::Impl::Dispatch(const Received& rx, const Tlv& tlv) {
  if (const auto* hello = std::get_if<Hello>(&tlv)) return OnHello(rx, *hello);
  if (const auto* ihu = std::get_if<Ihu>(&tlv)) return OnIhu(rx, *ihu);
  if (const auto* update = std::get_if<Update>(&tlv)) return OnUpdate(rx, *update);
  if (const auto* request = std::get_if<RouteRequest>(&tlv)) return OnRouteRequest(rx, *request);
  if (const auto* request = std::get_if<SeqnoRequest>(&tlv)) return OnSeqnoRequest(rx, *request);
  if (const auto* ack = std::get_if<AckRequest>(&tlv)) return OnAckRequest(rx, *ack);
  // Padding and parser state are folded into the others. plexus itself never
  // asks for acknowledgments (links are point to point: urgent TLVs are resent
  // instead), but answers those another implementation asks for.
}

// RFC 8966 §3.3: an Ack Request is answered by a unicast Ack with its opaque
// value, before its interval runs out (it goes at the end of this call).
void Engine::Impl::OnAckRequest(const Received& rx, const AckRequest& request) {
  QueueOn(rx.interface, rx.from.address, Ack{request.opaque});
}

// RFC 8966 §3.4.1.
void Engine::Impl::OnHello(const Received& rx, const Hello& hello) {
  const HelloInfo info{hello.seqno, std::chrono::duration_cast<Duration>(hello.interval),
                       hello.IsUnicast(), hello.timestamp};
  ApplyNeighbourEvents(neighbours_.OnHello(rx.from, info, rx.now), rx.now);
}

// RFC 8966 §3.4.2: an IHU naming another node's address is not for us. RFC
// 9616 §3.4: its timestamps and those of this packet's Hello give an RTT sample.
void Engine::Impl::OnIhu(const Received& rx, const Ihu& ihu) {
  if (ihu.address && *ihu.address != rx.interface.link_local()) return;
  IhuInfo info{ihu.rxcost, std::chrono::duration_cast<Duration>(ihu.interval), std::nullopt};
  if (ihu.timestamp && rx.hello_timestamp) {
    info.rtt = RttTimestamps{ihu.timestamp->origin, ihu.timestamp->receive, *rx.hello_timestamp,
                             MicrosTimestamp(rx.now)};
  }
  ApplyNeighbourEvents(neighbours_.OnIhu(rx.from, info, rx.now), rx.now);
}

namespace {

// What of a route the Fib and our announcements depend on, besides which
// route is selected (a change of that comes as a RouteEvent).
struct RouteState {
  bool selected;
  Metric metric;
  Seqno seqno;
  RouterId router_id;
  std::optional<IpAddress> next_hop;
  bool operator==(const RouteState&) const = default;
};

std::optional<RouteState> StateOf(const Route* route) {
  if (route == nullptr) return std::nullopt;
  return RouteState{route->selected, route->metric(), route->seqno, route->router_id,
                    route->next_hop};
}

}  // namespace

// RFC 8966 §3.5.3. Updates carrying our own router-id describe our own
// routes coming back and are ignored. A refresh that changes nothing of a
// selected route leaves the destination clean (the common case: periodic
// updates). Requests the Update satisfies are answered: the requesters whose
// Seqno Requests we forwarded get our route.
void Engine::Impl::OnUpdate(const Received& rx, const Update& received) {
  ++stats_.updates_received;
  if (!received.wildcard && received.router_id == router_id()) return;
  const Update update = Filtered(rx, received);
  const Metric cost = neighbours_.Cost(rx.from, rx.now);
  if (update.wildcard) {
    ApplyRouteEvents(routes_.OnUpdate(rx.from, cost, update, sources_, rx.now), rx.now);
    return;
  }
  const Destination destination{update.prefix, update.source_prefix};
  const RouteKey key{destination, rx.from};
  const std::optional<RouteState> before = StateOf(routes_.Find(key));
  ApplyRouteEvents(routes_.OnUpdate(rx.from, cost, update, sources_, rx.now), rx.now);
  const Route* route = routes_.Find(key);
  if (route != nullptr) {
    route_deadline_ = std::min(route_deadline_, route->expires_at);
    refresh_check_ = std::min(refresh_check_, RefreshWindow(*route));
  }
  if (route != nullptr && route->selected && StateOf(route) != before) {
    dirty_.push_back(destination);
  }
  AnswerRequesters(update, rx.now);
}

// RFC 8966 Appendix C: an Update the input filter refuses counts as a
// retraction of the route.
Update Engine::Impl::Filtered(const Received& rx, const Update& update) {
  if (!params_.import_filter || update.wildcard || update.IsRetraction() || !update.router_id) {
    return update;
  }
  if (params_.import_filter(rx.interface.id(), *update.router_id,
                            {update.prefix, update.source_prefix})) {
    return update;
  }
  ++stats_.updates_filtered;
  Update refused = update;
  refused.metric = Metric::Infinity();
  return refused;
}

void Engine::Impl::AnswerRequesters(const Update& update, Timestamp now) {
  const Destination destination{update.prefix, update.source_prefix};
  for (const SatisfiedRequest& satisfied : requests_.OnUpdate(update)) {
    for (const NeighbourKey& requester : satisfied.requesters) {
      const Route* route = routes_.Selected(destination);
      if (route != nullptr) SendRoute(*route, requester, now);
    }
  }
}

// RFC 8966 §3.8.1.1: a wildcard request gets a full update, a specific one an
// update or a retraction; both by unicast to the requester.
void Engine::Impl::OnRouteRequest(const Received& rx, const RouteRequest& request) {
  ++stats_.requests_received;
  if (!request.prefix) {
    SendFullUpdate(rx.from, std::nullopt, rx.now);
    return;
  }
  SendAnswer({*request.prefix, request.source_prefix}, rx.from, rx.now);
}

// RFC 8966 §3.8.1.2.
void Engine::Impl::OnSeqnoRequest(const Received& rx, const SeqnoRequest& request) {
  ++stats_.requests_received;
  const Destination destination{request.prefix, request.source_prefix};
  switch (xroutes_.OnSeqnoRequest(destination, request.router_id, request.seqno)) {
    case XrouteSeqnoAnswer::kBumpAndSendUpdate:
      // The new seqno is what resolves starvation elsewhere: send it urgently.
      for (const XrouteOutput& xroute : xroutes_.Announcements()) {
        SendUrgently(XrouteUpdate(xroute), rx.now);
      }
      return;
    case XrouteSeqnoAnswer::kSendUpdate:
      SendXroute(*xroutes_.Announcement(destination), rx.from);
      return;
    case XrouteSeqnoAnswer::kNotOurs:
      break;
  }
  const Route* route = routes_.Selected(destination);
  if (route != nullptr &&
      (route->router_id != request.router_id || route->seqno >= request.seqno)) {
    SendRoute(*route, rx.from, rx.now);
    return;
  }
  ForwardSeqnoRequest(rx, request);
}

void Engine::Impl::ForwardSeqnoRequest(const Received& rx, const SeqnoRequest& request) {
  const Destination destination{request.prefix, request.source_prefix};
  const ForwardResult result = requests_.ForwardSeqnoRequest(
      request, rx.from, ForwardingNeighbour(destination, rx.from), rx.now);
  if (!result.forward) return;
  ++stats_.seqno_requests_forwarded;
  SendRequest(*result.forward);
}

// §3.8.1.2: along the selected route unless it leads back to the requester;
// failing that, along the best route with a finite metric through another
// neighbour (it may be unfeasible). Empty when neither exists.
std::optional<NeighbourKey> Engine::Impl::ForwardingNeighbour(const Destination& destination,
                                                              const NeighbourKey& from) const {
  const Route* selected = routes_.Selected(destination);
  if (selected != nullptr && selected->key.neighbour != from) return selected->key.neighbour;
  std::optional<NeighbourKey> best;
  Metric best_metric = Metric::Infinity();
  for (const Route& route : routes_.RoutesTo(destination)) {
    if (route.key.neighbour == from || route.metric() >= best_metric) continue;
    best = route.key.neighbour;
    best_metric = route.metric();
  }
  return best;
}

}  // namespace plexus::babel
