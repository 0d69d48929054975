#include "testing/sim/network.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

namespace plexus::sim {
namespace {

// Forces a FIB diff after a restart, whatever version the new instance starts at.
constexpr uint64_t kUnknownFibVersion = UINT64_MAX;
// After a stalled Tick (deadline not advanced), the next one waits this long.
constexpr Duration kStallBackoff = std::chrono::milliseconds(1);

uint64_t HashBytes(ByteSpan bytes) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (std::byte b : bytes) h = (h ^ static_cast<uint8_t>(b)) * 0x100000001b3ULL;
  return h;
}

uint64_t HashRoute(const babel::Destination& d, const babel::InstalledRoute* route) {
  uint64_t h = HashBytes(d.prefix.address().bytes()) ^ static_cast<uint64_t>(d.prefix.length());
  if (route == nullptr) return h;
  return h ^ (uint64_t{route->interface_id} << 32) ^ (uint64_t{route->metric.value()} << 16);
}

bool ByDestination(const babel::InstalledRoute& a, const babel::InstalledRoute& b) {
  return a.destination < b.destination;
}

}  // namespace

struct Network::Node {
  std::unique_ptr<NodeProtocol> protocol;
  IpAddress link_local;
  std::vector<babel::Destination> prefixes;
  std::vector<size_t> links;  // interface id k + 1 is links[k]
  Timestamp tick_at = Timestamp::Infinite();
  uint64_t incarnation = 0;
  uint64_t fib_version = kUnknownFibVersion;
  std::vector<babel::InstalledRoute> fib;
};

struct Network::Packet {
  size_t link = 0;
  int from_end = 0;
  uint64_t epoch = 0;
  IpAddress source;
  Bytes payload;
};

IpAddress NodeLinkLocal(int node) {
  const auto v = static_cast<uint32_t>(node) + 1;
  return IpAddress::V6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(v >> 24),
                        static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                        static_cast<uint8_t>(v)});
}

babel::Destination NodePrefix(int node) {
  const auto v = static_cast<uint32_t>(node);
  const IpAddress a = IpAddress::V6({0xfd, 0, 0, 0, static_cast<uint8_t>(v >> 24),
                                     static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8),
                                     static_cast<uint8_t>(v), 0, 0, 0, 0, 0, 0, 0, 0});
  return {Prefix(a, 64), std::nullopt};
}

babel::Destination NodeIpv4Prefix(int node) {
  const auto v = static_cast<uint32_t>(node) + 1;
  const IpAddress a = IpAddress::V4(
      {10, static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 8), static_cast<uint8_t>(v)});
  return {Prefix(a, 32), std::nullopt};
}

std::string FormatTime(Timestamp t, Timestamp start) {
  return fmt::format("{:.6f}s", static_cast<double>((t - start).count()) / 1e9);
}

Network::Network(Graph graph, NetworkParams params, ProtocolFactory factory)
    : graph_(std::move(graph)),
      params_(params),
      factory_(std::move(factory)),
      random_(params.seed),
      queue_(params.start) {
  BuildNodes();
}

Network::~Network() = default;

void Network::BuildNodes() {
  for (int n = 0; n < graph_.nodes; ++n) {
    auto node = std::make_unique<Node>();
    node->link_local = NodeLinkLocal(n);
    node->prefixes.push_back(NodePrefix(n));
    if (params_.announce_ipv4) node->prefixes.push_back(NodeIpv4Prefix(n));
    for (const babel::Destination& d : node->prefixes) owners_[d] = n;
    nodes_.push_back(std::move(node));
  }
  for (const Edge& e : graph_.edges) {
    Link link;
    link.params = params_.link;
    link.end[0] = {e.a, static_cast<uint32_t>(nodes_[e.a]->links.size() + 1)};
    link.end[1] = {e.b, static_cast<uint32_t>(nodes_[e.b]->links.size() + 1)};
    nodes_[e.a]->links.push_back(links_.size());
    nodes_[e.b]->links.push_back(links_.size());
    links_.push_back(link);
  }
}

void Network::Start() {
  for (int n = 0; n < graph_.nodes; ++n) {
    const Timestamp at = params_.start + random_.UpTo(params_.start_spread);
    queue_.Schedule(at, [this, n] { StartNode(n); });
  }
}

bool Network::Step() {
  if (halted_ || !queue_.RunNext()) return false;
  if (observer_ != nullptr && !observer_->AfterEvent(*this, changes_)) halted_ = true;
  changes_.clear();
  return true;
}

void Network::RunUntil(Timestamp t) {
  while (!halted_ && queue_.NextTime() <= t) Step();
  if (!halted_) queue_.AdvanceTo(t);
}

void Network::Schedule(Timestamp at, std::function<void()> fn) {
  queue_.Schedule(at, std::move(fn));
}

