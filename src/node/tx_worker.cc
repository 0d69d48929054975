#include "node/tx_worker.h"

#include <algorithm>

#include "base/log.h"
#include "io/offload.h"
#include "node/ip_packet.h"
#include "wireguard/messages.h"

namespace plexus::node {

namespace {

constexpr size_t kTunBatch = 16;
constexpr size_t kHeadroom = wireguard::kTransportHeaderSize;
// Room behind a plaintext for padding (< 16) and the tag.
constexpr size_t kTailroom = 16 + wireguard::kTagSize;
constexpr size_t kTunSlot = kHeadroom + io::kMaxTunPacket + kTailroom;
constexpr size_t kArenaBytes = 4 << 20;
// Events to the control thread per peer and direction are merged within this.
constexpr int64_t kEventIntervalNs = 50'000'000;

// Length of each (but the last) segment of a GSO super-packet: IP header +
// transport header + gso_size. 0 when the headers cannot be read (Segment will
// then report the error).
size_t GsoSegmentLength(const io::VirtioNetHeader& vnet, ByteSpan p) {
  if (p.empty()) return 0;
  size_t l3 = 0;
  const int version = std::to_integer<int>(p[0]) >> 4;
  if (version == 4 && p.size() >= 20) l3 = (std::to_integer<size_t>(p[0]) & 0xf) * 4;
  if (version == 6) l3 = kIpv6HeaderSize;
  if (l3 == 0 || p.size() < l3 + 20) return 0;
  size_t l4 = vnet.gso_kind() == io::VirtioNetHeader::kGsoUdpL4
                  ? 8
                  : (std::to_integer<size_t>(p[l3 + 12]) >> 4) * 4;
  return l3 + l4 + vnet.gso_size;
}

}  // namespace

TxWorker::TxWorker(WorkerEnv env)
    : env_(env),
      tun_storage_(kTunBatch * kTunSlot),
      tun_batch_(kTunBatch),
      arena_(kArenaBytes),
      segment_spans_(io::kMaxSegments * 2) {
  outgoing_.reserve(256);
}

void TxWorker::Run() {
  while (true) {
    for (size_t i = 0; i < kTunBatch; ++i) {
      tun_batch_[i].buffer =
          MutableByteSpan(tun_storage_.data() + i * kTunSlot + kHeadroom, io::kMaxTunPacket);
      tun_batch_[i].length = 0;
    }
    Result<size_t> n = env_.tun.ReadBatch(tun_batch_);
    if (!n) return;
    if (*n == 0) {
      if (env_.tun.WaitReadable() == io::WaitOutcome::kWoken) return;
      continue;
    }
    HandleBatch(*n, env_.clock.Now());
  }
}

void TxWorker::HandleBatch(size_t count, Timestamp now) {
  snapshot_ = env_.snapshots.Load();
  arena_used_ = 0;
  for (size_t i = 0; i < count; ++i) {
    io::TunPacket& p = tun_batch_[i];
    if (p.vnet.gso_kind() != io::VirtioNetHeader::kGsoNone) {
      HandleSuperPacket(p, now);
    } else {
      HandlePacket(p, now);
    }
  }
  Flush(now);
}

const PeerView* TxWorker::Route(ByteSpan packet) {
  std::optional<IpPacketView> ip = ParseIpPacket(packet);
  if (!ip) {
    env_.drops.Count(NodeDrop::kNotIp);
    return nullptr;
  }
  const AllowedIps& table = *snapshot_->allowed_ips;
  std::optional<uint32_t> peer =
      ip->version == 4 ? table.LookupV4(ip->destination) : table.LookupV6(ip->destination);
  if (!peer) {
    env_.drops.Count(NodeDrop::kNoRoute);
    return nullptr;
  }
  return &snapshot_->peers[*peer];
}

void TxWorker::Stage(const PeerView& peer, ByteSpan packet) {
  PeerSlot& slot = *peer.slot;
  {
    std::lock_guard lock(slot.staged_mutex);
    if (slot.staged.size() >= kMaxStagedPackets) {
      slot.staged.pop_front();
      env_.drops.Count(NodeDrop::kStagedOverflow);
    }
    slot.staged.emplace_back(packet.begin(), packet.end());
  }
  if (!slot.queue_reported.exchange(true)) {
    env_.sink.PacketQueued(static_cast<uint32_t>(&peer - snapshot_->peers.data()));
  }
}

size_t TxWorker::Seal(MutableByteSpan out, size_t length, Timestamp now,
                      const PeerView** peer_out) {
  ByteSpan plaintext = out.subspan(kHeadroom, length);
  const PeerView* peer = Route(plaintext);
  *peer_out = peer;
  if (peer == nullptr) return 0;
  if (!peer->sending || !peer->endpoint) {
    Stage(*peer, plaintext);
    return 0;
  }
  wireguard::Verdict<size_t> sealed = peer->sending->Seal(out, plaintext, env_.mtu, now);
  if (!sealed) {
    env_.drops.Count(sealed.reason());
    Stage(*peer, plaintext);  // the keypair just expired: a new handshake is due
    return 0;
  }
  return *sealed;
}

void TxWorker::HandlePacket(io::TunPacket& packet, Timestamp now) {
  if (packet.vnet.needs_csum()) {
    if (io::CompleteChecksum(packet.vnet, packet.packet())) {
      env_.drops.Count(NodeDrop::kSegmentationError);
      return;
    }
  }
  // The slot has headroom in front of buffer and tailroom behind it.
  MutableByteSpan out(packet.buffer.data() - kHeadroom, kHeadroom + packet.length + kTailroom);
  const PeerView* peer = nullptr;
  size_t size = Seal(out, packet.length, now, &peer);
  if (size > 0) Queue(*peer, out.first(size), 0, size);
}

void TxWorker::HandleSuperPacket(const io::TunPacket& packet, Timestamp now) {
  const size_t seg_len = GsoSegmentLength(packet.vnet, packet.packet());
  const size_t stride =
      kHeadroom + wireguard::Keypair::PaddedSize(seg_len, env_.mtu) + wireguard::kTagSize;
  const size_t headers = seg_len - packet.vnet.gso_size;
  if (seg_len == 0 || packet.vnet.gso_size == 0 || packet.length < headers) {
    env_.drops.Count(NodeDrop::kSegmentationError);
    return;
  }
  const size_t segments = std::max<size_t>(
      1, (packet.length - headers + packet.vnet.gso_size - 1) / packet.vnet.gso_size);
  if (segments > segment_spans_.size() || segments * stride > arena_.size()) {
    env_.drops.Count(NodeDrop::kSegmentationError);
    return;
  }
  if (arena_used_ + segments * stride > arena_.size()) Flush(now);
  std::byte* base = arena_.data() + arena_used_;
  for (size_t i = 0; i < segments; ++i) {
    segment_spans_[i] = MutableByteSpan(base + i * stride + kHeadroom, stride - kHeadroom);
  }
  io::SegmentResult r =
      io::Segment(packet.vnet, packet.packet(), std::span(segment_spans_).first(segments));
  if (!r.ok()) {
    env_.drops.Count(NodeDrop::kSegmentationError);
    return;
  }
  // Seal each segment in place; equal-size messages lie back to back, so runs
  // of them leave as one GSO send (at most kMaxSegments each).
  size_t run_start = 0, run_bytes = 0, run_count = 0;
  const PeerView* run_peer = nullptr;
  auto end_run = [&] {
    if (run_count > 0) {
      Queue(*run_peer, MutableByteSpan(base + run_start, run_bytes),
            run_count > 1 ? static_cast<uint16_t>(stride) : 0, run_bytes);
    }
    run_count = 0;
    run_bytes = 0;
  };
  for (size_t i = 0; i < r.count; ++i) {
    const PeerView* peer = nullptr;
    size_t size =
        Seal(MutableByteSpan(base + i * stride, stride), segment_spans_[i].size(), now, &peer);
    if (size == 0) {
      end_run();
      continue;
    }
    // A GSO send is one UDP datagram to the kernel: at most kMaxUdpPayload bytes.
    if (run_count > 0 && run_bytes + size > io::kMaxUdpPayload) end_run();
    if (run_count == 0) {
      run_start = i * stride;
      run_peer = peer;
    }
    run_bytes += size;
    ++run_count;
    if (size != stride || run_count == io::kMaxSegments) end_run();
  }
  end_run();
  arena_used_ += r.count * stride;
}

void TxWorker::Queue(const PeerView& peer, MutableByteSpan messages, uint16_t segment_size,
                     size_t bytes) {
  io::UdpMessage m;
  m.buffer = messages;
  m.length = messages.size();
  m.endpoint = *peer.endpoint;
  m.segment_size = segment_size;
  outgoing_.push_back(m);
  const uint32_t index = static_cast<uint32_t>(&peer - snapshot_->peers.data());
  auto it =
      std::find_if(sent_.begin(), sent_.end(), [&](const Sent& s) { return s.peer == index; });
  if (it == sent_.end()) {
    sent_.push_back({index, peer.sending, bytes});
  } else {
    it->bytes += bytes;
  }
  peer.slot->tx_packets.fetch_add(m.segment_count(), std::memory_order_relaxed);
}

void TxWorker::Flush(Timestamp now) {
  if (!outgoing_.empty()) {
    std::lock_guard lock(env_.udp_send_mutex);
    (void)env_.udp.SendBatch(outgoing_);
  }
  outgoing_.clear();
  arena_used_ = 0;
  for (Sent& s : sent_) {
    PeerSlot& slot = *snapshot_->peers[s.peer].slot;
    slot.tx_bytes.fetch_add(s.bytes, std::memory_order_relaxed);
    int64_t last = slot.last_sent_event_ns.load(std::memory_order_relaxed);
    if (now.nanos() - last >= kEventIntervalNs) {
      slot.last_sent_event_ns.store(now.nanos(), std::memory_order_relaxed);
      env_.sink.TransportSent(std::move(s.keypair), s.bytes);
    }
  }
  sent_.clear();
}

}  // namespace plexus::node
