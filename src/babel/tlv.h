// The Babel wire format (RFC 8966 §4) as a pure codec: no I/O, no clock.
//
//   datagram ──DecodePacket(source)──▶ Packet{tlvs, skipped, trailer}
//                  │ ParserState (§4.5): default prefix per AE,
//                  │ next hop per family, router-id
//   Tlv... ──PacketWriter(source).Append()──▶ Finish() ──▶ datagram
//
// Packet (§4.2):
//   0                   1                   2                   3
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |    Magic (42) |  Version (2)  |        Body length            |
//   +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//   |  Packet Body ... (TLVs)       |  Packet Trailer ... (opaque)
//
// TLV (§4.3): Type (8), Length (8, excluding these two octets), Body; Pad1
// is a single zero octet. Each body has a fixed "natural" part followed by
// sub-TLVs (§4.4) up to Length; sub-TLVs of type >= 128 are mandatory.
//
// Natural bodies (octets): AckRequest Reserved(2) Opaque(2) Interval(2);
// Ack Opaque(2); Hello Flags(2) Seqno(2) Interval(2); IHU AE(1) Reserved(1)
// Rxcost(2) Interval(2) Address; Router-Id Reserved(2) Router-Id(8); Next Hop
// AE(1) Reserved(1) Address; Update AE(1) Flags(1) Plen(1) Omitted(1)
// Interval(2) Seqno(2) Metric(2) Prefix; Route Request AE(1) Plen(1) Prefix;
// Seqno Request AE(1) Plen(1) Seqno(2) Hop Count(1) Reserved(1) Router-Id(8)
// Prefix.
//
// Decoded Updates are fully expanded: prefix (host bits cleared), next hop and
// router-id come from the parser state, so a consumer never sees compression.
// Prefixes are carried with their host bits cleared in both directions.
//
// Thread: values only; any thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>
#include <variant>
#include <vector>

#include "babel/constants.h"
#include "babel/metric.h"
#include "babel/router_id.h"
#include "babel/seqno.h"
#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"

