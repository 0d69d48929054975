// LinkSender: the sending end of the data plane, shared by both workers (the
// TX worker sends what comes from TUN, the RX worker what it forwards and its
// ICMP errors).
//
//   Seal(peer, plaintext in place) ──> peer's sending keypair
//   │  none, or no endpoint: stage a copy; at Flush ask the control thread for
//   │  a handshake
//   └─> Queue(sealed messages, GSO segment size) ... Flush: one UDP SendBatch,
//       then byte counters and (merged) TransportSent events per peer
//
// The arena holds packets sealed since the last Flush (Reserve); Flush frees
// it, so spans from Reserve and buffers given to Queue must not be used after.
//
// THREADING: each worker owns one LinkSender and uses it from its thread
// only. UDP sends are serialised with the other worker's and the control
// thread's through `udp_send_mutex` (KernelUdpSocket sends from one thread at
// a time); staged queues are guarded by their PeerSlot's mutex.
#pragma once

#include <memory>
#include <mutex>
#include <vector>

#include "base/time.h"
#include "io/tun_device.h"
#include "io/udp_socket.h"
#include "node/control_sink.h"
#include "node/drop_counters.h"
#include "node/snapshot.h"
#include "wireguard/messages.h"

namespace plexus::node {

// Events to the control thread per peer and direction are merged within this.
inline constexpr int64_t kEventIntervalNs = 50'000'000;

// What a data-plane worker runs on (the Node's, or fakes in tests).
struct WorkerEnv {
  const Clock& clock;
  io::TunDevice& tun;
  io::UdpSocket& udp;
  std::mutex& udp_send_mutex;
  // Serialises TUN writes (TunDevice::WriteBatch: one thread at a time): the
  // RX worker's batches and the TX worker's ICMP errors.
  std::mutex& tun_write_mutex;
  const SnapshotHolder& snapshots;
  ControlSink& sink;
  DropCounters& drops;
  size_t mtu;
};

class LinkSender {
 public:
  // Room a plaintext needs in front (the transport header) and behind
  // (padding below 16 and the tag) to be sealed in place.
  static constexpr size_t kHeadroom = wireguard::kTransportHeaderSize;
  static constexpr size_t kTailroom = 16 + wireguard::kTagSize;

  LinkSender(const WorkerEnv& env, size_t arena_bytes);

  // The snapshot peers are looked up in until the next Use; the caller keeps
  // it alive until Flush.
  void Use(const Snapshot& snapshot) { snapshot_ = &snapshot; }

  // Seals the plaintext at out[kHeadroom, kHeadroom + length) for the peer at
  // `peer`; returns the message size, or 0 when the packet was staged (no
  // keypair or endpoint) or dropped.
  size_t Seal(uint32_t peer, MutableByteSpan out, size_t length, Timestamp now);
  // Queues sealed messages for `peer`: one, or a GSO run of equal-size ones
  // (`segment_size` > 0). `messages` must stay valid until Flush.
  void Queue(uint32_t peer, MutableByteSpan messages, uint16_t segment_size);
  // Copies `packet` into the arena, seals and queues it.
  void Send(uint32_t peer, ByteSpan packet, Timestamp now);
  // `bytes` of the arena, after a Flush when it is full; empty when `bytes`
  // exceeds the whole arena.
  MutableByteSpan Reserve(size_t bytes, Timestamp now);
  // Sends what is queued, counts it per peer, frees the arena, and then asks
  // the control thread for handshakes for the peers it staged packets for
  // (after the caller's own events, e.g. the RX worker's TransportReceived
  // that confirms a fresh responder session, which the staged packets can
  // then use at once).
  void Flush(Timestamp now);

 private:
  struct Sent {
    PeerSlot* slot;
    std::shared_ptr<wireguard::Keypair> keypair;
    size_t bytes;
  };

  void Stage(uint32_t peer, ByteSpan packet);

  const WorkerEnv env_;
  const Snapshot* snapshot_ = nullptr;
  std::vector<std::byte> arena_;
  size_t arena_used_ = 0;
  std::vector<io::UdpMessage> outgoing_;
  std::vector<Sent> sent_;
  std::vector<uint32_t> queued_;  // peers to ask for a handshake at Flush
};

}  // namespace plexus::node
