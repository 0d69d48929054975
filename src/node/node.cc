#include "node/node.h"

#include <future>

#include "base/log.h"
#include "node/link_local_udp.h"
#include "node/rx_worker.h"
#include "node/tx_worker.h"
#include "wireguard/messages.h"

namespace plexus::node {

namespace {

// Handshake messages waiting for the control thread beyond which the node is
// "under load" (whitepaper §5.3: answer with cookies, rate-limit sources) ...
constexpr int kUnderLoadBacklog = 64;
// ... and beyond which they are dropped outright.
constexpr int kMaxHandshakeBacklog = 4096;

wireguard::PeerConfig ToCorePeer(const PeerConfig& p) {
  wireguard::PeerConfig c;
  c.public_key = p.public_key;
  if (p.preshared_key) std::memcpy(c.preshared_key.data(), p.preshared_key->data(), 32);
  c.endpoint = p.endpoint;
  c.persistent_keepalive = std::chrono::seconds(p.persistent_keepalive);
  return c;
}

// The source of the ICMP errors of `family`: the first such interface address.
std::optional<IpAddress> FirstAddress(const std::vector<Prefix>& addresses, IpFamily family) {
  for (const Prefix& a : addresses) {
    if (a.family() == family) return a.address();
  }
  return std::nullopt;
}

}  // namespace

Node::Node(const Config& config, NodeIo io)
    : clock_(io.clock),
      random_(io.random),
      loop_(io.loop),
      tun_(std::move(io.tun)),
      udp_(std::move(io.udp)),
      addresses_(config.interface.addresses),
      networks_(config.interface.networks),
      announced_(config.babel.announce),
      mtu_(static_cast<size_t>(config.interface.mtu)),
      control_socket_(config.interface.control_socket),
      device_(std::make_unique<wireguard::Device>(config.interface.private_key.Clone(), random_,
                                                  clock_, mtu_)),
      kernel_routes_(std::move(io.routes)),
      state_dir_(std::move(io.state_dir)),
      identity_config_(config.identity),
      want_registry_agent_(io.registry_agent) {}

Node::~Node() {
  Stop();
}

Result<std::unique_ptr<Node>> Node::Create(const Config& config, NodeIo io) {
  std::unique_ptr<Node> node(new Node(config, std::move(io)));
  if (Status added = node->AddPeers(config); !added) return added.error();
  if (Status s = node->StartLinkControl(config, node->clock_.Now()); !s) return s.error();
  node->StartRouter(config, node->clock_.Now());
  node->Publish();
  return node;
}

Status Node::AddPeers(const Config& config) {
  auto table = std::make_shared<AllowedIps>();
  const Timestamp now = clock_.Now();
  for (const PeerConfig& p : config.peers) {
    Status added = device_->AddPeer(ToCorePeer(p), now);
    if (!added) return added.error().Wrap(fmt::format("peer {}", p.public_key.ToBase64()));
    const auto index = static_cast<uint32_t>(slots_.size());
    for (const Prefix& prefix : p.allowed_prefixes) {
      Status inserted = table->Insert(prefix, index);
      if (!inserted) return inserted.error();
    }
    AddSlot(p.public_key, p.allowed_prefixes, p.persistent_keepalive, false);
  }
  allowed_ips_ = std::move(table);
  return Ok();
}

uint32_t Node::AddSlot(const crypto::PublicKey& key, std::vector<Prefix> prefixes,
                       uint16_t keepalive, bool admitted) {
  uint32_t index = 0;
  auto retired = std::find(retired_.begin(), retired_.end(), true);
  if (retired != retired_.end()) {
    index = static_cast<uint32_t>(retired - retired_.begin());
    slots_[index] = std::make_shared<PeerSlot>(key);
    peer_prefixes_[index] = std::move(prefixes);
    peer_keepalive_[index] = keepalive;
    admitted_[index] = admitted;
    retired_[index] = false;
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.push_back(std::make_shared<PeerSlot>(key));
    peer_prefixes_.push_back(std::move(prefixes));
    peer_keepalive_.push_back(keepalive);
    admitted_.push_back(admitted);
    retired_.push_back(false);
  }
  peer_index_[key] = index;
  return index;
}

Status Node::Start() {
  WorkerEnv env{clock_, *tun_,  *udp_, udp_send_mutex_, tun_write_mutex_, snapshots_,
                *this,  drops_, mtu_};
  workers_.emplace_back([env] { TxWorker(env).Run(); });
  workers_.emplace_back([env] { RxWorker(env).Run(); });
  // Persistent keepalives and handshakes to peers with endpoints start now,
  // and Babel's first Hellos and Route Requests.
  Apply(device_->Tick(clock_.Now()));
  DriveRouter(clock_.Now());
  if (link_control_) DriveLinkControl(clock_.Now());
  if (link_control_ && want_registry_agent_) StartRegistryAgent();
  if (control_socket_.empty()) return Ok();
  auto server = ControlServer::Start(control_socket_, [this](const nlohmann::json& request) {
    auto done = std::make_shared<std::promise<nlohmann::json>>();
    std::future<nlohmann::json> answer = done->get_future();
    loop_.Post([this, done, request] { done->set_value(HandleRequest(request)); });
    if (answer.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
      return ControlError("the node did not answer in time (shutting down?)");
    }
    return answer.get();
  });
  if (!server) return server.error();
  control_ = std::move(*server);
  return Ok();
}

void Node::Stop() {
  if (registry_agent_) registry_agent_->Stop();
  if (control_) control_->Stop();
  tun_->Shutdown();
  udp_->Shutdown();
  for (std::thread& t : workers_) t.join();
  workers_.clear();
  if (timer_ != io::kNoTimer) loop_.Cancel(timer_);
  timer_ = io::kNoTimer;
}

// ---------------------------------------------------------------------------
// Worker events, handed to the control thread.

void Node::HandshakeMessage(Bytes datagram, const Endpoint& from) {
  if (handshake_backlog_.fetch_add(1) >= kMaxHandshakeBacklog) {
    handshake_backlog_.fetch_sub(1);
    drops_.Count(NodeDrop::kHandshakeBacklog);
    return;
  }
  loop_.Post([this, datagram = std::move(datagram), from] {
    const bool under_load = handshake_backlog_.fetch_sub(1) > kUnderLoadBacklog;
    Apply(device_->Receive(clock_.Now(), datagram, from, under_load));
  });
}

void Node::PacketQueued(uint32_t peer) {
  loop_.Post([this, peer] {
    if (retired_[peer]) return;
    PeerSlot& slot = *slots_[peer];
    slot.queue_reported.store(false);
    const Timestamp now = clock_.Now();
    wireguard::Outputs out = device_->PacketQueued(slot.public_key, now);
    // A worker that loaded its snapshot just before a keypair was published
    // may stage after the flush that followed: send those now.
    if (device_->SendingKeypair(slot.public_key, now)) out.flush_staged.push_back(slot.public_key);
    Apply(std::move(out));
  });
}

void Node::TransportSent(std::shared_ptr<wireguard::Keypair> keypair, size_t bytes) {
  loop_.Post([this, keypair = std::move(keypair), bytes] {
    const Timestamp now = clock_.Now();
    if (std::optional<uint32_t> peer = IndexOf(keypair->peer())) router_->TransportSent(*peer, now);
    Apply(device_->TransportSent(*keypair, bytes, bytes, now));
  });
}

void Node::TransportReceived(std::shared_ptr<wireguard::Keypair> keypair, const Endpoint& from,
                             size_t bytes) {
  loop_.Post([this, keypair = std::move(keypair), from, bytes] {
    const Timestamp now = clock_.Now();
    Apply(device_->TransportReceived(*keypair, from, bytes, bytes, now));
    if (std::optional<uint32_t> peer = IndexOf(keypair->peer())) {
      // One keepalive alone (the far end's liveness probe) is one bare
      // transport header and tag.
      router_->TransportReceived(*peer, now, bytes == wireguard::kTransportOverhead);
      DriveRouter(now);
    }
  });
}

void Node::LinkLocalPacket(uint32_t peer, Bytes packet) {
  loop_.Post([this, peer, packet = std::move(packet)]() mutable {
    HandleLinkLocal(peer, std::move(packet));
  });
}

// ---------------------------------------------------------------------------
// Control thread.

// Babel and link control over a mesh link. Static (WireGuard leaf) peers take
// no part in either.
void Node::HandleLinkLocal(uint32_t peer, Bytes packet) {
  if (peer >= slots_.size() || !IsMesh(peer) || retired_[peer]) {
    PLEXUS_LOG_DEBUG("link-local packet from static or retired peer {} ignored", peer);
    return;
  }
  const Timestamp now = clock_.Now();
  Result<LinkLocalUdp> udp = ParseLinkLocalUdp(packet);
  if (udp && link_control_ && udp->destination_port == mesh::kLinkControlPort) {
    HandleLinkControl(peer, udp->payload, now);
    return;
  }
  if (!Authorised(peer)) {
    drops_.Count(NodeDrop::kUnauthorisedLink);
    return;
  }
  Status s = udp ? router_->Receive(peer, *udp, now) : router_->Receive(peer, packet, now);
  if (!s) {
    PLEXUS_LOG_DEBUG("link-local packet from peer {}: {}", peer, s.error().message());
  }
  DriveRouter(now);
}

void Node::SetRoutedForTesting(std::vector<ForwardingEntry> routed) {
  routed_for_testing_ = std::move(routed);
  Publish();
}

void Node::Apply(wireguard::Outputs out) {
  for (const crypto::PublicKey& key : out.admitted) AdmitPeer(key, clock_.Now());
  if (out.keypairs_changed || !out.admitted.empty()) Publish();
  for (const crypto::PublicKey& peer : out.drop_staged) DropStaged(peer);
  for (const crypto::PublicKey& peer : out.flush_staged) FlushStaged(peer, out.datagrams);
  SendDatagrams(out.datagrams);
  ArmTimer();
}

void Node::SendDatagrams(std::vector<wireguard::Datagram>& datagrams) {
  if (datagrams.empty()) return;
  std::vector<io::UdpMessage> batch;
  batch.reserve(datagrams.size());
  for (wireguard::Datagram& d : datagrams) {
    CountTransportSent(d);
    io::UdpMessage m;
    m.buffer = d.bytes;
    m.length = d.bytes.size();
    m.endpoint = d.to;
    batch.push_back(m);
  }
  std::lock_guard lock(udp_send_mutex_);
  for (size_t i = 0; i < batch.size(); i += io::kMaxSegments) {
    size_t n = std::min<size_t>(io::kMaxSegments, batch.size() - i);
    (void)udp_->SendBatch(std::span(batch).subspan(i, n));
  }
}

// Transport messages the control thread sends (staged packets, keepalives)
// count like the workers' in the peer's totals, as `wg show` counts them.
void Node::CountTransportSent(const wireguard::Datagram& d) {
  if (!d.peer || d.bytes.empty()) return;
  if (std::to_integer<uint8_t>(d.bytes[0]) !=
      static_cast<uint8_t>(wireguard::MessageType::kTransport)) {
    return;
  }
  if (PeerSlot* slot = SlotFor(*d.peer)) {
    slot->tx_bytes.fetch_add(d.bytes.size(), std::memory_order_relaxed);
    slot->tx_packets.fetch_add(1, std::memory_order_relaxed);
  }
}

// Encrypts the packets staged while the handshake ran, now that a keypair exists.
void Node::FlushStaged(const crypto::PublicKey& peer, std::vector<wireguard::Datagram>& out) {
  PeerSlot* slot = SlotFor(peer);
  if (slot == nullptr) return;
  std::deque<Bytes> staged;
  {
    std::lock_guard lock(slot->staged_mutex);
    staged.swap(slot->staged);
  }
  const Timestamp now = clock_.Now();
  for (const Bytes& packet : staged) {
    wireguard::Outputs sent = device_->Send(peer, packet, now);
    if (sent.drop) drops_.Count(*sent.drop);
    for (wireguard::Datagram& d : sent.datagrams) out.push_back(std::move(d));
    if (sent.keypairs_changed) Publish();
  }
}

void Node::DropStaged(const crypto::PublicKey& peer) {
  PeerSlot* slot = SlotFor(peer);
  if (slot == nullptr) return;
  std::lock_guard lock(slot->staged_mutex);
  for (size_t i = 0; i < slot->staged.size(); ++i) drops_.Count(wireguard::DropReason::kNoKeypair);
  slot->staged.clear();
}

// The forwarding table (DESIGN.md §2.6). Where two entries name the same
// destination and source the first wins: our own addresses (kLocal), static
// peers' allowed_prefixes, the networks of our addresses (on the TUN device,
// so kLocal), then the routes the routing protocol selected.
std::shared_ptr<const ForwardingTable> Node::BuildForwardingTable() const {
  constexpr ForwardingTarget kLocal{ForwardingTarget::Kind::kLocal, 0};
  std::vector<ForwardingEntry> entries;
  for (const Prefix& a : addresses_) {
    entries.push_back({Prefix(a.address(), a.address().bit_length()), std::nullopt, kLocal});
  }
  for (uint32_t i = 0; i < peer_prefixes_.size(); ++i) {
    for (const Prefix& p : peer_prefixes_[i]) {
      entries.push_back({p, std::nullopt, {ForwardingTarget::Kind::kPeer, i}});
    }
  }
  for (const Prefix& a : addresses_) {
    if (a.length() < a.address().bit_length()) entries.push_back({a, std::nullopt, kLocal});
  }
  // Announced prefixes (a LAN behind this node) are the kernel's to route on.
  for (const Prefix& p : announced_) entries.push_back({p, std::nullopt, kLocal});
  entries.insert(entries.end(), routed_for_testing_.begin(), routed_for_testing_.end());
  entries.insert(entries.end(), routed_.begin(), routed_.end());
  // Inside the overlay, what no route covers is unreachable (DESIGN.md §2.4).
  constexpr ForwardingTarget kUnreachable{ForwardingTarget::Kind::kUnreachable, 0};
  for (const Prefix& n : networks_) entries.push_back({n, std::nullopt, kUnreachable});
  auto table = std::make_shared<ForwardingTable>();
  for (const ForwardingEntry& e : entries) {
    if (Status s = table->Insert(e); !s) PLEXUS_LOG_DEBUG("forwarding: {}", s.error().message());
  }
  return table;
}

void Node::Publish() {
  auto s = std::make_shared<Snapshot>();
  s->allowed_ips = allowed_ips_;
  s->forwarding = BuildForwardingTable();
  s->icmp_source_v6 = FirstAddress(addresses_, IpFamily::kV6);
  s->icmp_source_v4 = FirstAddress(addresses_, IpFamily::kV4);
  const Timestamp now = clock_.Now();
  std::unordered_map<crypto::PublicKey, uint32_t, crypto::PublicKeyHash> index_of;
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    const crypto::PublicKey& key = slots_[i]->public_key;
    if (retired_[i]) {  // keeps its index; nothing reaches it
      s->peers.push_back({slots_[i].get(), nullptr, std::nullopt, true, false});
      s->slots.push_back(slots_[i]);
      continue;
    }
    s->peers.push_back({slots_[i].get(), device_->SendingKeypair(key, now),
                        device_->PeerEndpoint(key), IsMesh(i), Authorised(i)});
    s->slots.push_back(slots_[i]);
    index_of[key] = i;
  }
  for (std::shared_ptr<wireguard::Keypair>& k : device_->Keypairs()) {
    auto it = index_of.find(k->peer());
    if (it != index_of.end()) s->by_receiver_index[k->local_index()] = {k, it->second};
  }
  snapshots_.Publish(std::move(s));
}