// ---------------------------------------------------------------- actions

void Network::FailLink(size_t link) {
  const bool was = LinkUsable(link);
  links_[link].up = false;
  Record({4, static_cast<uint64_t>(now().nanos()), link},
         [&] { return fmt::format("{} fail link {}", now().nanos(), link); });
  UpdateCarrier(link, was);
  TopologyChanged();
}

void Network::RestoreLink(size_t link) {
  const bool was = LinkUsable(link);
  links_[link].up = true;
  Record({5, static_cast<uint64_t>(now().nanos()), link},
         [&] { return fmt::format("{} restore link {}", now().nanos(), link); });
  UpdateCarrier(link, was);
  TopologyChanged();
}

void Network::SetLinkParams(size_t link, const LinkParams& params) {
  links_[link].params = params;
  Record(
      {6, static_cast<uint64_t>(now().nanos()), link, static_cast<uint64_t>(params.delay.count())},
      [&] {
        return fmt::format("{} link {} delay {}", now().nanos(), link, params.delay.count());
      });
}

void Network::StopNode(int node) {
  Node& n = *nodes_[node];
  if (!n.protocol) return;
  std::vector<bool> was;
  for (size_t l : n.links) was.push_back(LinkUsable(l));
  n.protocol.reset();
  ++n.incarnation;
  n.tick_at = Timestamp::Infinite();
  for (const babel::InstalledRoute& r : n.fib) changes_.push_back({node, r.destination, r, {}});
  if (!n.fib.empty()) last_fib_change_ = now();
  n.fib.clear();
  n.fib_version = kUnknownFibVersion;
  Record({7, static_cast<uint64_t>(now().nanos()), static_cast<uint64_t>(node)},
         [&] { return fmt::format("{} stop node {}", now().nanos(), node); });
  for (size_t k = 0; k < n.links.size(); ++k) {
    EndOf(node, n.links[k]).declared_down = false;
    UpdateCarrier(n.links[k], was[k]);
  }
  TopologyChanged();
}

Network::LinkEnd& Network::EndOf(int node, size_t link) {
  Link& l = links_[link];
  return l.end[0].node == node ? l.end[0] : l.end[1];
}

void Network::StartNode(int node) {
  Node& n = *nodes_[node];
  if (n.protocol) return;
  std::vector<bool> was;
  for (size_t l : n.links) was.push_back(LinkUsable(l));
  n.protocol = factory_(node, random_, now());
  ++n.incarnation;
  n.fib_version = kUnknownFibVersion;
  Record({8, static_cast<uint64_t>(now().nanos()), static_cast<uint64_t>(node)},
         [&] { return fmt::format("{} start node {}", now().nanos(), node); });
  for (size_t k = 0; k < n.links.size(); ++k) {
    const Status s = n.protocol->AddInterface(static_cast<uint32_t>(k + 1), n.link_local, now());
    if (!s) Record({9}, [&] { return "AddInterface failed: " + s.error().message(); });
  }
  for (const babel::Destination& d : n.prefixes) n.protocol->AddPrefix(d, now());
  // Carrier first: packets sent before an epoch bump would be dropped.
  for (size_t k = 0; k < n.links.size(); ++k) UpdateCarrier(n.links[k], was[k]);
  OnNodeEvent(node);
  TopologyChanged();
}

void Network::Touch(int node) {
  if (node_running(node)) OnNodeEvent(node);
}

void Network::TopologyChanged() {
  last_topology_change_ = now();
  if (observer_ != nullptr) observer_->OnTopologyChange(*this);
}

void Network::UpdateCarrier(size_t link, bool was_usable) {
  const bool usable = LinkUsable(link);
  if (usable == was_usable) return;
  Link& l = links_[link];
  ++l.epoch;
  if (!params_.detection_delay) return;
  if (!usable) {
    const uint64_t epoch = l.epoch;
    queue_.Schedule(now() + *params_.detection_delay,
                    [this, link, epoch] { DetectDown(link, epoch); });
    return;
  }
  for (LinkEnd& end : l.end) {
    if (!end.declared_down) continue;
    end.declared_down = false;
    Record({10, static_cast<uint64_t>(now().nanos()), link}, [&] {
      return fmt::format("{} interface up node {} if {}", now().nanos(), end.node,
                         end.interface_id);
    });
    nodes_[end.node]->protocol->InterfaceUp(end.interface_id, now());
    OnNodeEvent(end.node);
  }
}

void Network::DetectDown(size_t link, uint64_t epoch) {
  Link& l = links_[link];
  if (l.epoch != epoch) return;
  for (LinkEnd& end : l.end) {
    if (!node_running(end.node)) continue;
    end.declared_down = true;
    Record({11, static_cast<uint64_t>(now().nanos()), link}, [&] {
      return fmt::format("{} interface down node {} if {}", now().nanos(), end.node,
                         end.interface_id);
    });
    nodes_[end.node]->protocol->InterfaceDown(end.interface_id, now());
    OnNodeEvent(end.node);
  }
}

