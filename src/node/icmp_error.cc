#include "node/icmp_error.h"

#include <algorithm>
#include <cstring>
#include <optional>

#include "io/checksum.h"
#include "node/ip_packet.h"

namespace plexus::node {

namespace {

constexpr size_t kIcmpHeaderSize = 8;
constexpr uint8_t kDefaultHopLimit = 64;
constexpr int kMaxExtensionHeaders = 8;

struct TypeCode {
  uint8_t type;
  uint8_t code;
};

TypeCode Icmpv6TypeCode(IcmpError kind) {
  switch (kind) {
    case IcmpError::kNoRoute:
    case IcmpError::kUnreachable:
      return {1, 0};  // RFC 4443 §3.1
    case IcmpError::kTimeExceeded:
      return {3, 0};  // §3.3
    case IcmpError::kPacketTooBig:
      return {2, 0};  // §3.2
  }
  return {1, 0};
}

TypeCode Icmpv4TypeCode(IcmpError kind) {
  switch (kind) {
    case IcmpError::kNoRoute:
      return {3, 0};  // RFC 792: net unreachable
    case IcmpError::kUnreachable:
      return {3, 1};  // host unreachable
    case IcmpError::kTimeExceeded:
      return {11, 0};  // time to live exceeded in transit
    case IcmpError::kPacketTooBig:
      return {3, 4};  // fragmentation needed and DF set (RFC 1191 §4)
  }
  return {3, 0};
}

bool IsZero(const std::byte* a, size_t n) {
  return std::all_of(a, a + n, [](std::byte b) { return b == std::byte{0}; });
}

// The ICMPv6 type after the extension headers, if the packet shows one.
std::optional<uint8_t> Icmpv6Type(ByteSpan p, const IpPacketView& ip) {
  uint8_t next = ip.protocol;
  size_t offset = kIpv6HeaderSize;
  for (int i = 0; i < kMaxExtensionHeaders && offset + 8 <= p.size(); ++i) {
    if (next == kProtocolIcmpv6) return std::to_integer<uint8_t>(p[offset]);
    if (next == 44) {  // Fragment (RFC 8200 §4.5): only the first one shows the type
      if ((LoadBe16(p.data() + offset + 2) & 0xfff8) != 0) return std::nullopt;
      next = std::to_integer<uint8_t>(p[offset]);
      offset += 8;
    } else if (next == 0 || next == 43 || next == 60) {  // Hop-by-hop, Routing, Destination
      next = std::to_integer<uint8_t>(p[offset]);
      offset += (std::to_integer<size_t>(p[offset + 1]) + 1) * 8;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

// RFC 4443 §2.4(e).
bool MayAnswerV6(ByteSpan p, const IpPacketView& ip, IcmpError kind) {
  std::optional<uint8_t> type = Icmpv6Type(p, ip);
  if (type && *type < 128) return false;  // an error message
  if (IsZero(ip.source, 16) || IsMulticastV6(ip.source)) return false;
  return kind == IcmpError::kPacketTooBig || !IsMulticastV6(ip.destination);
}

// RFC 1812 §4.3.2.7.
bool MayAnswerV4(ByteSpan p, const IpPacketView& ip) {
  if ((LoadBe16(p.data() + 6) & 0x1fff) != 0) return false;  // not the first fragment
  if (ip.protocol == kProtocolIcmp && ip.total_length > ip.header_length) {
    const auto type = std::to_integer<uint8_t>(p[ip.header_length]);
    if (type == 3 || type == 4 || type == 5 || type == 11 || type == 12) return false;
  }
  if (ip.source[0] == std::byte{0} || IsMulticastOrBroadcastV4(ip.source)) return false;
  return !IsMulticastOrBroadcastV4(ip.destination);
}

// ICMP header with a zero checksum, then the quote; returns its length.
size_t WriteIcmp(std::byte* out, TypeCode tc, uint32_t parameter, ByteSpan quote) {
  out[0] = std::byte{tc.type};
  out[1] = std::byte{tc.code};
  StoreBe16(out + 2, 0);
  StoreBe32(out + 4, parameter);
  std::memcpy(out + kIcmpHeaderSize, quote.data(), quote.size());
  return kIcmpHeaderSize + quote.size();
}

size_t BuildV6(MutableByteSpan out, ByteSpan p, const IpPacketView& ip, IcmpError kind,
               const IpAddress& source, uint32_t mtu) {
  const ByteSpan quote =
      p.first(std::min(p.size(), kMaxIcmpv6Error - kIpv6HeaderSize - kIcmpHeaderSize));
  const uint32_t parameter = kind == IcmpError::kPacketTooBig ? mtu : 0;
  std::byte* icmp = out.data() + kIpv6HeaderSize;
  const size_t length = WriteIcmp(icmp, Icmpv6TypeCode(kind), parameter, quote);
  std::memset(out.data(), 0, kIpv6HeaderSize);
  out[0] = std::byte{0x60};
  StoreBe16(out.data() + 4, static_cast<uint16_t>(length));
  out[6] = std::byte{kProtocolIcmpv6};
  out[kIpv6HopLimitOffset] = std::byte{kDefaultHopLimit};
  std::memcpy(out.data() + 8, source.bytes().data(), 16);
  std::memcpy(out.data() + 24, ip.source, 16);
  // RFC 4443 §2.3: the checksum covers the IPv6 pseudo-header.
  const uint16_t pseudo = io::PseudoHeaderSum(ByteSpan(out.data() + 8, 16), ByteSpan(ip.source, 16),
                                              kProtocolIcmpv6, static_cast<uint32_t>(length));
  StoreBe16(icmp + 2, io::InternetChecksum(ByteSpan(icmp, length), pseudo));
  return kIpv6HeaderSize + length;
}

size_t BuildV4(MutableByteSpan out, ByteSpan p, const IpPacketView& ip, IcmpError kind,
               const IpAddress& source, uint32_t mtu) {
  const ByteSpan quote =
      p.first(std::min(p.size(), kMaxIcmpv4Error - kIpv4HeaderMin - kIcmpHeaderSize));
  // RFC 1191 §4: the next-hop MTU in the low 16 bits.
  const uint32_t parameter = kind == IcmpError::kPacketTooBig ? (mtu & 0xffff) : 0;
  std::byte* icmp = out.data() + kIpv4HeaderMin;
  const size_t length = WriteIcmp(icmp, Icmpv4TypeCode(kind), parameter, quote);
  StoreBe16(icmp + 2, io::InternetChecksum(ByteSpan(icmp, length)));
  std::memset(out.data(), 0, kIpv4HeaderMin);
  out[0] = std::byte{0x45};
  StoreBe16(out.data() + 2, static_cast<uint16_t>(kIpv4HeaderMin + length));
  out[kIpv4TtlOffset] = std::byte{kDefaultHopLimit};
  out[9] = std::byte{kProtocolIcmp};
  std::memcpy(out.data() + 12, source.bytes().data(), 4);
  std::memcpy(out.data() + 16, ip.source, 4);
  StoreBe16(out.data() + kIpv4ChecksumOffset,
            io::InternetChecksum(ByteSpan(out.data(), kIpv4HeaderMin)));
  return kIpv4HeaderMin + length;
}

}  // namespace

size_t BuildIcmpError(MutableByteSpan out, ByteSpan offending, IcmpError kind,
                      const IpAddress& source, uint32_t mtu) {
  std::optional<IpPacketView> ip = ParseIpPacket(offending);
  if (!ip) return 0;
  const ByteSpan p = offending.first(ip->total_length);
  if (ip->version == 6) {
    if (!source.is_v6() || out.size() < kMaxIcmpv6Error || !MayAnswerV6(p, *ip, kind)) return 0;
    return BuildV6(out, p, *ip, kind, source, mtu);
  }
  if (!source.is_v4() || out.size() < kMaxIcmpv4Error || !MayAnswerV4(p, *ip)) return 0;
  return BuildV4(out, p, *ip, kind, source, mtu);
}

RateLimiter::RateLimiter(Config config)
    : cost_ns_(1'000'000'000 / std::max<int64_t>(1, config.per_second)),
      capacity_ns_(cost_ns_ * config.burst),
      credit_ns_(capacity_ns_) {}

bool RateLimiter::Take(Timestamp now) {
  const int64_t elapsed = now.nanos() - last_ns_;
  if (elapsed > 0) {
    credit_ns_ =
        elapsed >= capacity_ns_ ? capacity_ns_ : std::min(capacity_ns_, credit_ns_ + elapsed);
    last_ns_ = now.nanos();
  }
  if (credit_ns_ < cost_ns_) return false;
  credit_ns_ -= cost_ns_;
  return true;
}

IcmpErrors::IcmpErrors(DropCounters& drops)
    : drops_(drops), budget_(kBudget), buffer_(kMaxIcmpv6Error) {}

MutableByteSpan IcmpErrors::Build(const Snapshot& snapshot, ByteSpan offending, IcmpError kind,
                                  uint32_t mtu, Timestamp now) {
  const bool v6 = !offending.empty() && (std::to_integer<int>(offending[0]) >> 4) == 6;
  const std::optional<IpAddress>& source = v6 ? snapshot.icmp_source_v6 : snapshot.icmp_source_v4;
  if (!source) return {};
  const size_t length = BuildIcmpError(buffer_, offending, kind, *source, mtu);
  if (length == 0) return {};
  if (!budget_.Take(now)) {
    drops_.Count(NodeDrop::kIcmpRateLimited);
    return {};
  }
  return MutableByteSpan(buffer_).first(length);
}

}  // namespace plexus::node
