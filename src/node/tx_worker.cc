#include "node/tx_worker.h"

#include <algorithm>

#include "base/log.h"
#include "io/offload.h"
#include "node/ip_packet.h"
#include "wireguard/messages.h"

namespace plexus::node {

namespace {

constexpr size_t kTunBatch = 16;
constexpr size_t kHeadroom = LinkSender::kHeadroom;
constexpr size_t kTunSlot = kHeadroom + io::kMaxTunPacket + LinkSender::kTailroom;
constexpr size_t kArenaBytes = 4 << 20;

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
      segment_spans_(io::kMaxSegments * 2),
      sender_(env_, kArenaBytes),
      icmp_(env_.drops) {}

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
  sender_.Use(*snapshot_);
  for (size_t i = 0; i < count; ++i) {
    io::TunPacket& p = tun_batch_[i];
    if (p.vnet.gso_kind() != io::VirtioNetHeader::kGsoNone) {
      HandleSuperPacket(p, now);
    } else {
      HandlePacket(p, now);
    }
  }
  sender_.Flush(now);
}

// The peer a packet from TUN goes to, or nullopt when it was dropped or
// answered with an ICMP error.
std::optional<uint32_t> TxWorker::Route(ByteSpan packet, Timestamp now) {
  std::optional<IpPacketView> ip = ParseIpPacket(packet);
  if (!ip) {
    env_.drops.Count(NodeDrop::kNotIp);
    return std::nullopt;
  }
  if (IsLinkScoped(*ip)) {
    env_.drops.Count(NodeDrop::kLinkLocal);
    return std::nullopt;
  }
  std::optional<ForwardingTarget> target = snapshot_->forwarding->Lookup(*ip);
  if (!target || target->kind == ForwardingTarget::Kind::kUnreachable) {
    Unreachable(packet, *ip, target ? IcmpError::kUnreachable : IcmpError::kNoRoute, now);
    return std::nullopt;
  }
  if (target->kind == ForwardingTarget::Kind::kLocal) {
    env_.drops.Count(NodeDrop::kLocalDestination);
    return std::nullopt;
  }
  return target->peer;
}

// RFC 4443 §3.1 / RFC 792: tell the sender, which is behind our TUN device
// (the kernel routes the error on if the sender is not this host).
void TxWorker::Unreachable(ByteSpan packet, const IpPacketView& ip, IcmpError kind, Timestamp now) {
  env_.drops.Count(NodeDrop::kNoRoute);
  MutableByteSpan error = icmp_.Build(*snapshot_, packet.first(ip.total_length), kind, 0, now);
  if (error.empty()) return;
  io::TunPacket out;
  out.buffer = error;
  out.length = error.size();
  std::lock_guard lock(env_.tun_write_mutex);
  (void)env_.tun.WriteBatch(std::span(&out, 1));
}

size_t TxWorker::Seal(MutableByteSpan out, size_t length, Timestamp now, uint32_t* peer_out) {
  std::optional<uint32_t> peer = Route(out.subspan(kHeadroom, length), now);
  if (!peer) return 0;
  *peer_out = *peer;
  return sender_.Seal(*peer, out, length, now);
}

void TxWorker::HandlePacket(io::TunPacket& packet, Timestamp now) {
  if (packet.vnet.needs_csum()) {
    if (io::CompleteChecksum(packet.vnet, packet.packet())) {
      env_.drops.Count(NodeDrop::kSegmentationError);
      return;
    }
  }
  // The slot has headroom in front of buffer and tailroom behind it.
  MutableByteSpan out(packet.buffer.data() - kHeadroom,
                      kHeadroom + packet.length + LinkSender::kTailroom);
  uint32_t peer = 0;
  size_t size = Seal(out, packet.length, now, &peer);
  if (size > 0) sender_.Queue(peer, out.first(size), 0);
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
  MutableByteSpan area;
  if (segments <= segment_spans_.size()) area = sender_.Reserve(segments * stride, now);
  if (area.empty()) {
    env_.drops.Count(NodeDrop::kSegmentationError);
    return;
  }
  std::byte* base = area.data();
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
  uint32_t run_peer = 0;
  auto end_run = [&] {
    if (run_count > 0) {
      sender_.Queue(run_peer, MutableByteSpan(base + run_start, run_bytes),
                    run_count > 1 ? static_cast<uint16_t>(stride) : 0);
    }
    run_count = 0;
    run_bytes = 0;
  };
  for (size_t i = 0; i < r.count; ++i) {
    uint32_t peer = 0;
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
}

}  // namespace plexus::node