// ---------------------------------------------------------------- nodes and packets

void Network::OnNodeEvent(int node) {
  Flush(node);
  ScheduleTick(node, now());
  SnapshotFib(node);
}

void Network::Flush(int node) {
  for (babel::OutgoingPacket& p : nodes_[node]->protocol->TakeOutgoing()) Send(node, std::move(p));
}

void Network::Send(int node, babel::OutgoingPacket packet) {
  ++stats_.packets_sent;
  stats_.bytes_sent += packet.payload.size();
  const Node& n = *nodes_[node];
  if (packet.interface_id == 0 || packet.interface_id > n.links.size()) {
    ++stats_.packets_misrouted;
    return;
  }
  const size_t link = n.links[packet.interface_id - 1];
  const Link& l = links_[link];
  const int from_end = l.end[0].node == node ? 0 : 1;
  const int to = l.end[1 - from_end].node;
  if (packet.destination && *packet.destination != nodes_[to]->link_local) {
    ++stats_.packets_misrouted;
  } else if (!LinkUsable(link)) {
    ++stats_.packets_dropped;
  } else if (random_.Bernoulli(l.params.loss)) {
    ++stats_.packets_lost;
  } else {
    const Timestamp at = now() + l.params.delay + random_.UpTo(l.params.jitter);
    Packet p{link, from_end, l.epoch, n.link_local, std::move(packet.payload)};
    queue_.Schedule(at, [this, p = std::move(p)] { Deliver(p); });
  }
}

void Network::Deliver(const Packet& packet) {
  const Link& l = links_[packet.link];
  if (l.epoch != packet.epoch || !LinkUsable(packet.link)) {
    ++stats_.packets_dropped;
    return;
  }
  const LinkEnd& to = l.end[1 - packet.from_end];
  ++stats_.packets_delivered;
  Record({1, static_cast<uint64_t>(now().nanos()), packet.link,
          static_cast<uint64_t>(packet.from_end), HashBytes(packet.payload)},
         [&] {
           return fmt::format("{} deliver link {} to node {} {} bytes", now().nanos(), packet.link,
                              to.node, packet.payload.size());
         });
  nodes_[to.node]->protocol->Receive(to.interface_id, packet.source, packet.payload, now());
  OnNodeEvent(to.node);
}

void Network::ScheduleTick(int node, Timestamp earliest) {
  Node& n = *nodes_[node];
  const Timestamp deadline = std::max(n.protocol->NextDeadline(), earliest);
  if (deadline.IsInfinite() || deadline >= n.tick_at) return;
  n.tick_at = deadline;
  const uint64_t incarnation = n.incarnation;
  queue_.Schedule(deadline,
                  [this, node, incarnation, deadline] { RunTick(node, incarnation, deadline); });
}

void Network::RunTick(int node, uint64_t incarnation, Timestamp at) {
  Node& n = *nodes_[node];
  if (!n.protocol || n.incarnation != incarnation || n.tick_at != at) return;
  n.tick_at = Timestamp::Infinite();
  Timestamp earliest = now();
  if (n.protocol->NextDeadline() <= now()) {
    ++stats_.ticks;
    Record({2, static_cast<uint64_t>(now().nanos()), static_cast<uint64_t>(node)},
           [&] { return fmt::format("{} tick node {}", now().nanos(), node); });
    n.protocol->Tick(now());
    if (n.protocol->NextDeadline() <= now()) {
      ++stats_.stalled_ticks;
      earliest = now() + kStallBackoff;
    }
  }
  Flush(node);
  ScheduleTick(node, earliest);
  SnapshotFib(node);
}

// The node's FIB after the event: only the destinations the protocol says
// changed when it can tell (the common case), else a diff of the whole FIB.
// Either way the changes are recorded in destination order.
void Network::SnapshotFib(int node) {
  Node& n = *nodes_[node];
  const uint64_t version = n.protocol->fib_version();
  if (version == n.fib_version) return;
  const bool known = n.fib_version != kUnknownFibVersion;
  n.fib_version = version;
  std::optional<std::vector<babel::Destination>> changed = n.protocol->TakeFibChanges();
  const size_t before = changes_.size();
  if (known && changed) {
    ApplyFibChanges(node, std::move(*changed));
  } else {
    DiffFib(node);
  }
  if (changes_.size() != before) last_fib_change_ = now();
}

