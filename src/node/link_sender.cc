#include "node/link_sender.h"

#include <algorithm>

namespace plexus::node {

LinkSender::LinkSender(const WorkerEnv& env, size_t arena_bytes) : env_(env), arena_(arena_bytes) {
  outgoing_.reserve(256);
  queued_.reserve(64);
}

void LinkSender::Stage(uint32_t peer, ByteSpan packet) {
  PeerSlot& slot = *snapshot_->peers[peer].slot;
  if (slot.Stage(packet)) env_.drops.Count(NodeDrop::kStagedOverflow);
  if (!slot.queue_reported.exchange(true)) queued_.push_back(peer);
}

size_t LinkSender::Seal(uint32_t peer, MutableByteSpan out, size_t length, Timestamp now) {
  const PeerView& view = snapshot_->peers[peer];
  ByteSpan plaintext = out.subspan(kHeadroom, length);
  if (!view.authorised) {  // no route should lead here; a stale snapshot might
    env_.drops.Count(NodeDrop::kUnauthorisedLink);
    return 0;
  }
  if (!view.sending || !view.endpoint) {
    Stage(peer, plaintext);
    return 0;
  }
  wireguard::Verdict<size_t> sealed = view.sending->Seal(out, plaintext, env_.mtu, now);
  if (!sealed) {
    env_.drops.Count(sealed.reason());
    Stage(peer, plaintext);  // the keypair just expired: a new handshake is due
    return 0;
  }
  return *sealed;
}

void LinkSender::Queue(uint32_t peer, MutableByteSpan messages, uint16_t segment_size) {
  const PeerView& view = snapshot_->peers[peer];
  io::UdpMessage m;
  m.buffer = messages;
  m.length = messages.size();
  m.endpoint = *view.endpoint;
  m.segment_size = segment_size;
  outgoing_.push_back(m);
  auto it =
      std::find_if(sent_.begin(), sent_.end(), [&](const Sent& s) { return s.slot == view.slot; });
  if (it == sent_.end()) {
    sent_.push_back({view.slot, view.sending, messages.size()});
  } else {
    it->bytes += messages.size();
  }
  view.slot->tx_packets.fetch_add(m.segment_count(), std::memory_order_relaxed);
}

void LinkSender::Send(uint32_t peer, ByteSpan packet, Timestamp now) {
  MutableByteSpan out = Reserve(kHeadroom + packet.size() + kTailroom, now);
  if (out.empty()) return;  // cannot happen for packets up to io::kMaxTunPacket
  std::copy(packet.begin(), packet.end(), out.begin() + kHeadroom);
  const size_t size = Seal(peer, out, packet.size(), now);
  if (size > 0) Queue(peer, out.first(size), 0);
}

MutableByteSpan LinkSender::Reserve(size_t bytes, Timestamp now) {
  if (bytes > arena_.size()) return {};
  if (arena_used_ + bytes > arena_.size()) Flush(now);
  MutableByteSpan out(arena_.data() + arena_used_, bytes);
  arena_used_ += bytes;
  return out;
}

void LinkSender::Flush(Timestamp now) {
  if (!outgoing_.empty()) {
    std::lock_guard lock(env_.udp_send_mutex);
    (void)env_.udp.SendBatch(outgoing_);
  }
  outgoing_.clear();
  arena_used_ = 0;
  for (Sent& s : sent_) {
    s.slot->tx_bytes.fetch_add(s.bytes, std::memory_order_relaxed);
    int64_t last = s.slot->last_sent_event_ns.load(std::memory_order_relaxed);
    if (now.nanos() - last >= kEventIntervalNs) {
      s.slot->last_sent_event_ns.store(now.nanos(), std::memory_order_relaxed);
      env_.sink.TransportSent(std::move(s.keypair), s.bytes);
    }
  }
  sent_.clear();
  for (uint32_t peer : queued_) env_.sink.PacketQueued(peer);
  queued_.clear();
}

}  // namespace plexus::node
