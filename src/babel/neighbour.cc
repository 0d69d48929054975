#include "babel/neighbour.h"

#include <algorithm>

#include "babel/constants.h"

namespace plexus::babel {

// ---- Neighbour -----------------------------------------------------------

HelloHistory::Outcome Neighbour::OnHello(const HelloInfo& hello, Timestamp now) {
  HelloHistory& history = hello.unicast ? unicast_ : multicast_;
  const HelloHistory::Outcome outcome = history.Receive(hello.seqno, hello.interval, now);
  if (outcome == HelloHistory::Outcome::kReset) {
    // §3.4.1: the sender lost its seqno; flush the entry, keep this Hello.
    const HelloHistory kept = history;
    Clear();
    (hello.unicast ? unicast_ : multicast_) = kept;
  }
  if (hello.timestamp) echo_ = IhuEcho{*hello.timestamp, MicrosTimestamp(now)};
  return outcome;
}

void Neighbour::OnIhu(const IhuInfo& ihu, Timestamp now, const RttParams& params) {
  txcost_ = ihu.rxcost;
  const Duration hold = ihu.interval > Duration::zero() ? ihu.interval * 7 / 2 : kIhuHoldTime;
  ihu_expiry_ = now + hold;
  if (!ihu.rtt) return;
  if (const std::optional<Micros> sample = RttSample(*ihu.rtt, params.max_sample_age)) {
    rtt_.AddSample(*sample, now, params);
  }
}

void Neighbour::Tick(Timestamp now) {
  multicast_.Tick(now);
  unicast_.Tick(now);
  if (ihu_expiry_ <= now) {
    txcost_ = Metric::Infinity();
    ihu_expiry_ = Timestamp::Infinite();
  }
  if (rtt_.expiry() <= now) rtt_.Clear();
}

void Neighbour::Clear() {
  *this = Neighbour();
}

Metric Neighbour::Rxcost(const LinkParams& params) const {
  return std::min(babel::Rxcost(multicast_.bits(), params.cost),
                  babel::Rxcost(unicast_.bits(), params.cost));
}

Metric Neighbour::Cost(const LinkParams& params, Timestamp now) const {
  const Metric link = LinkCost(Rxcost(params), txcost_, params.cost.quality);
  const std::optional<Micros> rtt = rtt_.rtt(now);
  if (link.IsInfinite() || !rtt) return link;
  return link + RttCost(*rtt, params.rtt);
}

Timestamp Neighbour::NextDeadline() const {
  return std::min({multicast_.deadline(), unicast_.deadline(), ihu_expiry_, rtt_.expiry()});
}

bool Neighbour::Expired() const {
  return multicast_.IsEmpty() && unicast_.IsEmpty() && txcost_.IsInfinite();
}

// ---- NeighbourTable ------------------------------------------------------

void NeighbourTable::SetInterfaceParams(uint32_t interface_id, const LinkParams& params) {
  interface_params_[interface_id] = params;
}

const LinkParams& NeighbourTable::ParamsFor(uint32_t interface_id) const {
  const auto it = interface_params_.find(interface_id);
  return it == interface_params_.end() ? default_params_ : it->second;
}

NeighbourTable::Entry& NeighbourTable::GetOrCreate(const NeighbourKey& key) {
  return entries_.try_emplace(key).first->second;
}

void NeighbourTable::Settle(std::map<NeighbourKey, Entry>::iterator it, Timestamp now,
                            NeighbourEvents& events) {
  Entry& entry = it->second;
  const Metric cost = entry.neighbour.Cost(ParamsFor(it->first.interface_id), now);
  if (cost != entry.reported_cost) {
    events.cost_changed.push_back({it->first, entry.reported_cost, cost});
    entry.reported_cost = cost;
  }
  if (entry.neighbour.Expired()) {
    events.removed.push_back(it->first);
    entries_.erase(it);
  }
}

NeighbourEvents NeighbourTable::OnHello(const NeighbourKey& key, const HelloInfo& hello,
                                        Timestamp now) {
  NeighbourEvents events;
  // §3.4.1: a seqno jump means the neighbour rebooted; its entry is discarded,
  // and so are the routes learned from it (they describe a state it forgot).
  if (GetOrCreate(key).neighbour.OnHello(hello, now) == HelloHistory::Outcome::kReset) {
    events.removed.push_back(key);
  }
  Settle(entries_.find(key), now, events);
  return events;
}

NeighbourEvents NeighbourTable::OnIhu(const NeighbourKey& key, const IhuInfo& ihu, Timestamp now) {
  NeighbourEvents events;
  GetOrCreate(key).neighbour.OnIhu(ihu, now, ParamsFor(key.interface_id).rtt);
  Settle(entries_.find(key), now, events);
  return events;
}

NeighbourEvents NeighbourTable::Tick(Timestamp now) {
  NeighbourEvents events;
  for (auto it = entries_.begin(); it != entries_.end();) {
    const auto current = it++;
    current->second.neighbour.Tick(now);
    Settle(current, now, events);
  }
  return events;
}

NeighbourEvents NeighbourTable::DeclareDown(const NeighbourKey& key, Timestamp now) {
  NeighbourEvents events;
  const auto it = entries_.find(key);
  if (it == entries_.end()) return events;
  it->second.neighbour.Clear();
  Settle(it, now, events);
  return events;
}

Timestamp NeighbourTable::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [key, entry] : entries_) {
    earliest = std::min(earliest, entry.neighbour.NextDeadline());
  }
  return earliest;
}

const Neighbour* NeighbourTable::Find(const NeighbourKey& key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second.neighbour;
}

Metric NeighbourTable::Cost(const NeighbourKey& key, Timestamp now) const {
  const Neighbour* n = Find(key);
  return n == nullptr ? Metric::Infinity() : n->Cost(ParamsFor(key.interface_id), now);
}

std::vector<NeighbourKey> NeighbourTable::Keys(std::optional<uint32_t> interface_id) const {
  std::vector<NeighbourKey> keys;
  auto it = interface_id ? entries_.lower_bound(NeighbourKey{*interface_id, IpAddress()})
                         : entries_.begin();
  for (; it != entries_.end(); ++it) {
    if (interface_id && it->first.interface_id != *interface_id) break;
    keys.push_back(it->first);
  }
  return keys;
}

}  // namespace plexus::babel
