// Engine::Impl: the state and the steps of the Babel engine (engine.h has the
// contract). Split by direction:
//   engine.cc          public calls, timers (Tick), reconciliation, flush
//   engine_receive.cc  one handler per received TLV (RFC 8966 §3.4-§3.8)
//   engine_send.cc     what goes out: Hellos/IHUs, Updates, requests
//
// Table events mark destinations dirty (all of them when a neighbour's cost
// changes); every public call ends with Finish(now):
//   dirty destinations --Reconcile--> Fib (version)
//                                 \-> retraction now (urgent resends) or a
//                                     triggered update queued for
//                                     triggered_deadline_ (§3.7.2)
//   UpdateBuffer --Flush--> outgoing packets; the next deadline is computed.
// `advertised_` holds what we last multicast per routed destination: the
// reference for triggered updates and the source of retractions.
//
// Threading: not thread-safe; owned by the node's control thread.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "babel/engine.h"
#include "babel/fib.h"
#include "babel/flat_hash_map.h"
#include "babel/interface.h"
#include "babel/neighbour.h"
#include "babel/request_tracker.h"
#include "babel/route_table.h"
#include "babel/source_table.h"
#include "babel/tlv.h"
#include "babel/update_buffer.h"
#include "babel/xroute_table.h"

namespace plexus::babel {

class Engine::Impl {
 public:
  Impl(const EngineParams& params, Random& random, Timestamp now);

  // engine.cc: the public calls (see engine.h).
  RouterId router_id() const { return xroutes_.router_id(); }
  Seqno seqno() const { return xroutes_.seqno(); }
  Status AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now,
                      const InterfaceParams& params);
  void RemoveInterface(uint32_t id, Timestamp now);
  void InterfaceDown(uint32_t id, Timestamp now);
  void InterfaceUp(uint32_t id, Timestamp now);
  void AddPrefix(const Destination& destination, Timestamp now);
  void RemovePrefix(const Destination& destination, Timestamp now);
  void Receive(uint32_t interface_id, const IpAddress& source, ByteSpan packet, Timestamp now);
  void Tick(Timestamp now);
  Timestamp NextDeadline() const { return next_deadline_; }
  std::vector<OutgoingPacket> TakeOutgoing();
  const babel::Fib& fib() const { return fib_; }
  std::optional<std::vector<Destination>> TakeFibChanges() { return fib_.TakeChanged(); }
  const InterfaceParams& default_params() const { return params_.interface; }
  std::vector<RouteInfo> Routes(Timestamp now) const;
  std::vector<NeighbourInfo> Neighbours(Timestamp now) const;
  const EngineStats& stats() const { return stats_; }

 private:
  // Where an Update or request goes: multicast on every interface, or
  // unicast to one neighbour.
  using Target = std::optional<NeighbourKey>;

  // What this node last announced for a destination it routes (§3.7.2).
  struct Advertised {
    RouterId router_id;
    Seqno seqno;
    Metric metric;
    NeighbourKey via;
  };
  // An update resent urgently (§3.7.2): a retraction, or the announcement of
  // an own prefix after a seqno bump (§3.8.1.2), until superseded.
  struct UrgentUpdate {
    Update update;
    int sends_left = 0;
    Timestamp deadline;
  };
  // The per-packet context of a received TLV.
  struct Received {
    const Interface& interface;
    NeighbourKey from;
    std::optional<uint32_t> hello_timestamp;  // RFC 9616: of this packet's Hello
    Timestamp now;
  };

  // engine.cc: timers, reactions to table events, end of call.
  void Prefetch(const std::vector<Tlv>& tlvs) const;
  void Prefetch(std::span<const Destination> destinations) const;
  // fn(destination) for each, with the tables' memory prefetched ahead.
  template <typename Fn>
  void ForEachPrefetched(const std::vector<Destination>& destinations, Fn fn) const;
  void TickInterfaces(Timestamp now);
  void RequestExpiringRoutes(Timestamp now);
  static Timestamp RefreshWindow(const Route& route);
  void ApplyNeighbourEvents(const NeighbourEvents& events, Timestamp now);
  void ApplyRouteEvents(const RouteEvents& events, Timestamp now);
  void DeclareInterfaceDown(uint32_t id, Timestamp now);
  void Finish(Timestamp now);
  void Reconcile(Timestamp now);
  void ReconcileFib(const Destination& destination);
  void ReconcileAdvertised(const Destination& destination, Timestamp now);
  bool NeedsTriggeredUpdate(const Destination& destination) const;
  void SendTriggeredUpdates(Timestamp now);
  std::vector<Destination> DirtyDestinations();
  static void SortUnique(std::vector<Destination>& destinations);
  void Flush();
  Timestamp ComputeDeadline();

