#include "io/offload.h"

#include <algorithm>
#include <cstring>

namespace plexus::io {
namespace {

constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;
constexpr size_t kIpv4MinHeader = 20;
constexpr size_t kIpv6Header = 40;
constexpr size_t kTcpMinHeader = 20;
constexpr size_t kUdpHeader = 8;
constexpr size_t kTcpChecksumOffset = 16;
constexpr size_t kUdpChecksumOffset = 6;
constexpr size_t kTcpFlagsOffset = 13;
constexpr size_t kMaxIpPacket = 65535;

// RFC 9293 §3.1 control bits; RFC 3168 §6.1 ECE/CWR.
constexpr uint8_t kTcpFin = 0x01;
constexpr uint8_t kTcpPsh = 0x08;
constexpr uint8_t kTcpAck = 0x10;
constexpr uint8_t kTcpCwr = 0x80;

uint8_t At(ByteSpan b, size_t i) {
  return std::to_integer<uint8_t>(b[i]);
}

uint16_t LoadLe16(const std::byte* p) {
  return static_cast<uint16_t>(std::to_integer<uint16_t>(p[0]) |
                               (std::to_integer<uint16_t>(p[1]) << 8));
}
void StoreLe16(std::byte* p, uint16_t v) {
  p[0] = static_cast<std::byte>(v & 0xff);
  p[1] = static_cast<std::byte>(v >> 8);
}

// The fixed part of an IP header.
struct IpHeader {
  IpFamily family = IpFamily::kV4;
  size_t length = 0;     // header length: IHL * 4, or 40 for IPv6
  uint8_t protocol = 0;  // IPv4 protocol or IPv6 next header
};

std::optional<OffloadError> ParseIp(ByteSpan p, IpHeader& out) {
  if (p.empty()) return OffloadError::kTruncated;
  const int version = At(p, 0) >> 4;
  if (version == 4) {
    if (p.size() < kIpv4MinHeader) return OffloadError::kTruncated;
    const size_t ihl = size_t{At(p, 0) & 0x0fu} * 4;
    if (ihl < kIpv4MinHeader || ihl > p.size()) return OffloadError::kBadIpHeaderLength;
    out = {IpFamily::kV4, ihl, At(p, 9)};
    return std::nullopt;
  }
  if (version == 6) {
    if (p.size() < kIpv6Header) return OffloadError::kTruncated;
    out = {IpFamily::kV6, kIpv6Header, At(p, 6)};
    return std::nullopt;
  }
  return OffloadError::kBadIpVersion;
}

ByteSpan SourceAddress(const IpHeader& ip, ByteSpan p) {
  return ip.family == IpFamily::kV4 ? p.subspan(12, 4) : p.subspan(8, 16);
}
ByteSpan DestinationAddress(const IpHeader& ip, ByteSpan p) {
  return ip.family == IpFamily::kV4 ? p.subspan(16, 4) : p.subspan(24, 16);
}

// RFC 791 §3.1: MF flag or a non-zero fragment offset.
bool IsIpv4Fragment(ByteSpan p) {
  return (LoadBe16(p.data() + 6) & 0x3fff) != 0;
}
bool HasDontFragment(ByteSpan p) {
  return (At(p, 6) & 0x40) != 0;
}

// RFC 8200 §4 extension headers, plus RFC 5533 (Shim6) and RFC 7401 (HIP).
bool IsIpv6ExtensionHeader(uint8_t next) {
  switch (next) {
    case 0:
    case 43:
    case 44:
    case 50:
    case 51:
    case 60:
    case 135:
    case 139:
    case 140:
    case 253:
    case 254:
      return true;
    default:
      return false;
  }
}

// Sets the IPv4 total length (with ID + `id_increment` and a new header
// checksum) or the IPv6 payload length of the packet at the front of `p`.
void SetIpLength(const IpHeader& ip, MutableByteSpan p, size_t length, uint16_t id_increment) {
  std::byte* h = p.data();
  if (ip.family == IpFamily::kV6) {
    StoreBe16(h + 4, static_cast<uint16_t>(length - kIpv6Header));
    return;
  }
  StoreBe16(h + 2, static_cast<uint16_t>(length));
  StoreBe16(h + 4, static_cast<uint16_t>(LoadBe16(h + 4) + id_increment));
  StoreBe16(h + 10, 0);
  StoreBe16(h + 10, InternetChecksum(p.first(ip.length)));
}

// Stores a computed transport checksum; a zero is sent as 0xffff, as the
// kernel does (RFC 768: zero means "no checksum" for UDP; for TCP both encode
// the same ones'-complement value).
void StoreTransportChecksum(std::byte* field, uint16_t sum) {
  const uint16_t checksum = static_cast<uint16_t>(~sum);
  StoreBe16(field, checksum == 0 ? 0xffff : checksum);
}

// ---------------------------------------------------------------------------
// Segmentation.

// A GSO super-packet's validated layout.
struct GsoLayout {
  IpHeader ip;
  size_t header_length = 0;  // IP + transport headers
  size_t gso_size = 0;
  bool tcp = true;
  uint16_t address_sum = 0;  // PseudoHeaderSum with length 0, the same for every segment
};

std::optional<OffloadError> ExpectedTransport(uint8_t gso_kind, uint8_t& protocol,
                                              std::optional<IpFamily>& family) {
  switch (gso_kind) {
    case VirtioNetHeader::kGsoTcpV4:
      protocol = kProtocolTcp, family = IpFamily::kV4;
      return std::nullopt;
    case VirtioNetHeader::kGsoTcpV6:
      protocol = kProtocolTcp, family = IpFamily::kV6;
      return std::nullopt;
    case VirtioNetHeader::kGsoUdpL4:
      protocol = kProtocolUdp, family = std::nullopt;
      return std::nullopt;
    default:
      return OffloadError::kUnsupportedGsoType;
  }
}

std::optional<OffloadError> CheckIpForGso(ByteSpan packet, const IpHeader& ip, uint8_t protocol,
                                          std::optional<IpFamily> family) {
  if (family && ip.family != *family) return OffloadError::kBadIpVersion;
  if (ip.family == IpFamily::kV4 && IsIpv4Fragment(packet)) return OffloadError::kIpv4Fragment;
  if (ip.protocol == protocol) return std::nullopt;
  if (ip.family == IpFamily::kV6 && IsIpv6ExtensionHeader(ip.protocol)) {
    return OffloadError::kIpv6ExtensionHeaders;
  }
  return OffloadError::kWrongProtocol;
}

// Sets `length` to the transport header length (TCP data offset or 8 for UDP).
std::optional<OffloadError> TransportHeaderLength(ByteSpan packet, const IpHeader& ip, bool tcp,
                                                  size_t& length) {
  if (!tcp) {
    if (packet.size() < ip.length + kUdpHeader) return OffloadError::kTruncated;
    length = kUdpHeader;
    return std::nullopt;
  }
  if (packet.size() < ip.length + kTcpMinHeader) return OffloadError::kTruncated;
  length = static_cast<size_t>(At(packet, ip.length + 12) >> 4) * 4;
  if (length < kTcpMinHeader || ip.length + length > packet.size()) {
    return OffloadError::kBadTransportHeader;
  }
  return std::nullopt;
}

std::optional<OffloadError> ParseGso(const VirtioNetHeader& header, ByteSpan packet,
                                     GsoLayout& out) {
  uint8_t protocol = 0;
  std::optional<IpFamily> family;
  if (auto e = ExpectedTransport(header.gso_kind(), protocol, family)) return e;
  if (header.gso_size == 0) return OffloadError::kZeroGsoSize;
  if (auto e = ParseIp(packet, out.ip)) return e;
  if (auto e = CheckIpForGso(packet, out.ip, protocol, family)) return e;
  out.tcp = protocol == kProtocolTcp;
  size_t transport_length = 0;
  if (auto e = TransportHeaderLength(packet, out.ip, out.tcp, transport_length)) return e;
  const size_t checksum_offset = out.tcp ? kTcpChecksumOffset : kUdpChecksumOffset;
  if (header.needs_csum() &&
      (header.csum_start != out.ip.length || header.csum_offset != checksum_offset)) {
    return OffloadError::kBadChecksumOffsets;
  }
  out.header_length = out.ip.length + transport_length;
  out.gso_size = header.gso_size;
  out.address_sum = PseudoHeaderSum(SourceAddress(out.ip, packet),
                                    DestinationAddress(out.ip, packet), protocol, 0);
  const size_t payload = packet.size() - out.header_length;
  if (out.header_length + std::min(out.gso_size, payload) > kMaxIpPacket) {
    return OffloadError::kSegmentTooLarge;
  }
  return std::nullopt;
}

void FixTcpSegment(const GsoLayout& l, MutableByteSpan s, size_t index, size_t count) {
  std::byte* th = s.data() + l.ip.length;
  StoreBe32(th + 4, LoadBe32(th + 4) + static_cast<uint32_t>(index * l.gso_size));
  uint8_t flags = std::to_integer<uint8_t>(th[kTcpFlagsOffset]);
  if (index + 1 < count) flags &= static_cast<uint8_t>(~(kTcpFin | kTcpPsh));
  if (index > 0) flags &= static_cast<uint8_t>(~kTcpCwr);
  th[kTcpFlagsOffset] = static_cast<std::byte>(flags);
}

void FixUdpSegment(const GsoLayout& l, MutableByteSpan s) {
  StoreBe16(s.data() + l.ip.length + 4, static_cast<uint16_t>(s.size() - l.ip.length));
}

// Writes the full transport checksum of segment `s` (RFC 9293 §3.1, RFC 768)
// from the pseudo-header, the transport header and `payload_sum`, the sum of
// the payload taken while it was copied. The payload starts at an even offset
// (header lengths are multiples of 4 bytes), so its words line up.
void WriteTransportChecksum(const GsoLayout& l, MutableByteSpan s, uint16_t payload_sum) {
  const size_t transport_length = l.header_length - l.ip.length;
  std::byte* field = s.data() + l.ip.length + (l.tcp ? kTcpChecksumOffset : kUdpChecksumOffset);
  StoreBe16(field, 0);
  // The segment length fits 16 bits, so it is one word of the pseudo-header.
  const uint16_t pseudo =
      AddOnesComplement(l.address_sum, static_cast<uint16_t>(s.size() - l.ip.length));
  const uint16_t header = OnesComplementSum(s.subspan(l.ip.length, transport_length), pseudo);
  StoreTransportChecksum(field, AddOnesComplement(header, payload_sum));
}

// Writes segment `index` of `count` to the front of `out`; returns its span.
// The payload is read once, summed while it is copied.
MutableByteSpan WriteSegment(const GsoLayout& l, ByteSpan packet, MutableByteSpan out, size_t index,
                             size_t count) {
  const size_t start = l.header_length + index * l.gso_size;
  const size_t chunk = std::min(l.gso_size, packet.size() - start);
  MutableByteSpan s = out.first(l.header_length + chunk);
  std::memcpy(s.data(), packet.data(), l.header_length);
  const uint16_t payload_sum = CopyAndSum(s.subspan(l.header_length), packet.subspan(start, chunk));
  SetIpLength(l.ip, s, s.size(), static_cast<uint16_t>(index));
  if (l.tcp) {
    FixTcpSegment(l, s, index, count);
  } else {
    FixUdpSegment(l, s);
  }
  WriteTransportChecksum(l, s, payload_sum);
  return s;
}

SegmentResult SplitGso(const GsoLayout& l, ByteSpan packet, std::span<MutableByteSpan> segments) {
  const size_t payload = packet.size() - l.header_length;
  const size_t count = payload == 0 ? 1 : (payload + l.gso_size - 1) / l.gso_size;
  if (count > segments.size()) return {0, OffloadError::kTooManySegments};
  for (size_t i = 0; i < count; ++i) {
    const size_t chunk = std::min(l.gso_size, payload - i * l.gso_size);
    if (segments[i].size() < l.header_length + chunk) return {0, OffloadError::kOutputTooSmall};
  }
  for (size_t i = 0; i < count; ++i) segments[i] = WriteSegment(l, packet, segments[i], i, count);
  return {count, std::nullopt};
}

// Whether the NEEDS_CSUM checksum field of `header` lies inside `size` bytes.
bool HasChecksumField(const VirtioNetHeader& header, size_t size) {
  const size_t start = header.csum_start;
  return start < size && start + header.csum_offset + 2 <= size;
}

// Copies `packet` to `out` and completes its NEEDS_CSUM checksum in the same
// pass. The field holds the pseudo-header sum, so summing through it covers
// both.
void CopyCompletingChecksum(const VirtioNetHeader& header, ByteSpan packet, MutableByteSpan out) {
  const size_t start = header.csum_start;
  std::memcpy(out.data(), packet.data(), start);
  const uint16_t sum = CopyAndSum(out.subspan(start), packet.subspan(start));
  StoreTransportChecksum(out.data() + start + header.csum_offset, sum);
}

SegmentResult CopyWhole(const VirtioNetHeader& header, ByteSpan packet,
                        std::span<MutableByteSpan> segments) {
  if (segments.empty()) return {0, OffloadError::kTooManySegments};
  if (segments[0].size() < packet.size()) return {0, OffloadError::kOutputTooSmall};
  MutableByteSpan out = segments[0].first(packet.size());
  if (!header.needs_csum()) {
    if (!packet.empty()) std::memcpy(out.data(), packet.data(), packet.size());
  } else if (HasChecksumField(header, packet.size())) {
    CopyCompletingChecksum(header, packet, out);
  } else {
    return {0, OffloadError::kBadChecksumOffsets};
  }
  segments[0] = out;
  return {1, std::nullopt};
}

// ---------------------------------------------------------------------------
// Coalescing.

// A TCP packet parsed for coalescing.
struct TcpPacket {
  IpHeader ip;
  size_t tcp_length = 0;
  size_t payload = 0;
  bool mergeable = false;  // may head or join a super-packet
};

bool HasExactLength(const IpHeader& ip, ByteSpan p) {
  const size_t claimed =
      ip.family == IpFamily::kV4 ? LoadBe16(p.data() + 2) : kIpv6Header + LoadBe16(p.data() + 4);
  return claimed == p.size();
}

bool HasValidChecksums(const IpHeader& ip, ByteSpan p, Coalescer::TransportChecksums checksums) {
  if (ip.family == IpFamily::kV4 && OnesComplementSum(p.first(ip.length)) != 0xffff) return false;
  if (checksums == Coalescer::TransportChecksums::kTrust) return true;
  const uint16_t pseudo = PseudoHeaderSum(SourceAddress(ip, p), DestinationAddress(ip, p),
                                          kProtocolTcp, p.size() - ip.length);
  return OnesComplementSum(p.subspan(ip.length), pseudo) == 0xffff;
}

// The conditions on a single packet for coalescing (see Coalescer).
bool IsMergeable(const TcpPacket& t, ByteSpan p, Coalescer::TransportChecksums checksums) {
  if (t.payload == 0 || !HasExactLength(t.ip, p)) return false;
  if (t.ip.family == IpFamily::kV4 && (t.ip.length != kIpv4MinHeader || IsIpv4Fragment(p))) {
    return false;
  }
  const uint8_t flags = At(p, t.ip.length + kTcpFlagsOffset);
  if ((flags & ~kTcpPsh) != kTcpAck) return false;
  return HasValidChecksums(t.ip, p, checksums);
}

std::optional<TcpPacket> ParseTcpPacket(ByteSpan p, Coalescer::TransportChecksums checksums) {
  TcpPacket t;
  if (ParseIp(p, t.ip) || t.ip.protocol != kProtocolTcp) return std::nullopt;
  if (TransportHeaderLength(p, t.ip, /*tcp=*/true, t.tcp_length)) return std::nullopt;
  t.payload = p.size() - t.ip.length - t.tcp_length;
  t.mergeable = IsMergeable(t, p, checksums);
  return t;
}

// A super-packet being built: the head packet and what follows it.
struct Flow {
  bool active = false;
  uint32_t head = 0;     // index of the head PacketBuffer
  uint32_t started = 0;  // batch position of the head, for eviction
  TcpPacket head_info;
  size_t gso_size = 0;
  uint32_t next_seq = 0;
  uint16_t next_ip_id = 0;
  uint16_t segments = 0;
  bool closed = false;  // the last segment was short or carried PSH
};

bool SameFlow(const Flow& f, ByteSpan head, const TcpPacket& t, ByteSpan p) {
  const IpHeader& ip = f.head_info.ip;
  if (ip.family != t.ip.family) return false;
  auto same = [&](ByteSpan a, ByteSpan b) { return std::equal(a.begin(), a.end(), b.begin()); };
  return same(SourceAddress(ip, head), SourceAddress(t.ip, p)) &&
         same(DestinationAddress(ip, head), DestinationAddress(t.ip, p)) &&
         same(head.subspan(ip.length, 4), p.subspan(t.ip.length, 4));
}

// RFC 6864 §4.1: the ID of an atomic (DF) datagram carries no meaning, so it
// need not be consecutive; otherwise re-segmentation must reproduce it.
bool IpHeadersMatch(const Flow& f, ByteSpan head, ByteSpan p) {
  if (f.head_info.ip.family == IpFamily::kV6) {
    return std::equal(head.begin(), head.begin() + 4, p.begin()) && At(head, 7) == At(p, 7);
  }
  if (At(head, 1) != At(p, 1) || At(head, 8) != At(p, 8)) return false;
  if (HasDontFragment(head) != HasDontFragment(p)) return false;
  return HasDontFragment(p) || LoadBe16(p.data() + 4) == f.next_ip_id;
}

// Kernel GRO (tcp_gro_receive) rules: equal ACK, data offset, flags except
// PSH, window, urgent pointer and options.
bool TcpHeadersMatch(const Flow& f, ByteSpan head, ByteSpan p) {
  const size_t at = f.head_info.ip.length;
  ByteSpan a = head.subspan(at, f.head_info.tcp_length);
  ByteSpan b = p.subspan(at, f.head_info.tcp_length);
  auto equal = [&](size_t from, size_t to) {
    return std::equal(a.begin() + from, a.begin() + to, b.begin() + from);
  };
  const uint8_t flags_a = At(a, kTcpFlagsOffset) & ~kTcpPsh;
  const uint8_t flags_b = At(b, kTcpFlagsOffset) & ~kTcpPsh;
  return equal(8, 13) && flags_a == flags_b && equal(14, 16) && equal(18, a.size());
}

bool CanMerge(const Flow& f, const PacketBuffer& head, const TcpPacket& t, ByteSpan p) {
  const TcpPacket& h = f.head_info;
  if (f.closed || !t.mergeable || t.payload > f.gso_size) return false;
  if (t.ip.length != h.ip.length || t.tcp_length != h.tcp_length) return false;
  if (LoadBe32(p.data() + t.ip.length + 4) != f.next_seq) return false;
  if (head.length + t.payload > kMaxIpPacket) return false;
  if (head.length + t.payload > head.buffer.size()) return false;
  ByteSpan hp = head.packet();
  return IpHeadersMatch(f, hp, p) && TcpHeadersMatch(f, hp, p);
}

void Merge(Flow& f, PacketBuffer& head, const TcpPacket& t, ByteSpan p) {
  std::memcpy(head.buffer.data() + head.length, p.data() + t.ip.length + t.tcp_length, t.payload);
  head.length += t.payload;
  const uint8_t flags = At(p, t.ip.length + kTcpFlagsOffset);
  if (flags & kTcpPsh) {
    std::byte& head_flags = head.packet()[t.ip.length + kTcpFlagsOffset];
    head_flags |= static_cast<std::byte>(kTcpPsh);
  }
  f.closed = (flags & kTcpPsh) != 0 || t.payload < f.gso_size;
  f.next_seq += static_cast<uint32_t>(t.payload);
  ++f.next_ip_id;
  ++f.segments;
}

void Start(Flow& f, uint32_t index, uint32_t position, const TcpPacket& t, ByteSpan p) {
  f = Flow{};
  f.active = true;
  f.head = index;
  f.started = position;
  f.head_info = t;
  f.gso_size = t.payload;
  f.next_seq = LoadBe32(p.data() + t.ip.length + 4) + static_cast<uint32_t>(t.payload);
  f.next_ip_id = static_cast<uint16_t>(LoadBe16(p.data() + 4) + 1);
  f.segments = 1;
  f.closed = (At(p, t.ip.length + kTcpFlagsOffset) & kTcpPsh) != 0;
}

void WriteZeroHeader(PacketBuffer& b) {
  b.vnet = VirtioNetHeader{};
}

// Writes the lengths, the IPv4 header checksum (RFC 1624 update), the
// pseudo-header sum for NEEDS_CSUM and the virtio header of a super-packet.
void FinishSuperPacket(const Flow& f, PacketBuffer& head) {
  const IpHeader& ip = f.head_info.ip;
  MutableByteSpan p = head.packet();
  if (ip.family == IpFamily::kV4) {
    const uint16_t old_length = LoadBe16(p.data() + 2);
    const uint16_t new_length = static_cast<uint16_t>(p.size());
    StoreBe16(p.data() + 2, new_length);
    StoreBe16(p.data() + 10, UpdateChecksum16(LoadBe16(p.data() + 10), old_length, new_length));
  } else {
    StoreBe16(p.data() + 4, static_cast<uint16_t>(p.size() - kIpv6Header));
  }
  StoreBe16(p.data() + ip.length + kTcpChecksumOffset,
            PseudoHeaderSum(SourceAddress(ip, p), DestinationAddress(ip, p), kProtocolTcp,
                            static_cast<uint32_t>(p.size() - ip.length)));
  VirtioNetHeader v;
  v.flags = VirtioNetHeader::kFlagNeedsCsum;
  v.gso_type = ip.family == IpFamily::kV4 ? VirtioNetHeader::kGsoTcpV4 : VirtioNetHeader::kGsoTcpV6;
  v.hdr_len = static_cast<uint16_t>(ip.length + f.head_info.tcp_length);
  v.gso_size = static_cast<uint16_t>(f.gso_size);
  v.csum_start = static_cast<uint16_t>(ip.length);
  v.csum_offset = kTcpChecksumOffset;
  head.vnet = v;
}

void Finish(Flow& f, std::span<PacketBuffer> packets, Coalescer::Stats& stats) {
  f.active = false;
  if (f.segments == 1) return WriteZeroHeader(packets[f.head]);
  FinishSuperPacket(f, packets[f.head]);
  ++stats.super_packets;
}

bool HasValidLayout(const PacketBuffer& b) {
  return b.length <= b.buffer.size();
}

}  // namespace

// ---------------------------------------------------------------------------
// Virtio header.

std::optional<VirtioNetHeader> VirtioNetHeader::Decode(ByteSpan in) {
  if (in.size() < kVirtioNetHeaderSize) return std::nullopt;
  VirtioNetHeader h;
  h.flags = std::to_integer<uint8_t>(in[0]);
  h.gso_type = std::to_integer<uint8_t>(in[1]);
  h.hdr_len = LoadLe16(in.data() + 2);
  h.gso_size = LoadLe16(in.data() + 4);
  h.csum_start = LoadLe16(in.data() + 6);
  h.csum_offset = LoadLe16(in.data() + 8);
  return h;
}

void VirtioNetHeader::Encode(MutableByteSpan out) const {
  out[0] = static_cast<std::byte>(flags);
  out[1] = static_cast<std::byte>(gso_type);
  StoreLe16(out.data() + 2, hdr_len);
  StoreLe16(out.data() + 4, gso_size);
  StoreLe16(out.data() + 6, csum_start);
  StoreLe16(out.data() + 8, csum_offset);
}

std::string_view ToString(OffloadError e) {
  switch (e) {
    case OffloadError::kTruncated:
      return "truncated";
    case OffloadError::kBadIpVersion:
      return "bad-ip-version";
    case OffloadError::kBadIpHeaderLength:
      return "bad-ip-header-length";
    case OffloadError::kIpv4Fragment:
      return "ipv4-fragment";
    case OffloadError::kIpv6ExtensionHeaders:
      return "ipv6-extension-headers";
    case OffloadError::kWrongProtocol:
      return "wrong-protocol";
    case OffloadError::kBadTransportHeader:
      return "bad-transport-header";
    case OffloadError::kBadChecksumOffsets:
      return "bad-checksum-offsets";
    case OffloadError::kZeroGsoSize:
      return "zero-gso-size";
    case OffloadError::kSegmentTooLarge:
      return "segment-too-large";
    case OffloadError::kUnsupportedGsoType:
      return "unsupported-gso-type";
    case OffloadError::kTooManySegments:
      return "too-many-segments";
    case OffloadError::kOutputTooSmall:
      return "output-too-small";
  }
  return "unknown";
}

// ---------------------------------------------------------------------------
// TUN read path.

std::optional<OffloadError> CompleteChecksum(const VirtioNetHeader& header,
                                             MutableByteSpan packet) {
  if (!header.needs_csum()) return std::nullopt;
  if (!HasChecksumField(header, packet.size())) return OffloadError::kBadChecksumOffsets;
  // The field holds the pseudo-header sum, so summing through it covers both.
  const uint16_t sum = OnesComplementSum(packet.subspan(header.csum_start));
  StoreTransportChecksum(packet.data() + header.csum_start + header.csum_offset, sum);
  return std::nullopt;
}

SegmentResult Segment(const VirtioNetHeader& header, ByteSpan packet,
                      std::span<MutableByteSpan> segments) {
  if (header.gso_kind() == VirtioNetHeader::kGsoNone) return CopyWhole(header, packet, segments);
  GsoLayout layout;
  if (auto e = ParseGso(header, packet, layout)) return {0, e};
  return SplitGso(layout, packet, segments);
}

// ---------------------------------------------------------------------------
// TUN write path.

namespace {

using FlowTable = std::array<Flow, Coalescer::kMaxFlows>;

Flow* FindFlow(FlowTable& flows, std::span<PacketBuffer> packets, const TcpPacket& t, ByteSpan p) {
  for (Flow& f : flows) {
    if (f.active && SameFlow(f, packets[f.head].packet(), t, p)) return &f;
  }
  return nullptr;
}

// A free slot, finishing the oldest flow if all are in use.
Flow& FreeSlot(FlowTable& flows, std::span<PacketBuffer> packets, Coalescer::Stats& stats) {
  Flow* oldest = &flows[0];
  for (Flow& f : flows) {
    if (!f.active) return f;
    if (f.started < oldest->started) oldest = &f;
  }
  Finish(*oldest, packets, stats);
  return *oldest;
}

}  // namespace

size_t Coalescer::Coalesce(std::span<PacketBuffer> packets, std::span<uint32_t> order) {
  FlowTable flows{};
  size_t written = 0;
  const size_t limit = std::min(packets.size(), order.size());
  for (uint32_t i = 0; i < limit; ++i) {
    PacketBuffer& b = packets[i];
    if (!HasValidLayout(b)) {
      ++stats_.bad_buffers;
      continue;
    }
    ByteSpan p = b.packet();
    std::optional<TcpPacket> t = ParseTcpPacket(p, checksums_);
    Flow* flow = t ? FindFlow(flows, packets, *t, p) : nullptr;
    if (flow && CanMerge(*flow, packets[flow->head], *t, p)) {
      Merge(*flow, packets[flow->head], *t, p);
      ++stats_.merged;
      continue;
    }
    if (flow) Finish(*flow, packets, stats_);
    order[written++] = i;
    if (!t || !t->mergeable) {
      WriteZeroHeader(b);
      continue;
    }
    Start(flow ? *flow : FreeSlot(flows, packets, stats_), i, i, *t, p);
  }
  for (Flow& f : flows) {
    if (f.active) Finish(f, packets, stats_);
  }
  return written;
}

}  // namespace plexus::io
