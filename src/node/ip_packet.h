// Minimal views of inner IP packets for the data plane: version, addresses and
// the fields the workers need to route, check and forward a packet
// (whitepaper §2, cryptokey routing; DESIGN.md §2.6, forwarding).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "base/bytes.h"
#include "io/checksum.h"

namespace plexus::node {

inline constexpr size_t kIpv4HeaderMin = 20;
inline constexpr size_t kIpv6HeaderSize = 40;
inline constexpr uint8_t kProtocolIcmp = 1;
inline constexpr uint8_t kProtocolUdp = 17;
inline constexpr uint8_t kProtocolIcmpv6 = 58;
// Offsets of the fields a router changes.
inline constexpr size_t kIpv4TtlOffset = 8;
inline constexpr size_t kIpv4ChecksumOffset = 10;
inline constexpr size_t kIpv6HopLimitOffset = 7;

struct IpPacketView {
  int version = 0;                         // 4 or 6
  const std::byte* source = nullptr;       // 4 or 16 bytes
  const std::byte* destination = nullptr;  // 4 or 16 bytes
  size_t total_length = 0;                 // from the header; <= the buffer length
  size_t header_length = 0;                // IPv4 IHL * 4; 40 for IPv6
  uint8_t protocol = 0;                    // IPv4 protocol; IPv6 next header (first one)
};

// Parses the fixed header of an IPv4 or IPv6 packet. nullopt when the buffer is
// shorter than the header or than the length the header claims, the IPv4
// header length is invalid, or the version is neither 4 nor 6. Trailing bytes
// past total_length (e.g. padding) are allowed.
inline std::optional<IpPacketView> ParseIpPacket(ByteSpan packet) {
  if (packet.empty()) return std::nullopt;
  const int version = std::to_integer<int>(packet[0]) >> 4;
  IpPacketView v;
  v.version = version;
  if (version == 4) {
    if (packet.size() < kIpv4HeaderMin) return std::nullopt;
    v.total_length = LoadBe16(packet.data() + 2);
    v.header_length = (std::to_integer<size_t>(packet[0]) & 0xf) * 4;
    if (v.header_length < kIpv4HeaderMin || v.total_length < v.header_length ||
        v.total_length > packet.size()) {
      return std::nullopt;
    }
    v.protocol = std::to_integer<uint8_t>(packet[9]);
    v.source = packet.data() + 12;
    v.destination = packet.data() + 16;
    return v;
  }
  if (version == 6) {
    if (packet.size() < kIpv6HeaderSize) return std::nullopt;
    v.total_length = kIpv6HeaderSize + LoadBe16(packet.data() + 4);
    if (v.total_length > packet.size()) return std::nullopt;
    v.header_length = kIpv6HeaderSize;
    v.protocol = std::to_integer<uint8_t>(packet[6]);
    v.source = packet.data() + 8;
    v.destination = packet.data() + 24;
    return v;
  }
  return std::nullopt;
}

// fe80::/10 (RFC 4291 §2.5.6).
inline bool IsLinkLocalV6(const std::byte* a) {
  return a[0] == std::byte{0xfe} && (a[1] & std::byte{0xc0}) == std::byte{0x80};
}
// ff00::/8 (RFC 4291 §2.7).
inline bool IsMulticastV6(const std::byte* a) {
  return a[0] == std::byte{0xff};
}
// 224.0.0.0/4 (RFC 5771) or the limited broadcast 255.255.255.255.
inline bool IsMulticastOrBroadcastV4(const std::byte* a) {
  return (a[0] & std::byte{0xf0}) == std::byte{0xe0} || LoadBe32(a) == 0xffffffffu;
}
// 169.254.0.0/16 (RFC 3927).
inline bool IsLinkLocalV4(const std::byte* a) {
  return a[0] == std::byte{169} && a[1] == std::byte{254};
}

// True when the packet must not leave its link (so never routed): a
// link-local source, or a link-local, multicast or broadcast destination. The
// kernel's own ND/MLD/IGMP chatter on the TUN device is all of this kind.
inline bool IsLinkScoped(const IpPacketView& ip) {
  if (ip.version == 6) {
    return IsLinkLocalV6(ip.source) || IsLinkLocalV6(ip.destination) ||
           IsMulticastV6(ip.destination);
  }
  return IsLinkLocalV4(ip.source) || IsLinkLocalV4(ip.destination) ||
         IsMulticastOrBroadcastV4(ip.destination);
}

// The IPv6 hop limit or IPv4 TTL of a parsed packet.
inline uint8_t HopLimit(ByteSpan packet, const IpPacketView& ip) {
  return std::to_integer<uint8_t>(packet[ip.version == 6 ? kIpv6HopLimitOffset : kIpv4TtlOffset]);
}

// What a router does to every packet it forwards (RFC 8200 §3, RFC 791):
// hop limit / TTL minus one (it must be at least 1), with the IPv4 header
// checksum updated incrementally (RFC 1624 eqn. 3; TTL and protocol share a word).
inline void DecrementHopLimit(MutableByteSpan packet, const IpPacketView& ip) {
  if (ip.version == 6) {
    packet[kIpv6HopLimitOffset] = static_cast<std::byte>(HopLimit(packet, ip) - 1);
    return;
  }
  std::byte* word = packet.data() + kIpv4TtlOffset;
  const uint16_t old_word = LoadBe16(word);
  StoreBe16(word, static_cast<uint16_t>(old_word - 0x100));
  std::byte* checksum = packet.data() + kIpv4ChecksumOffset;
  StoreBe16(checksum, io::UpdateChecksum16(LoadBe16(checksum), old_word, LoadBe16(word)));
}

// IPv4 "don't fragment" (RFC 791 §3.1).
inline bool DontFragment(ByteSpan packet) {
  return (packet[6] & std::byte{0x40}) != std::byte{0};
}

}  // namespace plexus::node
