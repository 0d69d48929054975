// TUN virtio-net offloads done in userspace: segmentation of TSO/USO
// super-packets read from TUN, and coalescing of received TCP segments into
// super-packets written to TUN (checksum helpers: io/checksum.h).
//
//   TUN read:  [virtio hdr | 64 KiB TCP super-packet] --Segment--> N IP packets
//   TUN write: N decrypted TCP segments --Coalescer--> [virtio hdr | super-packet]
//
// With IFF_VNET_HDR every TUN read/write carries a `struct virtio_net_hdr`
// (include/uapi/linux/virtio_net.h) in front of the packet; TUNSETOFFLOAD with
// TUN_F_CSUM|TUN_F_TSO4|TUN_F_TSO6 (|TUN_F_USO4|TUN_F_USO6) lets the kernel
// hand us unsegmented packets with partial checksums (kernel
// Documentation/networking/segmentation-offloads.rst, checksum-offloads.rst).
//
// Everything here is pure: no I/O, no allocation per packet. Thread use: the
// free functions are reentrant; a Coalescer belongs to one thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "base/bytes.h"
#include "base/ip.h"
#include "io/checksum.h"  // Internet checksum helpers, part of this API

namespace plexus::io {

// ---------------------------------------------------------------------------
// The virtio-net header.

inline constexpr size_t kVirtioNetHeaderSize = 10;

// struct virtio_net_hdr (legacy, 10 bytes): flags u8, gso_type u8, hdr_len
// u16, gso_size u16, csum_start u16, csum_offset u16. The u16 fields are in the
// device's byte order, which for TUN on a little-endian host is little-endian.
struct VirtioNetHeader {
  static constexpr uint8_t kFlagNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr uint8_t kFlagDataValid = 2;  // VIRTIO_NET_HDR_F_DATA_VALID

  static constexpr uint8_t kGsoNone = 0;    // VIRTIO_NET_HDR_GSO_NONE
  static constexpr uint8_t kGsoTcpV4 = 1;   // VIRTIO_NET_HDR_GSO_TCPV4
  static constexpr uint8_t kGsoUdp = 3;     // VIRTIO_NET_HDR_GSO_UDP (UFO, unsupported)
  static constexpr uint8_t kGsoTcpV6 = 4;   // VIRTIO_NET_HDR_GSO_TCPV6
  static constexpr uint8_t kGsoUdpL4 = 5;   // VIRTIO_NET_HDR_GSO_UDP_L4 (USO)
  static constexpr uint8_t kGsoEcn = 0x80;  // VIRTIO_NET_HDR_GSO_ECN, or'ed in

  uint8_t flags = 0;
  uint8_t gso_type = kGsoNone;
  uint16_t hdr_len = 0;      // length of IP + transport headers (a hint)
  uint16_t gso_size = 0;     // payload bytes per segment
  uint16_t csum_start = 0;   // offset where checksumming starts
  uint16_t csum_offset = 0;  // offset of the checksum field from csum_start

