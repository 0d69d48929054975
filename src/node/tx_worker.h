// TxWorker: the TUN -> UDP half of the data plane (DESIGN.md §3, §2.6).
//
//   TUN ReadBatch ──> [GSO super-packet? Segment into the sender's arena, each
//   │                  segment placed so that sealed messages lie back to back]
//   │                 link-scoped (fe80::/10, multicast: the kernel's ND/MLD) ──> drop
//   │                 forwarding table by destination (and source):
//   │                   none / unreachable ──> ICMP error written back to TUN
//   │                   ourselves ──> drop
//   └──> peer ──> LinkSender: seal in place (header in front, padding + tag
//        behind), or stage and ask for a handshake ──> one UdpMessage per
//        super-packet (UDP GSO) ──> UDP SendBatch
//
// THREADING: Run() is the body of one dedicated thread. It reads the
// published Snapshot once per batch and touches PeerSlot atomics and staged
// queues (through its LinkSender); everything else it owns. Its rare TUN
// writes (ICMP errors) take `tun_write_mutex` like the RX worker's.
#pragma once

#include <optional>
#include <vector>

#include "node/icmp_error.h"
#include "node/link_sender.h"

namespace plexus::node {

class TxWorker {
 public:
  explicit TxWorker(WorkerEnv env);
  // Loops until the TUN device is shut down.
  void Run();

 private:
  void HandleBatch(size_t count, Timestamp now);
  void HandlePacket(io::TunPacket& packet, Timestamp now);
  void HandleSuperPacket(const io::TunPacket& packet, Timestamp now);
  // Routes and seals the plaintext at out[kHeadroom, kHeadroom + length);
  // returns the message size and its peer, or 0 when the packet was staged,
  // dropped or answered.
  size_t Seal(MutableByteSpan out, size_t length, Timestamp now, uint32_t* peer_out);
  std::optional<uint32_t> Route(ByteSpan packet, Timestamp now);
  void Unreachable(ByteSpan packet, const IpPacketView& ip, IcmpError kind, Timestamp now);

  WorkerEnv env_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::byte> tun_storage_;
  std::vector<io::TunPacket> tun_batch_;
  std::vector<MutableByteSpan> segment_spans_;
  LinkSender sender_;
  IcmpErrors icmp_;
};

}  // namespace plexus::node
