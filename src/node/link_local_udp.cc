#include "node/link_local_udp.h"

#include <array>
#include <cstring>

#include "crypto/blake2s.h"
#include "io/checksum.h"

namespace plexus::node {

namespace {

constexpr size_t kIpv6Header = 40;
constexpr size_t kUdpHeader = 8;
constexpr uint8_t kUdpProtocol = 17;
constexpr uint8_t kHopLimit = 1;
constexpr std::string_view kLinkLocalLabel = "plexus link-local address";

uint16_t UdpChecksum(const IpAddress& source, const IpAddress& destination, ByteSpan udp) {
  const uint16_t pseudo = io::PseudoHeaderSum(source.bytes(), destination.bytes(), kUdpProtocol,
                                              static_cast<uint32_t>(udp.size()));
  const uint16_t sum = io::InternetChecksum(udp, pseudo);
  return sum == 0 ? 0xFFFF : sum;  // RFC 8200 §8.1: a computed zero is sent as 0xFFFF
}

bool IsMulticastV6(const IpAddress& a) {
  return a.is_v6() && std::to_integer<uint8_t>(a.bytes()[0]) == 0xFF;
}

}  // namespace

IpAddress LinkLocalAddress(const crypto::PublicKey& key) {
  const crypto::Hash digest = crypto::Blake2sHash({AsBytes(kLinkLocalLabel), key.bytes()});
  std::array<uint8_t, 16> b{0xFE, 0x80};
  for (size_t i = 0; i < 8; ++i) b[8 + i] = std::to_integer<uint8_t>(digest[i]);
  return IpAddress::V6(b);
}

Bytes BuildLinkLocalUdp(const IpAddress& source, const IpAddress& destination, uint16_t port,
                        ByteSpan payload) {
  const size_t udp_length = kUdpHeader + payload.size();
  Bytes packet(kIpv6Header + udp_length);
  std::byte* p = packet.data();
  p[0] = std::byte{0x60};
  StoreBe16(p + 4, static_cast<uint16_t>(udp_length));
  p[6] = std::byte{kUdpProtocol};
  p[7] = std::byte{kHopLimit};
  std::memcpy(p + 8, source.bytes().data(), 16);
  std::memcpy(p + 24, destination.bytes().data(), 16);
  std::byte* udp = p + kIpv6Header;
  StoreBe16(udp, port);
  StoreBe16(udp + 2, port);
  StoreBe16(udp + 4, static_cast<uint16_t>(udp_length));
  std::memcpy(udp + kUdpHeader, payload.data(), payload.size());
  StoreBe16(udp + 6, UdpChecksum(source, destination, ByteSpan(udp, udp_length)));
  return packet;
}

Result<LinkLocalUdp> ParseLinkLocalUdp(ByteSpan packet) {
  if (packet.size() < kIpv6Header + kUdpHeader) return MakeError("too short for IPv6 + UDP");
  if ((std::to_integer<uint8_t>(packet[0]) >> 4) != 6) return MakeError("not IPv6");
  if (std::to_integer<uint8_t>(packet[6]) != kUdpProtocol) return MakeError("not UDP");
  const size_t payload_length = LoadBe16(packet.data() + 4);
  if (kIpv6Header + payload_length > packet.size()) return MakeError("truncated IPv6 packet");
  LinkLocalUdp out;
  out.source = IpAddress::FromV6Bytes(packet.subspan(8, 16));
  out.destination = IpAddress::FromV6Bytes(packet.subspan(24, 16));
  if (!out.source.IsLinkLocalV6())
    return MakeError("source {} is not link-local", out.source.ToString());
  if (!out.destination.IsLinkLocalV6() && !IsMulticastV6(out.destination)) {
    return MakeError("destination {} is neither link-local nor multicast",
                     out.destination.ToString());
  }
  ByteSpan udp = packet.subspan(kIpv6Header, payload_length);
  const size_t udp_length = LoadBe16(udp.data() + 4);
  if (udp_length < kUdpHeader || udp_length > udp.size()) return MakeError("bad UDP length");
  udp = udp.first(udp_length);
  const uint16_t pseudo = io::PseudoHeaderSum(out.source.bytes(), out.destination.bytes(),
                                              kUdpProtocol, static_cast<uint32_t>(udp_length));
  if (LoadBe16(udp.data() + 6) == 0 || io::OnesComplementSum(udp, pseudo) != 0xFFFF) {
    return MakeError("bad UDP checksum");
  }
  out.source_port = LoadBe16(udp.data());
  out.destination_port = LoadBe16(udp.data() + 2);
  out.payload = udp.subspan(kUdpHeader);
  return out;
}

}  // namespace plexus::node