namespace plexus::babel {

inline constexpr size_t kAckRequestBodySize = 6;
inline constexpr size_t kAckBodySize = 2;
inline constexpr size_t kHelloBodySize = 6;
inline constexpr size_t kIhuFixedSize = 6;
inline constexpr size_t kRouterIdBodySize = 10;
inline constexpr size_t kNextHopFixedSize = 2;
inline constexpr size_t kUpdateFixedSize = 10;
inline constexpr size_t kRouteRequestFixedSize = 2;
inline constexpr size_t kSeqnoRequestFixedSize = 14;

// §4.6.1 / §4.6.2 padding (the decoder reports them; the writer can emit them).
struct Pad1 {
  bool operator==(const Pad1&) const = default;
};
struct PadN {
  uint8_t length = 0;  // zero octets of body
  bool operator==(const PadN&) const = default;
};
// §4.6.3
struct AckRequest {
  uint16_t opaque = 0;
  Centiseconds interval{0};  // non-zero
  bool operator==(const AckRequest&) const = default;
};
// §4.6.4
struct Ack {
  uint16_t opaque = 0;
  bool operator==(const Ack&) const = default;
};
// §4.6.5, with the RTT extension's Timestamp sub-TLV (RFC 9616 §3.1).
struct Hello {
  uint16_t flags = 0;  // kHelloFlagUnicast
  Seqno seqno;
  Centiseconds interval{0};           // 0: no further Hellos of this kind are scheduled
  std::optional<uint32_t> timestamp;  // origin timestamp, microseconds
  bool IsUnicast() const { return (flags & kHelloFlagUnicast) != 0; }
  bool operator==(const Hello&) const = default;
};
// RFC 9616 §3.2: the IHU Timestamp sub-TLV.
struct IhuTimestamp {
  uint32_t origin = 0;   // copied from the neighbour's Hello
  uint32_t receive = 0;  // when that Hello arrived here
  bool operator==(const IhuTimestamp&) const = default;
};
// §4.6.6
struct Ihu {
  Metric rxcost;
  Centiseconds interval{0};          // non-zero
  std::optional<IpAddress> address;  // nullopt: AE 0, for any receiver
  std::optional<IhuTimestamp> timestamp;
  bool operator==(const Ihu&) const = default;
};
// §4.6.7
struct RouterIdTlv {
  RouterId router_id;  // valid
  bool operator==(const RouterIdTlv&) const = default;
};
// §4.6.8
struct NextHop {
  IpAddress address;
  bool operator==(const NextHop&) const = default;
};
// §4.6.9, RFC 9079 source prefix, RFC 9229 AE 4. The wire AE is derived:
// wildcard → 0; IPv4 prefix with an IPv6 next hop → 4; IPv4 → 1; IPv6 → 2.
struct Update {
  bool wildcard = false;                // AE 0: retract every route of this neighbour
  Prefix prefix;                        // host bits cleared; ignored when wildcard
  std::optional<Prefix> source_prefix;  // RFC 9079; same family, length >= 1
  Centiseconds interval{0};             // non-zero
  Seqno seqno;
  Metric metric;
  // From the parser state. router_id: present unless no router-id was known
  // (only possible for a retraction). next_hop: present unless this is a
  // retraction (retractions carry none; they are sent with AE 1, never 4).
  // The writer emits Router-Id / Next Hop TLVs when these differ from the
  // receiver's state.
  std::optional<RouterId> router_id;
  std::optional<IpAddress> next_hop;
  bool IsRetraction() const { return metric.IsInfinite(); }
  bool operator==(const Update&) const = default;
};
// §4.6.10. nullopt prefix: a wildcard request (AE 0) for a full dump.
struct RouteRequest {
  std::optional<Prefix> prefix;
  std::optional<Prefix> source_prefix;
  bool operator==(const RouteRequest&) const = default;
};
// §4.6.11
struct SeqnoRequest {
  Prefix prefix;
  std::optional<Prefix> source_prefix;
  Seqno seqno;
  uint8_t hop_count = 0;  // non-zero
  RouterId router_id;     // valid
  bool operator==(const SeqnoRequest&) const = default;
};

using Tlv = std::variant<Pad1, PadN, AckRequest, Ack, Hello, Ihu, RouterIdTlv, NextHop, Update,
                         RouteRequest, SeqnoRequest>;

// Why a TLV was skipped (STYLE.md rule 12). Skipping one TLV never drops the
// packet, except kTruncated, which ends parsing (the rest cannot be framed).
enum class TlvDropReason : uint8_t {
  kTruncated,               // the TLV runs past the packet body
  kUnknownType,             // §4.3: silently ignored
  kTooShort,                // Length smaller than the natural body
  kBadAddressEncoding,      // AE unknown or not allowed in this TLV
  kPrefixTooLong,           // Plen beyond the address family
  kPrefixTooShort,          // AE 3 with Plen < 64 (fe80::/64 is implied)
  kOmittedTooLarge,         // Omitted beyond the prefix's octets
  kNoDefaultPrefix,         // Omitted > 0 with no default prefix for this AE
  kCompressionNotAllowed,   // AE 3 with Omitted != 0
  kBadWildcard,             // AE 0 with a prefix, or not a retraction
  kZeroInterval,            // AckRequest, IHU, Update with interval 0
  kZeroHopCount,            // Seqno Request with hop count 0
  kInvalidRouterId,         // all zeros or all ones (§4.6.7)
  kNoRouterId,              // an Update (not a retraction) before any router-id
  kNoNextHop,               // an Update (not a retraction) with no next hop for its family
  kBadSubTlv,               // a sub-TLV runs past its TLV
  kBadSourcePrefix,         // RFC 9079 sub-TLV malformed, repeated, or with AE 0
  kUnknownMandatorySubTlv,  // §4.4: the TLV is ignored (its parser-state effect stays)
};
std::string_view ToString(TlvDropReason reason);

struct SkippedTlv {
  uint8_t type = 0;
  size_t offset = 0;  // of the TLV within the body
  TlvDropReason reason{};
};

struct Packet {
  std::vector<Tlv> tlvs;  // in order, padding included
  std::vector<SkippedTlv> skipped;
  Bytes trailer;  // octets after the body (§4.2), kept opaque
};

// The parser state of §4.5, reset for every packet.
struct ParserState {
  // Indexed by AE (1, 2, 4 use compression; 0 and 3 never do). The stored
  // octets are the expanded prefix of the last Update with flag 0x80.
  std::array<std::optional<ByteArray<16>>, 5> default_prefix;
  std::optional<IpAddress> next_hop_v4;
  std::optional<IpAddress> next_hop_v6;
  std::optional<RouterId> router_id;

  // Next hops start as the packet's source address for its family.
  static ParserState ForSource(const IpAddress& source);
};

// Decodes one datagram received from `source`. Fails only when the header is
// wrong (short, bad magic or version, body longer than the datagram); bad
// TLVs are listed in Packet::skipped instead.
Result<Packet> DecodePacket(ByteSpan datagram, const IpAddress& source);

// Builds one packet sent from `source` (whose address receivers use as the
// initial next hop). Updates are compressed against the previous Update of
// the same AE (flag 0x80 is always set), and Router-Id / Next Hop TLVs (or
// flag 0x40) are emitted whenever an Update's router-id or next hop differ
// from the state the receiver will hold.
class PacketWriter {
 public:
  explicit PacketWriter(const IpAddress& source, size_t max_size = kMaxPacketSize);

  // Appends `tlv` (with any Router-Id / Next Hop it needs) if the packet then
  // stays within max_size; otherwise changes nothing and returns false.
  [[nodiscard]] bool Append(const Tlv& tlv);
  bool empty() const { return body_.empty(); }
  // Header plus body so far.
  size_t size() const { return kPacketHeaderSize + body_.size(); }
  // The datagram: header, body, then `trailer`.
  Bytes Finish(ByteSpan trailer = {}) const;

 private:
  ParserState state_;
  size_t max_size_;
  Bytes body_;
};

// True for the TLVs that only carry parser state or padding (Pad1, PadN,
// Router-Id, Next Hop); their effect is already folded into decoded Updates.
bool IsStateOrPadding(const Tlv& tlv);

}  // namespace plexus::babel