void Node::ArmTimer() {
  Timestamp deadline = std::min(device_->NextDeadline(), router_->NextDeadline());
  if (link_control_) deadline = std::min(deadline, link_control_->NextDeadline());
  for (const auto& [peer, until] : pending_) deadline = std::min(deadline, until);
  for (const auto& [peer, start] : link_starts_) deadline = std::min(deadline, start);
  if (deadline == timer_deadline_ && timer_ != io::kNoTimer) return;
  if (timer_ != io::kNoTimer) loop_.Cancel(timer_);
  timer_ = io::kNoTimer;
  timer_deadline_ = deadline;
  if (deadline.IsInfinite()) return;
  timer_ = loop_.ScheduleAt(deadline, [this] {
    timer_ = io::kNoTimer;
    timer_deadline_ = Timestamp::Infinite();
    const Timestamp now = clock_.Now();
    router_->Tick(now);
    DriveRouter(now);
    if (link_control_) TickLinkControl(now);
    Apply(device_->Tick(now));
  });
}

PeerSlot* Node::SlotFor(const crypto::PublicKey& key) {
  std::optional<uint32_t> index = IndexOf(key);
  return index ? slots_[*index].get() : nullptr;
}

std::optional<uint32_t> Node::IndexOf(const crypto::PublicKey& key) const {
  auto it = peer_index_.find(key);
  if (it == peer_index_.end()) return std::nullopt;
  return it->second;
}

