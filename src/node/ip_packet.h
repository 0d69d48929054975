// Minimal views of inner IP packets for the data plane: version, addresses and
// the lengths the workers need to route and check a packet (whitepaper §2,
// cryptokey routing: outbound by destination, inbound by source).
#pragma once

#include <cstddef>
#include <optional>

#include "base/bytes.h"

namespace plexus::node {

inline constexpr size_t kIpv4HeaderMin = 20;
inline constexpr size_t kIpv6HeaderSize = 40;

struct IpPacketView {
  int version = 0;                         // 4 or 6
  const std::byte* source = nullptr;       // 4 or 16 bytes
  const std::byte* destination = nullptr;  // 4 or 16 bytes
  size_t total_length = 0;                 // from the header; <= the buffer length
};

// Parses the fixed header of an IPv4 or IPv6 packet. nullopt when the buffer is
// shorter than the header or than the length the header claims, or the version
// is neither 4 nor 6. Trailing bytes past total_length (e.g. padding) are allowed.
inline std::optional<IpPacketView> ParseIpPacket(ByteSpan packet) {
  if (packet.empty()) return std::nullopt;
  const int version = std::to_integer<int>(packet[0]) >> 4;
  IpPacketView v;
  v.version = version;
  if (version == 4) {
    if (packet.size() < kIpv4HeaderMin) return std::nullopt;
    v.total_length = LoadBe16(packet.data() + 2);
    if (v.total_length < kIpv4HeaderMin || v.total_length > packet.size()) return std::nullopt;
    v.source = packet.data() + 12;
    v.destination = packet.data() + 16;
    return v;
  }
  if (version == 6) {
    if (packet.size() < kIpv6HeaderSize) return std::nullopt;
    v.total_length = kIpv6HeaderSize + LoadBe16(packet.data() + 4);
    if (v.total_length > packet.size()) return std::nullopt;
    v.source = packet.data() + 8;
    v.destination = packet.data() + 24;
    return v;
  }
  return std::nullopt;
}

}  // namespace plexus::node
