// The Babel engine (RFC 8966 §3): ties the neighbour, source, route, xroute
// and request tables to the wire. It is a pure core like wireguard::Device:
// no sockets, no threads, an injected clock (every call takes `now`) and an
// injected Random (jitter, initial seqno). The node feeds it the Babel
// packets that arrive over each link and sends the packets it queues; the
// simulator (testing/sim) does the same over virtual links.
//
//   Receive(interface, source, packet) ─┐      ┌─> TakeOutgoing(): Babel packets
//   Tick(now) (hello/IHU/update timers, ├─> tables ─┤    per (interface, multicast | unicast)
//     request resends, route expiry)  ─┤      └─> Fib(): selected routes, fib_version()
//   InterfaceDown (transport silent) ──┘
//
// Interfaces: in plexus every link is one Babel interface with (normally) one
// neighbour, identified by the node's own number for the link. An interface
// has the engine's link-local IPv6 address for it (the source of the packets
// it sends, and the next hop of the routes it advertises). Packets the engine
// sends have either a unicast destination (a neighbour's link-local address)
// or none, meaning the Babel multicast group ff02::1:6 on that interface.
//
// What the engine does (RFC 8966, with RFC 9079 source-specific prefixes,
// RFC 9229 IPv4 prefixes via IPv6 next hops and RFC 9616 RTT timestamps):
// - multicast Hellos every hello interval (with timestamps), IHUs with every
//   Hello (links in plexus are lossy tunnels, §3.4.2);
// - periodic full updates every update interval, triggered updates when a
//   selected route changes (§3.7.2), retractions, urgent resend of
//   retractions and seqno-bumped updates;
// - answering Route Requests and Seqno Requests (§3.8.1), sending them when
//   routes become unfeasible or lost (§3.8.2), forwarding Seqno Requests;
//   a unicast Route Request for a selected route about to expire;
// - route expiry, source garbage collection, router-id/seqno wrap-around;
// - TLVs buffered per (interface, destination) and packed into packets of at
//   most the interface's max packet size, flushed at the end of each call
//   (the caller drains TakeOutgoing after every call).
//
// Timing choices (EngineParams): retractions and Fib changes happen within
// the call that caused them; triggered updates for new or changed routes
// wait triggered_update_delay (a timer, so Tick sends them) so that a burst
// of received packets yields a few full packets, not one per Update. Updates
// carrying our own router-id are ignored (our routes coming back). The Fib's
// next hop is the neighbour's own address; own prefixes are announced with
// our seqno and never installed.
//
// Threading: not thread-safe; owned by one thread (the node's control thread).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "babel/constants.h"
#include "babel/fib.h"
#include "babel/interface.h"
#include "babel/metric.h"
#include "babel/neighbour.h"
#include "babel/route_table.h"
#include "babel/router_id.h"
#include "babel/seqno.h"
#include "babel/update_buffer.h"
#include "base/bytes.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"