// ---------------------------------------------------------------------------
// Routing.

void Node::StartRouter(const Config& config, Timestamp now) {
  RouterParams params = MakeRouterParams(config.babel, device_->public_key());
  std::string seqno_file = config.babel.seqno_file;
  if (seqno_file.empty() && !state_dir_.empty()) {
    seqno_file =
        fmt::format("{}/babel-seqno-{}", state_dir_, ToHex(params.engine.router_id.bytes()));
  }
  seqno_store_ = std::make_unique<SeqnoStore>(seqno_file);
  params.engine.initial_seqno = seqno_store_->Start(random_);
  if (link_control_) {
    params.engine.import_filter = [this](uint32_t, const babel::RouterId& origin,
                                         const babel::Destination& d) {
      return AcceptRoute(origin, d);
    };
  }
  router_ = std::make_unique<Router>(params, random_, now);
  // With an identity, Babel starts on a link when it is authorised.
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (IsMesh(i) && Authorised(i)) router_->AddLink(i, now);
  }
  // Originated: the TUN's own prefixes, extra announcements, and the
  // prefixes of static (WireGuard leaf) peers, which are reached through us.
  for (const Prefix& p : addresses_) router_->AddPrefix(p.Network(), now);
  for (const Prefix& p : announced_) router_->AddPrefix(p, now);
  for (const std::vector<Prefix>& prefixes : peer_prefixes_) {
    for (const Prefix& p : prefixes) router_->AddPrefix(p, now);
  }
}

