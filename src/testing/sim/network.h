// sim::Network: a deterministic discrete-event simulation of N nodes (each a
// NodeProtocol, normally a babel::Engine) joined by virtual point-to-point
// links. Each link is one interface on each of its ends.
//
//   EventQueue (time, seq) ──> node start | tick | packet delivery | link
//        ^                      detection | scheduled test action
//        |                                   |
//        |      after every call into a node: v
//        |    TakeOutgoing -> per packet: link up? loss? -> deliver at
//        |                               now + delay + jitter (other end)
//        +──  NextDeadline -> (re)schedule the node's Tick
//             fib_version changed -> FibChange list -> Observer::AfterEvent
//
// Addressing: node n has link-local fe80::(n+1) on every interface, the
// prefix fd00:0:<n>::/64 (n as 32 bits) and, optionally, 10.<n+1>/32.
// Interface ids are per node: a node's k-th link (in graph edge order) is
// its interface k + 1.
//
// Failures are silent: a failed link, or a link whose other end is stopped,
// drops every packet, including those in flight. With
// NetworkParams::detection_delay set, both running ends get InterfaceDown
// that long after the link stopped carrying packets (the transport liveness
// check of DESIGN.md §2.5) and InterfaceUp when it carries them again
// (only the ends that were declared down; a restarted node starts fresh).
//
// Determinism: one SimRandom (seeded) draws every jitter and loss and is the
// Random of every node; events at one instant run in scheduling order. Two
// runs with one seed produce the same trace_hash().
//
// Threading: not thread-safe; one test thread.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "babel/engine.h"
#include "testing/sim/event_queue.h"
#include "testing/sim/protocol.h"
#include "testing/sim/sim_random.h"
#include "testing/sim/topology.h"

