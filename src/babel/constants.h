// Babel protocol constants (STYLE.md rule 3).
//
// "Specification" holds the numbers of RFC 8966 and its extensions (RFC 9079
// source-specific routing, RFC 9229 v4-via-v6, RFC 9616 / draft-ietf-babel-rtt-
// extension timestamps). "Implementation" holds plexus's own limits and choices.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

namespace plexus::babel {

// ---------------------------------------------------------------- specification

// RFC 8966 §5: UDP port and link-local multicast groups.
inline constexpr uint16_t kUdpPort = 6696;
inline constexpr const char* kMulticastGroupV6 = "ff02::1:6";
inline constexpr const char* kMulticastGroupV4 = "224.0.0.111";

// RFC 8966 §4.2: packet header.
inline constexpr uint8_t kMagic = 42;
inline constexpr uint8_t kVersion = 2;
inline constexpr size_t kPacketHeaderSize = 4;  // Magic, Version, Body length (16)

// RFC 8966 §4.3, §4.6: TLV types.
enum class TlvType : uint8_t {
  kPad1 = 0,
  kPadN = 1,
  kAckRequest = 2,
  kAck = 3,
  kHello = 4,
  kIhu = 5,
  kRouterId = 6,
  kNextHop = 7,
  kUpdate = 8,
  kRouteRequest = 9,
  kSeqnoRequest = 10,
};

// RFC 8966 §4.4, §4.7: sub-TLV types; types 128..255 are mandatory.
enum class SubTlvType : uint8_t {
  kPad1 = 0,
  kPadN = 1,
  kTimestamp = 3,       // RFC 9616 §3 (draft-ietf-babel-rtt-extension): Hello and IHU
  kSourcePrefix = 128,  // RFC 9079 §7.1: Update, Route Request, Seqno Request
};
inline constexpr uint8_t kSubTlvMandatoryBit = 0x80;

// RFC 8966 §4.1.5 and RFC 9229 §2: address encodings.
enum class AddressEncoding : uint8_t {
  kWildcard = 0,
  kIpv4 = 1,
  kIpv6 = 2,
  kLinkLocalIpv6 = 3,  // the low 64 bits of an fe80::/64 address
  kIpv4ViaIpv6 = 4,    // RFC 9229: an IPv4 prefix whose next hop is IPv6
};

// RFC 8966 §4.6.2 Hello flags.
inline constexpr uint16_t kHelloFlagUnicast = 0x8000;
// RFC 8966 §4.6.9 Update flags.
inline constexpr uint8_t kUpdateFlagDefaultPrefix = 0x80;
inline constexpr uint8_t kUpdateFlagRouterIdFromPrefix = 0x40;

// RFC 8966 §2.1 / §4.6.9: the metric that means "unreachable" (a retraction).
inline constexpr uint16_t kMetricInfinity = 0xFFFF;

// Intervals on the wire are in centiseconds (RFC 8966 §4.6).
using Centiseconds = std::chrono::duration<int64_t, std::centi>;

// RFC 8966 Appendix B: default parameters.
inline constexpr std::chrono::milliseconds kMulticastHelloInterval{4000};
inline constexpr std::chrono::milliseconds kIhuInterval = 3 * kMulticastHelloInterval;
inline constexpr std::chrono::milliseconds kUpdateInterval = 4 * kMulticastHelloInterval;
inline constexpr std::chrono::milliseconds kIhuHoldTime = kIhuInterval * 7 / 2;
inline constexpr std::chrono::milliseconds kRouteExpiryTime = kUpdateInterval * 7 / 2;
inline constexpr std::chrono::milliseconds kInitialRequestTimeout{2000};  // doubled per resend
inline constexpr int kMaxRequestResends = 3;
inline constexpr std::chrono::milliseconds kUrgentTimeout{200};
inline constexpr std::chrono::minutes kSourceGcTime{3};
// Appendix B: "2-out-of-3" link cost on wired links uses nominal cost C = 96.
inline constexpr uint16_t kWiredLinkCost = 96;

// ---------------------------------------------------------------- implementation

// Largest Babel packet plexus sends: fits an IPv6 minimum MTU (1280) minus
// IPv6 (40) and UDP (8) headers, inside a WireGuard link.
inline constexpr size_t kMaxPacketSize = 1232;
// Hop count plexus puts in the Seqno Requests it originates (RFC 8966 §3.8.1.2).
inline constexpr uint8_t kSeqnoRequestHopCount = 64;

}  // namespace plexus::babel
