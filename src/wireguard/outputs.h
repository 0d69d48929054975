// What the WireGuard core asks the node to do after each call (STYLE.md
// rule 5: cores return their output). Calls append to an Outputs.
#pragma once

#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "crypto/x25519.h"
#include "wireguard/drop_reason.h"

namespace plexus::wireguard {

// A UDP datagram to send as is (handshake message, cookie reply, or an
// already encrypted keepalive / data message).
struct Datagram {
  Endpoint to;
  Bytes bytes;
  // The peer it is for; unset for cookie replies (sent to a source address).
  std::optional<crypto::PublicKey> peer;
};

// A decrypted IP packet, produced only by Device::Receive (the control-thread
// receive path); still zero-padded to a multiple of 16 (trim by IP length).
struct ReceivedPacket {
  crypto::PublicKey peer;
  Bytes packet;
};

struct Outputs {
  std::vector<Datagram> datagrams;
  std::vector<ReceivedPacket> packets;
  // Peers whose staged (queued) packets can be sent now: a sending keypair
  // just became available.
  std::vector<crypto::PublicKey> flush_staged;
  // Peers whose staged packets must be dropped: the handshake gave up (§6.4).
  std::vector<crypto::PublicKey> drop_staged;
  // Some peer's keypairs (current/previous/next) or endpoint changed: the node
  // republishes its data-plane snapshot from Device::Keypairs() etc.
  bool keypairs_changed = false;
  // Keys Device::SetAdmission let in as new peers.
  std::vector<crypto::PublicKey> admitted;
  // Set when the input datagram (or packet) was dropped.
  std::optional<DropReason> drop;
};

}  // namespace plexus::wireguard
