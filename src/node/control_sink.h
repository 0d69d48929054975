// ControlSink: how the data-plane workers hand events to the control thread
// (the Node implements it by posting tasks to its EventLoop). Every method is
// called from a worker thread and must not block on the control thread.
#pragma once

#include <memory>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/time.h"
#include "wireguard/keypair.h"

namespace plexus::node {

class ControlSink {
 public:
  virtual ~ControlSink() = default;
  // A handshake message (types 1-3) to give to the WireGuard core.
  virtual void HandshakeMessage(Bytes datagram, const Endpoint& from) = 0;
  // The peer at `peer` has staged packets and no sending keypair.
  virtual void PacketQueued(uint32_t peer) = 0;
  // Transport messages were sent/received with `keypair` (merged per interval).
  virtual void TransportSent(std::shared_ptr<wireguard::Keypair> keypair, size_t bytes) = 0;
  virtual void TransportReceived(std::shared_ptr<wireguard::Keypair> keypair, const Endpoint& from,
                                 size_t bytes) = 0;
  // A link-local IPv6 control packet (Babel, UDP 6696; plexus link control,
  // UDP 6327) that arrived, decrypted, from the peer at index `peer` into
  // Snapshot::peers: the whole IPv6 packet (DESIGN.md §2.2).
  virtual void LinkLocalPacket(uint32_t peer, Bytes packet) = 0;
};

}  // namespace plexus::node