void Node::DriveRouter(Timestamp now) {
  RouterOutput routed = router_->TakeOutput();
  wireguard::Outputs out;
  for (const LinkPacket& p : routed.packets) SendOnLink(p.link, p.packet, now, out.datagrams);
  for (uint32_t link : routed.probes) SendProbe(link, now, out.datagrams);
  for (uint32_t link : routed.went_down) {
    wireguard::Outputs sent = device_->Rehandshake(slots_[link]->public_key, now);
    for (wireguard::Datagram& d : sent.datagrams) out.datagrams.push_back(std::move(d));
  }
  FollowRoutes();
  Apply(std::move(out));
}

// Encrypts a packet of the control plane for `peer`; without a session it is
// staged, like the data plane's, and sent when the handshake completes.
void Node::SendOnLink(uint32_t peer, const Bytes& packet, Timestamp now,
                      std::vector<wireguard::Datagram>& out) {
  PeerSlot& slot = *slots_[peer];
  wireguard::Outputs sent = device_->Send(slot.public_key, packet, now);
  if (sent.drop == wireguard::DropReason::kNoKeypair) {
    if (slot.Stage(packet)) drops_.Count(NodeDrop::kStagedOverflow);
  } else if (sent.drop) {
    drops_.Count(*sent.drop);
  } else {
    router_->TransportSent(peer, now);
  }
  for (wireguard::Datagram& d : sent.datagrams) out.push_back(std::move(d));
  if (sent.keypairs_changed) Publish();
}

