#include "node/rx_worker.h"

#include <algorithm>

#include "babel/constants.h"
#include "mesh/constants.h"
#include "node/ip_packet.h"
#include "wireguard/messages.h"

namespace plexus::node {

namespace {

constexpr size_t kUdpBatch = 32;
constexpr size_t kTunBatch = 128;
// Forwarded packets sealed per flush before the arena is sent and reused.
constexpr size_t kForwardArenaBytes = 1 << 20;
// Link-local control packets handed to the control thread, per worker: far
// above what Babel and link control need, low enough to keep a flooding peer
// from swamping the event loop.
constexpr RateLimiter::Config kLinkLocalBudget{.per_second = 2000, .burst = 400};

// The destination port of IPv6 UDP from fe80::/10 to fe80::/10 or ff02::/16
// (no extension headers: neither Babel nor link control uses them); 0 for
// anything else.
uint16_t LinkLocalUdpPort(ByteSpan packet, const IpPacketView& ip) {
  if (ip.version != 6 || ip.protocol != kProtocolUdp || !IsLinkLocalV6(ip.source)) return 0;
  const bool to_link = IsLinkLocalV6(ip.destination) || (ip.destination[0] == std::byte{0xff} &&
                                                         ip.destination[1] == std::byte{0x02});
  if (!to_link || packet.size() < kIpv6HeaderSize + 8) return 0;
  return LoadBe16(packet.data() + kIpv6HeaderSize + 2);
}

// Babel or link control (DESIGN.md §2.2).
bool IsLinkControl(ByteSpan packet, const IpPacketView& ip) {
  const uint16_t port = LinkLocalUdpPort(packet, ip);
  return port == babel::kUdpPort || port == mesh::kLinkControlPort;
}

}  // namespace

RxWorker::RxWorker(WorkerEnv env)
    : env_(env),
      udp_storage_(kUdpBatch * io::kMaxUdpPayload),
      udp_batch_(kUdpBatch),
      tun_storage_(kTunBatch * io::kMaxTunPacket),
      tun_batch_(kTunBatch),
      order_(kTunBatch),
      writes_(kTunBatch),
      // Every packet was just authenticated by the AEAD (see offload.h).
      coalescer_(io::Coalescer::TransportChecksums::kTrust),
      link_local_budget_(kLinkLocalBudget),
      sender_(env_, kForwardArenaBytes),
      icmp_(env_.drops) {
  for (size_t i = 0; i < kTunBatch; ++i) {
    tun_batch_[i].buffer =
        MutableByteSpan(tun_storage_.data() + i * io::kMaxTunPacket, io::kMaxTunPacket);
  }
}

void RxWorker::Run() {
  while (true) {
    for (size_t i = 0; i < kUdpBatch; ++i) {
      udp_batch_[i].buffer =
          MutableByteSpan(udp_storage_.data() + i * io::kMaxUdpPayload, io::kMaxUdpPayload);
      udp_batch_[i].length = 0;
      udp_batch_[i].segment_size = 0;
    }
    Result<size_t> n = env_.udp.RecvBatch(udp_batch_);
    if (!n) return;
    if (*n == 0) {
      if (env_.udp.WaitReadable() == io::WaitOutcome::kWoken) return;
      continue;
    }
    const Timestamp now = env_.clock.Now();
    snapshot_ = env_.snapshots.Load();
    sender_.Use(*snapshot_);
    for (size_t i = 0; i < *n; ++i) {
      const io::UdpMessage& m = udp_batch_[i];
      for (size_t s = 0; s < m.segment_count(); ++s) HandleDatagram(m.Segment(s), m.endpoint, now);
    }
    FlushTun();
    ReportEvents(now);
    sender_.Flush(now);
  }
}

void RxWorker::HandleDatagram(MutableByteSpan datagram, const Endpoint& from, Timestamp now) {
  if (datagram.size() < 4) {
    env_.drops.Count(wireguard::DropReason::kTooShort);
    return;
  }
  const auto type = std::to_integer<uint8_t>(datagram[0]);
  if (type == static_cast<uint8_t>(wireguard::MessageType::kTransport)) {
    HandleTransport(datagram, from, now);
  } else if (type >= 1 && type <= 3) {
    env_.sink.HandshakeMessage(Bytes(datagram.begin(), datagram.end()), from);
  } else {
    env_.drops.Count(wireguard::DropReason::kUnknownType);
  }
}

void RxWorker::HandleTransport(MutableByteSpan datagram, const Endpoint& from, Timestamp now) {
  if (datagram.size() < wireguard::kTransportOverhead) {
    env_.drops.Count(wireguard::DropReason::kBadTransportSize);
    return;
  }
  auto it = snapshot_->by_receiver_index.find(LoadLe32(datagram.data() + 4));
  if (it == snapshot_->by_receiver_index.end()) {
    env_.drops.Count(wireguard::DropReason::kUnknownReceiverIndex);
    return;
  }
  if (tun_used_ == kTunBatch) FlushTun();
  io::PacketBuffer& slot = tun_batch_[tun_used_];
  wireguard::Verdict<size_t> n = it->second.keypair->Open(slot.buffer, datagram, now);
  if (!n) {
    env_.drops.Count(n.reason());
    return;
  }
  Account(it->second.peer, it->second.keypair, from, datagram.size());
  if (*n == 0) return;  // keepalive
  HandleInner(it->second.peer, slot.buffer.first(*n), now);
}

// The decrypted packet sits in the next free TUN slot.
void RxWorker::HandleInner(uint32_t peer, MutableByteSpan packet, Timestamp now) {
  std::optional<IpPacketView> ip = ParseIpPacket(packet);
  if (!ip) {
    env_.drops.Count(NodeDrop::kBadInnerPacket);
    return;
  }
  packet = packet.first(ip->total_length);
  // Until its certificate is verified a mesh link carries link control only.
  if (!snapshot_->peers[peer].authorised &&
      LinkLocalUdpPort(packet, *ip) != mesh::kLinkControlPort) {
    env_.drops.Count(NodeDrop::kUnauthorisedLink);
    return;
  }
  if (IsLinkScoped(*ip)) {
    HandleLinkScoped(peer, packet, *ip, now);
    return;
  }
  if (!SourceAllowed(peer, *ip)) {
    env_.drops.Count(NodeDrop::kSourceNotAllowed);
    return;
  }
  std::optional<ForwardingTarget> target = snapshot_->forwarding->Lookup(*ip);
  if (!target || target->kind == ForwardingTarget::Kind::kUnreachable) {
    env_.drops.Count(NodeDrop::kNoRoute);
    Answer(packet, target ? IcmpError::kUnreachable : IcmpError::kNoRoute, now);
  } else if (target->kind == ForwardingTarget::Kind::kLocal) {
    Deliver(packet.size());
  } else {
    Forward(target->peer, packet, *ip, now);
  }
}

// RFC 8200 §3 / RFC 1812 §5.3.1: a packet whose hop limit would reach 0 is
// answered, not forwarded; RFC 8201 / RFC 1191: so is one the next link cannot
// carry unfragmented. Back out the link it came in on is allowed (Babel may
// route so for a moment): the hop limit ends any loop.
void RxWorker::Forward(uint32_t to, MutableByteSpan packet, const IpPacketView& ip, Timestamp now) {
  if (HopLimit(packet, ip) <= 1) {
    env_.drops.Count(NodeDrop::kHopLimitExceeded);
    Answer(packet, IcmpError::kTimeExceeded, now);
    return;
  }
  if (packet.size() > env_.mtu && (ip.version == 6 || DontFragment(packet))) {
    env_.drops.Count(NodeDrop::kPacketTooBig);
    Answer(packet, IcmpError::kPacketTooBig, now);
    return;
  }
  DecrementHopLimit(packet, ip);
  sender_.Send(to, packet, now);
}

// Sends an ICMP error about `offending` to its source, wherever the
// forwarding table says that is.
void RxWorker::Answer(ByteSpan offending, IcmpError kind, Timestamp now) {
  MutableByteSpan error =
      icmp_.Build(*snapshot_, offending, kind, static_cast<uint32_t>(env_.mtu), now);
  std::optional<IpPacketView> ip = ParseIpPacket(error);
  if (!ip) return;
  std::optional<ForwardingTarget> target = snapshot_->forwarding->Lookup(*ip);
  if (!target || target->kind == ForwardingTarget::Kind::kUnreachable) return;
  if (target->kind == ForwardingTarget::Kind::kPeer) {
    sender_.Send(target->peer, error, now);
    return;
  }
  // To ourselves: into the TUN slot the offending packet occupied.
  std::copy(error.begin(), error.end(), tun_batch_[tun_used_].buffer.begin());
  Deliver(error.size());
}

// A static peer may only send from its allowed_prefixes (cryptokey routing,
// whitepaper §2); a mesh link carries traffic from anywhere.
bool RxWorker::SourceAllowed(uint32_t peer, const IpPacketView& ip) const {
  if (snapshot_->peers[peer].mesh) return true;
  const AllowedIps& table = *snapshot_->allowed_ips;
  return (ip.version == 4 ? table.LookupV4(ip.source) : table.LookupV6(ip.source)) == peer;
}

// Babel and link control reach the control thread (DESIGN.md §2.2); nothing
// else link-scoped is for us or may be forwarded.
void RxWorker::HandleLinkScoped(uint32_t peer, ByteSpan packet, const IpPacketView& ip,
                                Timestamp now) {
  if (!IsLinkControl(packet, ip)) {
    env_.drops.Count(NodeDrop::kLinkLocal);
    return;
  }
  if (!link_local_budget_.Take(now)) {
    env_.drops.Count(NodeDrop::kLinkLocalRateLimited);
    return;
  }
  env_.sink.LinkLocalPacket(peer, Bytes(packet.begin(), packet.end()));
}

// Takes the TUN slot the packet was opened into.
void RxWorker::Deliver(size_t length) {
  io::PacketBuffer& slot = tun_batch_[tun_used_];
  slot.length = length;
  slot.vnet = {};
  ++tun_used_;
}

void RxWorker::Account(uint32_t peer, const std::shared_ptr<wireguard::Keypair>& keypair,
                       const Endpoint& from, size_t bytes) {
  auto it = std::find_if(received_.begin(), received_.end(), [&](const Received& r) {
    return r.peer == peer && r.keypair == keypair && r.from == from;
  });
  if (it == received_.end()) {
    received_.push_back({peer, keypair, from, bytes});
  } else {
    it->bytes += bytes;
  }
  snapshot_->peers[peer].slot->rx_packets.fetch_add(1, std::memory_order_relaxed);
}

void RxWorker::FlushTun() {
  if (tun_used_ == 0) return;
  std::span<io::PacketBuffer> batch(tun_batch_.data(), tun_used_);
  size_t count = 0;
  if (env_.tun.has_vnet_header()) {
    count = coalescer_.Coalesce(batch, order_);
  } else {
    for (size_t i = 0; i < tun_used_; ++i) order_[i] = static_cast<uint32_t>(i);
    count = tun_used_;
  }
  for (size_t i = 0; i < count; ++i) {
    const io::PacketBuffer& p = tun_batch_[order_[i]];
    writes_[i].buffer = p.buffer;
    writes_[i].length = p.length;
    writes_[i].vnet = p.vnet;
  }
  {
    std::lock_guard lock(env_.tun_write_mutex);
    (void)env_.tun.WriteBatch(std::span(writes_.data(), count));
  }
  tun_used_ = 0;
}

// Byte counters always; control-thread events at most every kEventIntervalNs
// per peer, except at once for a keypair or endpoint the peer has not used in
// the last report (the core must confirm a new keypair and follow roaming).
void RxWorker::ReportEvents(Timestamp now) {
  for (Received& r : received_) {
    PeerSlot& slot = *snapshot_->peers[r.peer].slot;
    slot.rx_bytes.fetch_add(r.bytes, std::memory_order_relaxed);
    const PeerView& view = snapshot_->peers[r.peer];
    const bool news = r.keypair != view.sending || !view.endpoint || *view.endpoint != r.from;
    int64_t last = slot.last_received_event_ns.load(std::memory_order_relaxed);
    if (news || now.nanos() - last >= kEventIntervalNs) {
      slot.last_received_event_ns.store(now.nanos(), std::memory_order_relaxed);
      env_.sink.TransportReceived(std::move(r.keypair), r.from, r.bytes);
    }
  }
  received_.clear();
}

}  // namespace plexus::node
