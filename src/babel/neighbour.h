// The neighbour table (RFC 8966 §3.4): one entry per (interface, link-local
// address), fed by received Hello and IHU TLVs and by the hello, IHU and RTT
// timers; it yields each neighbour's rxcost (to send in our IHUs) and cost
// (to add to routes learned through it).
//
//   Hello ---> HelloHistory (multicast | unicast) --> rxcost --.
//   IHU   ---> txcost, IHU hold timer (3.5 x interval) -------+--> link cost
//   IHU + Hello timestamps --> RttEstimator --> RTT cost -----+--> cost
//
// Every entry point returns NeighbourEvents naming the neighbours whose cost
// changed and those that were removed, so a route table can react.
//
// A neighbour is removed when both its Hello histories are empty and its IHU
// has expired. DeclareDown (DESIGN.md §2.5: a link whose transport went silent
// is down at once) does that immediately.
//
// Threading: not thread-safe; owned by the Babel core on the control thread.
#pragma once

#include <map>
#include <optional>
#include <vector>

#include "babel/hello_history.h"
#include "babel/link_cost.h"
#include "babel/metric.h"
#include "babel/rtt.h"
#include "babel/seqno.h"
#include "base/ip.h"
#include "base/time.h"

namespace plexus::babel {

struct NeighbourKey {
  uint32_t interface_id = 0;
  IpAddress address;                                      // the neighbour's link-local address
  auto operator<=>(const NeighbourKey&) const = default;  // NOLINT(modernize-use-nullptr)
};

// How the links of one interface are measured.
struct LinkParams {
  LinkCostParams cost;
  RttParams rtt;
};

// A received Hello TLV (RFC 8966 §4.6.5), with its RFC 9616 timestamp if any.
struct HelloInfo {
  Seqno seqno;
  Duration interval{0};  // zero: an unscheduled Hello
  bool unicast = false;
  std::optional<uint32_t> timestamp;
};

// A received IHU TLV addressed to us (RFC 8966 §4.6.6). `rtt` holds the four
// timestamps of RFC 9616 when the IHU carried origin and receive timestamps
// and its packet a timestamped Hello.
struct IhuInfo {
  Metric rxcost;
  Duration interval{0};  // zero: use kIhuHoldTime
  std::optional<RttTimestamps> rtt;
};

// What to echo in the IHU we send this neighbour (RFC 9616): the timestamp of
// its last timestamped Hello and when we received it, our clock.
struct IhuEcho {
  uint32_t origin;
  uint32_t receive;
};

struct CostChange {
  NeighbourKey key;
  Metric old_cost;
  Metric new_cost;
};

struct NeighbourEvents {
  std::vector<CostChange> cost_changed;
  // Removed neighbours; a removed neighbour whose cost was finite is also in
  // cost_changed with new_cost infinity. A neighbour whose Hello seqno jumped
  // (it rebooted, §3.4.1) is reported here too: its entry restarted from that
  // Hello, and the routes it sent before must be flushed.
  std::vector<NeighbourKey> removed;
  bool empty() const { return cost_changed.empty() && removed.empty(); }
};

class Neighbour {
 public:
  // RFC 8966 §3.4.1; returns kReset when the whole entry was flushed first.
  HelloHistory::Outcome OnHello(const HelloInfo& hello, Timestamp now);
  void OnIhu(const IhuInfo& ihu, Timestamp now, const RttParams& params);
  // Runs the hello, IHU and RTT timers up to `now`.
  void Tick(Timestamp now);
  // Forgets everything: cost infinity, eligible for removal.
  void Clear();

  // The better of the multicast and unicast histories' rxcosts.
  Metric Rxcost(const LinkParams& params) const;
  // Link cost plus RTT cost, saturating at infinity.
  Metric Cost(const LinkParams& params, Timestamp now) const;
  Metric txcost() const { return txcost_; }
  std::optional<Micros> rtt(Timestamp now) const { return rtt_.rtt(now); }
  std::optional<IhuEcho> ihu_echo() const { return echo_; }
  const HelloHistory& multicast_history() const { return multicast_; }
  const HelloHistory& unicast_history() const { return unicast_; }
  Timestamp NextDeadline() const;
  bool Expired() const;

 private:
  HelloHistory multicast_;
  HelloHistory unicast_;
  Metric txcost_ = Metric::Infinity();
  Timestamp ihu_expiry_ = Timestamp::Infinite();
  RttEstimator rtt_;
  std::optional<IhuEcho> echo_;
};

class NeighbourTable {
 public:
  explicit NeighbourTable(LinkParams default_params = {}) : default_params_(default_params) {}

  void SetInterfaceParams(uint32_t interface_id, const LinkParams& params);
  const LinkParams& ParamsFor(uint32_t interface_id) const;

  // A Hello from `key`; creates the neighbour if it is new.
  NeighbourEvents OnHello(const NeighbourKey& key, const HelloInfo& hello, Timestamp now);
  // An IHU addressed to us from `key`; creates the neighbour if it is new.
  NeighbourEvents OnIhu(const NeighbourKey& key, const IhuInfo& ihu, Timestamp now);
  // Runs all timers up to `now`; removes expired neighbours.
  NeighbourEvents Tick(Timestamp now);
  // The transport to `key` went silent: cost infinity and removal, at once.
  NeighbourEvents DeclareDown(const NeighbourKey& key, Timestamp now);

  // The earliest timer of any neighbour; Timestamp::Infinite() if none.
  Timestamp NextDeadline() const;

  const Neighbour* Find(const NeighbourKey& key) const;
  // Cost of the link to `key`; infinity for an unknown neighbour.
  Metric Cost(const NeighbourKey& key, Timestamp now) const;
  size_t size() const { return entries_.size(); }
  // Every neighbour, in key order; only those on `interface_id` when given.
  std::vector<NeighbourKey> Keys(std::optional<uint32_t> interface_id = std::nullopt) const;

 private:
  struct Entry {
    Neighbour neighbour;
    Metric reported_cost = Metric::Infinity();  // last cost told to the caller
  };

  Entry& GetOrCreate(const NeighbourKey& key);
  // Compares the cost to the reported one, records a change, removes the
  // neighbour if it expired. `it` is invalid afterwards.
  void Settle(std::map<NeighbourKey, Entry>::iterator it, Timestamp now, NeighbourEvents& events);

  LinkParams default_params_;
  std::map<uint32_t, LinkParams> interface_params_;
  std::map<NeighbourKey, Entry> entries_;
};

}  // namespace plexus::babel
