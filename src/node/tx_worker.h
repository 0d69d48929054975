// TxWorker: the TUN -> UDP half of the data plane (DESIGN.md §3).
//
//   TUN ReadBatch ──> [GSO super-packet? Segment into the arena, each segment
//   │                  placed so that sealed messages lie back to back]
//   │                 route by destination (AllowedIps) ──> peer's sending keypair
//   │                   none: stage a copy, ask the control thread for a handshake
//   └──> Seal in place (header in front, padding + tag behind)
//        ──> one UdpMessage per super-packet (UDP GSO) ──> UDP SendBatch
//
// THREADING: Run() is the body of one dedicated thread. It reads the
// published Snapshot once per batch and touches PeerSlot atomics and staged
// queues; everything else it owns. UDP sends are serialised with the control
// thread's through `udp_send_mutex` (KernelUdpSocket sends from one thread at
// a time).
#pragma once

#include <mutex>
#include <vector>

#include "base/time.h"
#include "io/tun_device.h"
#include "io/udp_socket.h"
#include "node/control_sink.h"
#include "node/drop_counters.h"
#include "node/snapshot.h"

namespace plexus::node {

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

class TxWorker {
 public:
  explicit TxWorker(WorkerEnv env);
  // Loops until the TUN device is shut down.
  void Run();

 private:
  struct Sent {
    uint32_t peer;
    std::shared_ptr<wireguard::Keypair> keypair;
    size_t bytes;
  };

  void HandleBatch(size_t count, Timestamp now);
  void HandlePacket(io::TunPacket& packet, Timestamp now);
  void HandleSuperPacket(const io::TunPacket& packet, Timestamp now);
  // Seals the plaintext at out[16..16+length) for its peer; returns the
  // message size, or 0 when the packet was staged or dropped.
  size_t Seal(MutableByteSpan out, size_t length, Timestamp now, const PeerView** peer_out);
  const PeerView* Route(ByteSpan packet);
  void Stage(const PeerView& peer, ByteSpan packet);
  void Queue(const PeerView& peer, MutableByteSpan messages, uint16_t segment_size, size_t bytes);
  void Flush(Timestamp now);

  WorkerEnv env_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::byte> tun_storage_;
  std::vector<io::TunPacket> tun_batch_;
  std::vector<std::byte> arena_;
  size_t arena_used_ = 0;
  std::vector<MutableByteSpan> segment_spans_;
  std::vector<io::UdpMessage> outgoing_;
  std::vector<Sent> sent_;
};

}  // namespace plexus::node