namespace plexus::sim {

struct LinkParams {
  Duration delay = std::chrono::milliseconds(10);  // one way
  Duration jitter{0};  // extra delay uniform in [0, jitter] per packet; may reorder
  double loss = 0;     // probability that a packet is lost
};

struct NetworkParams {
  uint64_t seed = 1;
  Timestamp start = Timestamp::FromNanos(int64_t{1'000'000'000});
  // Nodes start at uniformly random times in [start, start + start_spread].
  Duration start_spread{0};
  std::optional<Duration> detection_delay;
  bool announce_ipv4 = false;
  LinkParams link;            // of every link at first
  bool record_trace = false;  // keep a text trace (trace()) besides the hash
};

// A FIB entry of `node` that changed in the last event.
struct FibChange {
  int node = 0;
  babel::Destination destination;
  std::optional<babel::InstalledRoute> old_route;
  std::optional<babel::InstalledRoute> new_route;
};

struct TrafficStats {
  uint64_t packets_sent = 0;  // every packet a node queued
  uint64_t bytes_sent = 0;    // Babel payload bytes (no IPv6/UDP headers)
  uint64_t packets_delivered = 0;
  uint64_t packets_lost = 0;       // by LinkParams::loss
  uint64_t packets_dropped = 0;    // link failed or an end stopped
  uint64_t packets_misrouted = 0;  // unknown interface or unicast to a stranger
  uint64_t stalled_ticks = 0;      // NextDeadline() <= now right after Tick(now)
  uint64_t ticks = 0;
};

class Network;

class Observer {
 public:
  virtual ~Observer() = default;
  // After every event, with the FIB entries it changed (often none).
  // Returning false halts the network (a bug was found).
  virtual bool AfterEvent(const Network& network, std::span<const FibChange> changes) = 0;
  // A link or node went up or down (called within the event).
  virtual void OnTopologyChange(const Network& network) {}
};

// The neighbour across an interface.
struct Hop {
  int node = 0;
  size_t link = 0;
};

class Network {
 public:
  Network(Graph graph, NetworkParams params, ProtocolFactory factory);
  ~Network();
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Schedules every node's start; call once, before running.
  void Start();
  // Runs every event due at or before `t`, then sets the clock to `t`
  // (unless halted).
  void RunUntil(Timestamp t);
  void RunFor(Duration d) { RunUntil(now() + d); }
  // Runs the next event; false if there is none or the run is halted.
  bool Step();
  // Stops RunUntil/Step after the current event (an observer found a bug).
  void Halt() { halted_ = true; }
  bool halted() const { return halted_; }
  // Runs `fn` as an event at `at` (the observer sees its effects).
  void Schedule(Timestamp at, std::function<void()> fn);

  // Actions, effective now.
  void FailLink(size_t link);
  void RestoreLink(size_t link);
  void SetLinkParams(size_t link, const LinkParams& params);
  void StopNode(int node);   // crash: the node's state is lost
  void StartNode(int node);  // a fresh protocol instance (restart)
  // After a test called into a node's protocol directly: sends what it
  // queued, reschedules its tick and reads its FIB.
  void Touch(int node);

  void set_observer(Observer* observer) { observer_ = observer; }

  Timestamp now() const { return queue_.now(); }
  uint64_t seed() const { return params_.seed; }
  const NetworkParams& params() const { return params_; }
  const Graph& graph() const { return graph_; }
  int node_count() const { return graph_.nodes; }
  size_t link_count() const { return links_.size(); }
  bool link_failed(size_t link) const { return !links_[link].up; }
  const LinkParams& link_params(size_t link) const { return links_[link].params; }
  // Up and both ends running: packets get through (but for loss).
  bool LinkUsable(size_t link) const;
  bool node_running(int node) const;
  // The interface id of `node` on `link` (an end of it).
  uint32_t InterfaceOn(int node, size_t link) const;
  std::optional<Hop> Neighbour(int node, uint32_t interface_id) const;
  const IpAddress& link_local(int node) const;
  const std::vector<babel::Destination>& prefixes(int node) const;
  std::optional<int> Owner(const babel::Destination& destination) const;

  // The FIB as of the last event (empty while stopped).
  const std::vector<babel::InstalledRoute>& fib(int node) const;
  const babel::InstalledRoute* FibEntry(int node, const babel::Destination& destination) const;
  NodeProtocol* protocol(int node);

  SimRandom& random() { return random_; }
  const TrafficStats& stats() const { return stats_; }
  uint64_t events_run() const { return queue_.events_run(); }
  Timestamp last_topology_change() const { return last_topology_change_; }
  Timestamp last_fib_change() const { return last_fib_change_; }
  uint64_t trace_hash() const { return trace_hash_; }
  const std::vector<std::string>& trace() const { return trace_; }

 private:
  struct LinkEnd {
    int node = 0;
    uint32_t interface_id = 0;
    bool declared_down = false;  // InterfaceDown was called and no InterfaceUp since
  };
  struct Link {
    LinkEnd end[2];
    LinkParams params;
    bool up = true;
    uint64_t epoch = 0;  // bumped whenever the link starts or stops carrying packets
  };
  struct Node;
  struct Packet;

  void BuildNodes();
  LinkEnd& EndOf(int node, size_t link);
  void OnNodeEvent(int node);
  void Flush(int node);
  void Send(int node, babel::OutgoingPacket packet);
  void Deliver(const Packet& packet);
  void ScheduleTick(int node, Timestamp earliest);
  void RunTick(int node, uint64_t incarnation, Timestamp at);
  void SnapshotFib(int node);
  void ApplyFibChanges(int node, std::vector<babel::Destination> changed);
  void DiffFib(int node);
  void RecordFibChange(int node, const babel::Destination& d,
                       const babel::InstalledRoute* old_route,
                       const babel::InstalledRoute* new_route);
  void UpdateCarrier(size_t link, bool was_usable);
  void DetectDown(size_t link, uint64_t epoch);
  void TopologyChanged();
  void Record(std::initializer_list<uint64_t> words, const std::function<std::string()>& text);

  Graph graph_;
  NetworkParams params_;
  ProtocolFactory factory_;
  SimRandom random_;
  EventQueue queue_;
  std::vector<Link> links_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::map<babel::Destination, int> owners_;
  Observer* observer_ = nullptr;
  std::vector<FibChange> changes_;  // of the current event
  TrafficStats stats_;
  bool halted_ = false;
  Timestamp last_topology_change_;
  Timestamp last_fib_change_;
  uint64_t trace_hash_ = 0xcbf29ce484222325ULL;
  std::vector<std::string> trace_;
};

// Node addresses (see the file comment).
IpAddress NodeLinkLocal(int node);
babel::Destination NodePrefix(int node);
babel::Destination NodeIpv4Prefix(int node);

// Seconds since `start`, for messages: "12.345678s".
std::string FormatTime(Timestamp t, Timestamp start);

}  // namespace plexus::sim
