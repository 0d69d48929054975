// RxWorker: the UDP -> TUN half of the data plane (DESIGN.md §3).
//
//   UDP RecvBatch (GRO: one buffer, many datagrams)
//     type 1-3 ──> copy to the control thread (WireGuard core)
//     type 4   ──> receiver index ──> Snapshot keypair ──> Open into a TUN slot
//                  ──> link-local Babel / link control ──> copy to the control thread
//                  ──> inner source must be in a static sender's allowed_prefixes
//                  ──> forwarding table:
//                        ours ──> Coalescer (TCP segments -> super-packets) ──> TUN WriteBatch
//                        a peer ──> hop limit - 1 ──> LinkSender (seal, UDP batch)
//                        none / unreachable, hop limit spent, too big
//                             ──> ICMP error back toward the source (rate-limited)
//
// THREADING: Run() is the body of one dedicated thread; like TxWorker it
// reads the published Snapshot once per batch, and sends through its own
// LinkSender. TUN writes take `tun_write_mutex` (the TX worker writes ICMP
// errors too).
#pragma once

#include <vector>

#include "io/offload.h"
#include "node/icmp_error.h"
#include "node/ip_packet.h"
#include "node/link_sender.h"

namespace plexus::node {

class RxWorker {
 public:
  explicit RxWorker(WorkerEnv env);
  // Loops until the UDP socket is shut down.
  void Run();

 private:
  struct Received {
    uint32_t peer;
    std::shared_ptr<wireguard::Keypair> keypair;
    Endpoint from;
    size_t bytes;
  };

  void HandleDatagram(MutableByteSpan datagram, const Endpoint& from, Timestamp now);
  void HandleTransport(MutableByteSpan datagram, const Endpoint& from, Timestamp now);
  void HandleInner(uint32_t peer, MutableByteSpan packet, Timestamp now);
  void Forward(uint32_t to, MutableByteSpan packet, const IpPacketView& ip, Timestamp now);
  void Answer(ByteSpan offending, IcmpError kind, Timestamp now);
  bool SourceAllowed(uint32_t peer, const IpPacketView& ip) const;
  void HandleLinkScoped(uint32_t peer, ByteSpan packet, const IpPacketView& ip, Timestamp now);
  void Deliver(size_t length);
  void Account(uint32_t peer, const std::shared_ptr<wireguard::Keypair>& keypair,
               const Endpoint& from, size_t bytes);
  void FlushTun();
  void ReportEvents(Timestamp now);

  WorkerEnv env_;
  std::shared_ptr<const Snapshot> snapshot_;
  std::vector<std::byte> udp_storage_;
  std::vector<io::UdpMessage> udp_batch_;
  std::vector<std::byte> tun_storage_;
  std::vector<io::PacketBuffer> tun_batch_;
  size_t tun_used_ = 0;
  std::vector<uint32_t> order_;
  std::vector<io::TunPacket> writes_;
  io::Coalescer coalescer_;
  std::vector<Received> received_;
  RateLimiter link_local_budget_;
  LinkSender sender_;
  IcmpErrors icmp_;
};

}  // namespace plexus::node