void Network::ApplyFibChanges(int node, std::vector<babel::Destination> changed) {
  Node& n = *nodes_[node];
  std::sort(changed.begin(), changed.end());
  changed.erase(std::unique(changed.begin(), changed.end()), changed.end());
  for (const babel::Destination& d : changed) {
    const std::optional<babel::InstalledRoute> new_route = n.protocol->FibEntry(d);
    auto it = std::lower_bound(n.fib.begin(), n.fib.end(), d,
                               [](const babel::InstalledRoute& r, const babel::Destination& key) {
                                 return r.destination < key;
                               });
    const bool had = it != n.fib.end() && it->destination == d;
    if (had ? (new_route && *it == *new_route) : !new_route) continue;
    RecordFibChange(node, d, had ? &*it : nullptr, new_route ? &*new_route : nullptr);
    if (!new_route) {
      n.fib.erase(it);
    } else if (had) {
      *it = *new_route;
    } else {
      n.fib.insert(it, *new_route);
    }
  }
}

void Network::DiffFib(int node) {
  Node& n = *nodes_[node];
  std::vector<babel::InstalledRoute> fib = n.protocol->Fib();
  if (!std::is_sorted(fib.begin(), fib.end(), ByDestination)) {
    std::sort(fib.begin(), fib.end(), ByDestination);
  }
  size_t i = 0, j = 0;
  while (i < n.fib.size() || j < fib.size()) {
    const babel::InstalledRoute* old_route = i < n.fib.size() ? &n.fib[i] : nullptr;
    const babel::InstalledRoute* new_route = j < fib.size() ? &fib[j] : nullptr;
    if (new_route == nullptr || (old_route != nullptr && ByDestination(*old_route, *new_route))) {
      new_route = nullptr;
      ++i;
    } else if (old_route == nullptr || ByDestination(*new_route, *old_route)) {
      old_route = nullptr;
      ++j;
    } else {
      ++i;
      ++j;
      if (*old_route == *new_route) continue;
    }
    const babel::Destination& d = (old_route != nullptr ? old_route : new_route)->destination;
    RecordFibChange(node, d, old_route, new_route);
  }
  n.fib = std::move(fib);
}

void Network::RecordFibChange(int node, const babel::Destination& d,
                              const babel::InstalledRoute* old_route,
                              const babel::InstalledRoute* new_route) {
  FibChange c{node, d, {}, {}};
  if (old_route != nullptr) c.old_route = *old_route;
  if (new_route != nullptr) c.new_route = *new_route;
  Record({3, static_cast<uint64_t>(now().nanos()), static_cast<uint64_t>(node),
          HashRoute(d, new_route)},
         [&] {
           return fmt::format("{} fib node {} {} -> {}", now().nanos(), node, d.prefix.ToString(),
                              new_route != nullptr ? std::to_string(new_route->interface_id)
                                                   : std::string("none"));
         });
  changes_.push_back(c);
}

void Network::Record(std::initializer_list<uint64_t> words,
                     const std::function<std::string()>& text) {
  for (uint64_t w : words) trace_hash_ = (trace_hash_ ^ w) * 0x100000001b3ULL;
  if (params_.record_trace) trace_.push_back(text());
}

// ---------------------------------------------------------------- queries

bool Network::LinkUsable(size_t link) const {
  const Link& l = links_[link];
  return l.up && node_running(l.end[0].node) && node_running(l.end[1].node);
}

bool Network::node_running(int node) const {
  return nodes_[node]->protocol != nullptr;
}

uint32_t Network::InterfaceOn(int node, size_t link) const {
  const Link& l = links_[link];
  return l.end[0].node == node ? l.end[0].interface_id : l.end[1].interface_id;
}

std::optional<Hop> Network::Neighbour(int node, uint32_t interface_id) const {
  const Node& n = *nodes_[node];
  if (interface_id == 0 || interface_id > n.links.size()) return std::nullopt;
  const size_t link = n.links[interface_id - 1];
  const Link& l = links_[link];
  return Hop{l.end[0].node == node ? l.end[1].node : l.end[0].node, link};
}

const IpAddress& Network::link_local(int node) const {
  return nodes_[node]->link_local;
}

const std::vector<babel::Destination>& Network::prefixes(int node) const {
  return nodes_[node]->prefixes;
}

std::optional<int> Network::Owner(const babel::Destination& destination) const {
  auto it = owners_.find(destination);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

const std::vector<babel::InstalledRoute>& Network::fib(int node) const {
  return nodes_[node]->fib;
}

const babel::InstalledRoute* Network::FibEntry(int node,
                                               const babel::Destination& destination) const {
  const std::vector<babel::InstalledRoute>& fib = nodes_[node]->fib;
  auto it = std::lower_bound(fib.begin(), fib.end(), destination,
                             [](const babel::InstalledRoute& r, const babel::Destination& d) {
                               return r.destination < d;
                             });
  if (it == fib.end() || it->destination != destination) return nullptr;
  return &*it;
}

NodeProtocol* Network::protocol(int node) {
  return nodes_[node]->protocol.get();
}

}  // namespace plexus::sim