namespace plexus::babel {

// InterfaceParams is in interface.h, OutgoingPacket in update_buffer.h,
// InstalledRoute in fib.h.

struct EngineParams {
  RouterId router_id;
  InterfaceParams interface;  // default for AddInterface
  RouteTableParams routes;
  Duration source_gc_time = kSourceGcTime;
  // RFC 8966 §3.7.2: a change of the selected route's metric by at least
  // this much (either way) sends a triggered update; smaller changes wait for
  // the periodic update. Router-id, seqno and next-hop changes always do.
  uint16_t triggered_update_metric_change = 128;
  // Triggered updates (not retractions, which go at once) wait this long so
  // that the changes of a burst of received packets share packets; zero
  // sends them at the end of the call that caused them.
  Duration triggered_update_delay = std::chrono::milliseconds(50);
  // Urgent updates are sent this many times in all, kUrgentTimeout apart,
  // unless superseded: retractions (RFC 8966 §3.7.2) and the announcements
  // of own prefixes after a Seqno Request bumped our seqno (§3.8.1.2).
  int retraction_sends = 3;
  // Our first seqno (RFC 8966 §3.2.1); random when empty (tests set it).
  std::optional<Seqno> initial_seqno;
  // The input filter (RFC 8966 Appendix C): an Update for which it returns
  // false is taken as a retraction, so a route it refuses is never selected
  // and one accepted before goes away. The node refuses prefixes outside the
  // originator's certificate blocks (DESIGN.md §2.3). None: accept all.
  std::function<bool(uint32_t interface_id, const RouterId& origin, const Destination&)>
      import_filter;
};

// One row of `plexus routes`: every route of the route table, and the node's
// own prefixes (local = true, metric 0, no neighbour).
struct RouteInfo {
  Destination destination;
  bool local = false;
  std::optional<uint32_t> interface_id;
  std::optional<IpAddress> next_hop;
  Metric metric;
  Metric advertised_metric;
  Metric link_cost;
  std::optional<Micros> rtt;  // of the neighbour, when measured
  RouterId router_id;
  Seqno seqno;
  bool feasible = false;
  bool selected = false;
};

struct NeighbourInfo {
  NeighbourKey key;
  Metric rxcost;
  Metric txcost;
  Metric cost;
  std::optional<Micros> rtt;
};

struct EngineStats {
  uint64_t packets_received = 0;
  uint64_t bytes_received = 0;
  uint64_t packets_sent = 0;
  uint64_t bytes_sent = 0;
  uint64_t malformed_packets = 0;  // DecodePacket failed
  uint64_t skipped_tlvs = 0;       // TLVs the decoder skipped (unknown, bad sub-TLV, ...)
  uint64_t unknown_interface = 0;  // Receive on an interface never added
  uint64_t updates_received = 0;
  uint64_t updates_sent = 0;
  uint64_t requests_received = 0;
  uint64_t requests_sent = 0;
  // What the engine decided to send (one count per decision, not per interface).
  uint64_t full_updates_sent = 0;       // periodic, on a new interface, or answering a wildcard
  uint64_t triggered_updates_sent = 0;  // §3.7.2, one per destination
  uint64_t retractions_sent = 0;        // first sends, not the urgent resends
  uint64_t seqno_requests_forwarded = 0;
  uint64_t updates_filtered = 0;  // refused by EngineParams::import_filter
};

class Engine {
 public:
  // `random` must outlive the engine.
  Engine(const EngineParams& params, Random& random, Timestamp now);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  RouterId router_id() const;
  // The seqno of our own routes now (RFC 8966 §3.2.1).
  Seqno seqno() const;

  // Starts Babel on an interface: a Hello and a wildcard Route Request go
  // out at once. `link_local` must be an fe80::/10 address. Error if the id
  // is already in use.
  Status AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now,
                      std::optional<InterfaceParams> params = std::nullopt);
  // Stops Babel on the interface: its neighbours and their routes are
  // flushed (retractions go out on the other interfaces as needed).
  void RemoveInterface(uint32_t id, Timestamp now);
  // The transport under the interface went silent: every neighbour on it is
  // declared down at once (DESIGN.md §2.5); the interface stays, Hellos keep
  // going so the neighbour comes back when the link does.
  void InterfaceDown(uint32_t id, Timestamp now);
  // The transport came back (e.g. a handshake completed): send a Hello and a
  // wildcard Route Request at once instead of waiting for the timers.
  void InterfaceUp(uint32_t id, Timestamp now);

  // The node's own prefixes (xroutes, metric 0). Adding one that exists or
  // removing one that does not is a no-op.
  void AddPrefix(const Destination& destination, Timestamp now);
  void RemovePrefix(const Destination& destination, Timestamp now);

  // A Babel packet received on `interface_id` from the link-local address
  // `source` (to the multicast group or to us). Malformed packets are counted
  // and dropped; nothing a packet holds can crash the engine.
  void Receive(uint32_t interface_id, const IpAddress& source, ByteSpan packet, Timestamp now);

  // Runs every timer due at `now`.
  void Tick(Timestamp now);
  // When Tick must next run; never earlier than needed, never later.
  Timestamp NextDeadline() const;

  // The packets queued by the calls so far, oldest first; the queue is emptied.
  std::vector<OutgoingPacket> TakeOutgoing();

  // Every destination with a selected route, sorted by destination. Own
  // prefixes are not included. fib_version() changes whenever Fib() would.
  std::vector<InstalledRoute> Fib() const;
  uint64_t fib_version() const;
  // For a follower of the Fib that keeps its own copy: the destinations whose
  // entry changed since the last call (possibly repeated, possibly changed
  // back), or nullopt when too many did to keep track (then compare Fib()).
  std::optional<std::vector<Destination>> TakeFibChanges();
  // The installed route of one destination, if any.
  std::optional<InstalledRoute> FibEntry(const Destination& destination) const;

  std::vector<RouteInfo> Routes(Timestamp now) const;
  std::vector<NeighbourInfo> Neighbours(Timestamp now) const;
  const EngineStats& stats() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace plexus::babel