  // nullopt if `in` is shorter than kVirtioNetHeaderSize; extra bytes ignored.
  static std::optional<VirtioNetHeader> Decode(ByteSpan in);
  // Writes kVirtioNetHeaderSize bytes; `out` must be at least that long.
  void Encode(MutableByteSpan out) const;
  bool needs_csum() const { return (flags & kFlagNeedsCsum) != 0; }
  uint8_t gso_kind() const { return gso_type & static_cast<uint8_t>(~kGsoEcn); }
  bool operator==(const VirtioNetHeader&) const = default;
};

// ---------------------------------------------------------------------------
// Errors: why a packet read from TUN could not be segmented (a drop reason).

enum class OffloadError : uint8_t {
  kTruncated,             // shorter than the IP or transport header
  kBadIpVersion,          // not IPv4/IPv6, or not the family the gso_type says
  kBadIpHeaderLength,     // IPv4 IHL < 5 or beyond the packet
  kIpv4Fragment,          // a GSO packet that is an IPv4 fragment
  kIpv6ExtensionHeaders,  // IPv6 next header is not the transport (unsupported)
  kWrongProtocol,         // IPv4 protocol is not the one gso_type says
  kBadTransportHeader,    // TCP data offset < 5 words or beyond the packet
  kBadChecksumOffsets,    // csum_start/csum_offset outside the packet or misplaced
  kZeroGsoSize,           // GSO packet with gso_size 0
  kSegmentTooLarge,       // headers + gso_size do not fit an IP length field
  kUnsupportedGsoType,    // UFO or an unknown gso_type
  kTooManySegments,       // more segments than output buffers
  kOutputTooSmall,        // an output buffer cannot hold its segment
};
std::string_view ToString(OffloadError e);

struct SegmentResult {
  size_t count = 0;  // segments written; 0 on error
  std::optional<OffloadError> error;
  bool ok() const { return !error.has_value(); }
};

// ---------------------------------------------------------------------------
// TUN read path.

// Completes a VIRTIO_NET_HDR_F_NEEDS_CSUM checksum in place: the 16-bit field
// at csum_start + csum_offset becomes the Internet checksum of
// packet[csum_start:], whose field held the pseudo-header sum. Does nothing if
// the flag is clear. Errors: kBadChecksumOffsets.
std::optional<OffloadError> CompleteChecksum(const VirtioNetHeader& header, MutableByteSpan packet);

// Splits `packet` (an IP packet read from TUN after `header`) into complete IP
// packets written to the front of `segments[0..count)`; on success each used
// span is shrunk to its segment's length, the rest are untouched. To reserve
// headroom (e.g. for a WireGuard data-message header) pass spans that begin
// after the headroom in the caller's buffers.
//
// - gso_type NONE: copies the packet to segments[0], completing its checksum if
//   NEEDS_CSUM (callers that can work in place should use CompleteChecksum).
// - TCPV4 / TCPV6 (RFC 9293) and UDP_L4 (USO): payload chunks of gso_size
//   bytes, each with the original IP + transport headers, then: IPv4 total
//   length, ID + i and header checksum; IPv6 payload length; TCP sequence
//   number + i * gso_size, FIN/PSH only on the last segment, CWR only on the
//   first; UDP length; full transport checksums. hdr_len is ignored (computed
//   from the headers). IPv6 extension headers are not supported.
SegmentResult Segment(const VirtioNetHeader& header, ByteSpan packet,
                      std::span<MutableByteSpan> segments);

// ---------------------------------------------------------------------------
// TUN write path.

// One packet of a TUN write batch in caller-owned memory (the same shape as
// io::TunPacket, so a batch converts field by field):
//
//   buffer: [ IP packet (length) | free room ]
//
// The Coalescer appends merged payloads into the free room, so a buffer of
// 65535 bytes allows full 64 KiB super-packets. Headroom, if the caller wants
// any, lies before buffer.data() and is never touched.
struct PacketBuffer {
  MutableByteSpan buffer;  // the packet at buffer.data(), then free room
  size_t length = 0;       // IP packet length
  VirtioNetHeader vnet;    // output: the header to write with the packet

  MutableByteSpan packet() const { return buffer.first(length); }
};

// Merges TCP segments of the same flow (the kernel's GRO rules: same addresses
// and ports, contiguous sequence numbers, equal ACK number, window, options,
// TTL/hop limit and TOS/traffic class; flags exactly ACK with PSH allowed only
// on the last; equal payload sizes except a shorter last; IPv4 without options
// or fragmentation and with consecutive IDs unless DF; valid checksums, see
// TransportChecksums) into
// super-packets of at most 65535 bytes with a TCPV4/TCPV6 virtio header,
// NEEDS_CSUM and the pseudo-header sum in the TCP checksum field. Other packets
// pass through with a zero virtio header. Order within a flow is preserved.
// The buffers of a batch must not overlap.
class Coalescer {
 public:
  // Flows tracked at once within a batch; more evict the oldest.
  static constexpr size_t kMaxFlows = 16;

  // Whether a segment's TCP checksum is verified before it may be merged.
  //
  // kVerify (the default) follows kernel GRO: a segment with a wrong checksum
  // is passed through alone, for the kernel to drop.
  //
  // kTrust skips that per-packet pass over the payload. Use it only for
  // packets that were just authenticated by the AEAD (WireGuard transport
  // data, ChaCha20-Poly1305): the checksum guards against corruption on the
  // path, which the 128-bit Poly1305 tag already excludes, so a wrong TCP
  // checksum can only come from the authenticated peer, which could as well
  // have sent any payload with a right one. A merged super-packet carries
  // NEEDS_CSUM, so the kernel writes a checksum over the merged data and
  // never checks the segments' own. A packet passed through alone keeps its
  // zero virtio header (no DATA_VALID), so the kernel still verifies it. The
  // IPv4 header checksum (20 bytes, cheap) is verified in both modes: a super-
  // packet inherits its head's, updated incrementally (RFC 1624).
  enum class TransportChecksums : uint8_t { kVerify, kTrust };

  explicit Coalescer(TransportChecksums checksums = TransportChecksums::kVerify)
      : checksums_(checksums) {}

  struct Stats {
    uint64_t merged = 0;         // segments appended to an earlier packet
    uint64_t super_packets = 0;  // GSO packets produced
    uint64_t bad_buffers = 0;    // length > buffer.size() (not written)
  };

  // Coalesces `packets` in place and writes to `order` the indices of the
  // packets to write, in order; returns how many. Each listed packet has its
  // (super-)packet in packet() and its virtio header in vnet. Unlisted
  // packets were merged into an earlier one (or had length > buffer.size()).
  // Requires order.size() >= packets.size() (excess packets are not
  // processed).
  size_t Coalesce(std::span<PacketBuffer> packets, std::span<uint32_t> order);

  const Stats& stats() const { return stats_; }
  TransportChecksums transport_checksums() const { return checksums_; }

 private:
  TransportChecksums checksums_;
  Stats stats_;
};

}  // namespace plexus::io