// A keepalive (an empty transport message) so the far end's LinkLiveness
// hears from us; without a session, Send starts a handshake instead.
void Node::SendProbe(uint32_t peer, Timestamp now, std::vector<wireguard::Datagram>& out) {
  wireguard::Outputs sent = device_->Send(slots_[peer]->public_key, {}, now);
  for (wireguard::Datagram& d : sent.datagrams) out.push_back(std::move(d));
  if (sent.keypairs_changed) Publish();
}

// Republishes the forwarding table and updates the kernel's routes when the
// selected routes changed.
void Node::FollowRoutes() {
  seqno_store_->Follow(router_->engine().seqno());
  const uint64_t version = router_->engine().fib_version();
  if (version == fib_version_) return;
  fib_version_ = version;
  const std::vector<babel::InstalledRoute> fib = router_->engine().Fib();
  routed_.clear();
  for (const babel::InstalledRoute& r : fib) {
    routed_.push_back({r.destination.prefix,
                       r.destination.source_prefix,
                       {ForwardingTarget::Kind::kPeer, r.interface_id}});
  }
  Publish();
  SyncKernelRoutes(fib);
}

void Node::SyncKernelRoutes(const std::vector<babel::InstalledRoute>& fib) {
  if (!kernel_routes_) return;
  std::set<babel::Destination> wanted;
  for (const babel::InstalledRoute& r : fib) wanted.insert(r.destination);
  for (const babel::Destination& d : installed_) {
    if (wanted.contains(d)) continue;
    if (Status s = kernel_routes_->Remove(d); !s) {
      PLEXUS_LOG_WARNING("removing the route to {}: {}", d.prefix.ToString(), s.error().message());
    }
  }
  std::set<babel::Destination> installed;
  for (const babel::Destination& d : wanted) {
    Status s = installed_.contains(d) ? Ok() : kernel_routes_->Add(d);
    if (!s) {
      PLEXUS_LOG_WARNING("adding the route to {}: {}", d.prefix.ToString(), s.error().message());
      continue;
    }
    installed.insert(d);
  }
  installed_ = std::move(installed);
}

}  // namespace plexus::node