  // engine_receive.cc: one handler per TLV.
  void Dispatch(const Received& rx, const Tlv& tlv);
  void OnHello(const Received& rx, const Hello& hello);
  void OnIhu(const Received& rx, const Ihu& ihu);
  void OnUpdate(const Received& rx, const Update& received);
  Update Filtered(const Received& rx, const Update& update);
  void AnswerRequesters(const Update& update, Timestamp now);
  void OnRouteRequest(const Received& rx, const RouteRequest& request);
  void OnSeqnoRequest(const Received& rx, const SeqnoRequest& request);
  void OnAckRequest(const Received& rx, const AckRequest& request);
  void ForwardSeqnoRequest(const Received& rx, const SeqnoRequest& request);
  std::optional<NeighbourKey> ForwardingNeighbour(const Destination& destination,
                                                  const NeighbourKey& from) const;

  // engine_send.cc: what goes on the wire.
  void SendHello(Interface& interface, Timestamp now);
  void SendWildcardRequest(const Interface& interface);
  void SendRequest(const OutgoingRequest& request);
  void SendFullUpdate(const Target& target, std::optional<uint32_t> interface_id, Timestamp now);
  static Update XrouteUpdate(const XrouteOutput& xroute);
  void SendXroute(const XrouteOutput& xroute, const Target& target,
                  std::optional<uint32_t> interface_id = {});
  void SendRoute(const Route& route, const Target& target, Timestamp now,
                 std::optional<uint32_t> interface_id = {});
  void SendAnswer(const Destination& destination, const Target& target, Timestamp now);
  void SendRetraction(const Destination& destination, const Advertised& last, Timestamp now);
  void SendUrgently(const Update& update, Timestamp now);
  bool Superseded(const Destination& destination, const Update& update) const;
  void ResendUrgentUpdates(Timestamp now);
  void SendUpdate(Update update, const Target& target, std::optional<uint32_t> interface_id = {});
  void QueueOn(const Interface& interface, const std::optional<IpAddress>& to, const Tlv& tlv);

  EngineParams params_;
  Random& random_;
  std::map<uint32_t, Interface> interfaces_;
  NeighbourTable neighbours_;
  SourceTable sources_;
  RouteTable routes_;
  XrouteTable xroutes_;
  RequestTracker requests_;
  UpdateBuffer buffer_;
  std::vector<OutgoingPacket> outgoing_;
  babel::Fib fib_;  // qualified: Engine::Fib() hides the type here
  FlatHashMap<Destination, Advertised, DestinationHash> advertised_;  // no order needed
  std::map<Destination, UrgentUpdate> urgent_;
  // Triggered updates waiting for triggered_deadline_ (with repeats).
  std::vector<Destination> triggered_;
  Timestamp triggered_deadline_ = Timestamp::Infinite();
  // Cached earliest route expiry and source GC deadlines: never later than
  // the tables' (lowered when a route or source is added; a refresh only
  // moves a table's deadline later, so a cached one may be early) and made
  // exact by ComputeDeadline when they matter.
  Timestamp route_deadline_ = Timestamp::Infinite();
  // When the next route enters its refresh window (RequestExpiringRoutes).
  Timestamp refresh_check_ = Timestamp::Infinite();
  Timestamp source_deadline_ = Timestamp::Infinite();
  std::vector<Destination> dirty_;  // with repeats, sorted out by DirtyDestinations
  bool all_dirty_ = false;
  EngineStats stats_;
  Timestamp next_deadline_ = Timestamp::Infinite();
};

}  // namespace plexus::babel
