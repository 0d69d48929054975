// Link-local UDP inside a link (DESIGN.md §2.2): Babel (port 6696) and plexus
// link control (port 6327) travel as IPv6 packets from one end's link-local
// address to the other's (or to a link-local multicast group), carried by the
// link like any other packet. The data plane hands such packets to the control
// thread whole; this file builds and checks them.
//
//   IPv6 header (40) | UDP header (8) | payload
//   src fe80::/64, dst fe80::/64 or ff02::/16, next header 17, hop limit 1
//
// Each node has one link-local address on every link, derived from its
// WireGuard public key, so either end can name the other without any
// exchange and a babeld on the far end sees a stable neighbour address.
//
// Thread use: pure functions.
#pragma once

#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "crypto/x25519.h"

namespace plexus::node {

// fe80::/64 with the interface identifier taken from BLAKE2s(public key).
IpAddress LinkLocalAddress(const crypto::PublicKey& key);

struct LinkLocalUdp {
  IpAddress source;
  IpAddress destination;
  uint16_t source_port = 0;
  uint16_t destination_port = 0;
  ByteSpan payload;  // points into the parsed packet
};

// The IPv6 + UDP packet carrying `payload` (checksum filled in).
Bytes BuildLinkLocalUdp(const IpAddress& source, const IpAddress& destination, uint16_t port,
                        ByteSpan payload);

// Checks and parses a packet handed over by the data plane: IPv6, UDP, a
// link-local source, a link-local or multicast destination, consistent
// lengths and a correct checksum. The error says which check failed.
Result<LinkLocalUdp> ParseLinkLocalUdp(ByteSpan packet);

}  // namespace plexus::node
