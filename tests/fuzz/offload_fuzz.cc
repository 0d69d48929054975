// libFuzzer target: the TUN offloads (io/offload.h) and their checksums
// (io/checksum.h).
//
//   byte 0      flags: bits 0-2 pick the size of the Segment output buffers
//               (kSegmentSizes), bits 3-5 how many there are (kSegmentCounts),
//               bit 6 makes the last packet of each Coalesce batch claim one
//               byte more than its buffer holds
//   bytes 1-10  the virtio_net_hdr (VirtioNetHeader::Decode)
//   rest        the packet
//
// Each input runs:
//   1. OnesComplementSum and CopyAndSum over the packet against a naive RFC 1071 sum.
//   2. Segment(header, packet) into separately allocated output buffers (so
//      ASan sees a write past any of them); its segments are checked: sizes,
//      lengths, checksums, and the payload is the packet's. With gso_type NONE
//      the copy must equal CompleteChecksum applied in place.
//   3. Coalescer::Coalesce, in both TransportChecksums modes, over a batch made
//      by splitting the packet at every kSeparator, and over the segments of
//      step 2 (which must merge back into one super-packet when the kernel's
//      GRO rules allow). Each packet sits in its own 65535-byte buffer. The
//      order, the byte count, the virtio headers and the checksums of every
//      super-packet are checked, and every super-packet must segment again.
// A violated property traps.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "io/offload.h"

namespace {

using namespace plexus;      // NOLINT(google-build-using-namespace): fuzz harness
using namespace plexus::io;  // NOLINT(google-build-using-namespace)

constexpr std::array<size_t, 8> kSegmentSizes = {1, 60, 576, 1280, 1420, 1500, 9000, 65535};
constexpr std::array<size_t, 8> kSegmentCounts = {0, 1, 2, 3, 8, 16, 64, 128};
constexpr uint8_t kBadLastBuffer = 0x40;
constexpr size_t kMaxBatch = 128;
constexpr size_t kBatchBuffer = 65535;
constexpr std::string_view kSeparator = "PLXS";
constexpr uint8_t kProtocolTcp = 6;
constexpr uint8_t kProtocolUdp = 17;

void Check(bool property) {
  if (!property) __builtin_trap();
}

// Heap buffers allocated once, each on its own so that ASan guards its end.
struct Buffers {
  std::array<std::vector<Bytes>, kSegmentSizes.size()> segments;  // [size class][i]
  std::vector<Bytes> batch;                                       // kMaxBatch x kBatchBuffer

  Buffers() {
    for (size_t c = 0; c < kSegmentSizes.size(); ++c) {
      segments[c].assign(kSegmentCounts.back(), Bytes(kSegmentSizes[c]));
    }
    batch.assign(kMaxBatch, Bytes(kBatchBuffer));
  }
};

Buffers& TheBuffers() {
  static Buffers* buffers = new Buffers();  // never destroyed: outlives every input
  return *buffers;
}

uint8_t U8At(ByteSpan p, size_t i) {
  return std::to_integer<uint8_t>(p[i]);
}

// RFC 1071 the slow way: big-endian words, an odd last byte padded with zero.
uint16_t NaiveSum(ByteSpan data, uint16_t initial) {
  uint64_t sum = initial;
  for (size_t i = 0; i < data.size(); i += 2) {
    sum += uint64_t{U8At(data, i)} << 8;
    if (i + 1 < data.size()) sum += U8At(data, i + 1);
  }
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

void CheckSums(ByteSpan packet, uint16_t initial) {
  const uint16_t naive = NaiveSum(packet, initial);
  Check(OnesComplementSum(packet, initial) == naive);
  Bytes copy(packet.size());
  Check(CopyAndSum(copy, packet, initial) == naive);
  Check(std::equal(copy.begin(), copy.end(), packet.begin()));
}

// Header lengths of a packet that Segment or Coalesce accepted.
size_t IpHeaderLength(ByteSpan p) {
  return (U8At(p, 0) >> 4) == 4 ? static_cast<size_t>(U8At(p, 0) & 0x0f) * 4 : 40;
}
size_t TcpHeaderLength(ByteSpan p, size_t ip_length) {
  return static_cast<size_t>(U8At(p, ip_length + 12) >> 4) * 4;
}
ByteSpan Source(ByteSpan p) {
  return (U8At(p, 0) >> 4) == 6 ? p.subspan(8, 16) : p.subspan(12, 4);
}
ByteSpan Destination(ByteSpan p) {
  return (U8At(p, 0) >> 4) == 6 ? p.subspan(24, 16) : p.subspan(16, 4);
}

// A complete IP packet: right length fields, valid IPv4 header and transport checksums.
void CheckCompletePacket(ByteSpan s, uint8_t protocol) {
  const size_t ip_length = IpHeaderLength(s);
  Check(s.size() >= ip_length);
  if ((U8At(s, 0) >> 4) == 4) {
    Check(LoadBe16(s.data() + 2) == s.size());
    Check(OnesComplementSum(s.first(ip_length)) == 0xffff);
  } else {
    Check(LoadBe16(s.data() + 4) == s.size() - 40);
  }
  const uint16_t pseudo = PseudoHeaderSum(Source(s), Destination(s), protocol,
                                          static_cast<uint32_t>(s.size() - ip_length));
  Check(OnesComplementSum(s.subspan(ip_length), pseudo) == 0xffff);
}

// The segments of a successful GSO Segment(): equal sizes but a shorter last,
// complete packets, and together the packet's payload.
void CheckGsoSegments(const VirtioNetHeader& h, ByteSpan packet,
                      std::span<const MutableByteSpan> segments) {
  const bool tcp = h.gso_kind() != VirtioNetHeader::kGsoUdpL4;
  const size_t ip_length = IpHeaderLength(packet);
  const size_t headers = ip_length + (tcp ? TcpHeaderLength(packet, ip_length) : 8);
  size_t offset = headers;
  for (size_t i = 0; i < segments.size(); ++i) {
    ByteSpan s = segments[i];
    Check(s.size() >= headers && s.size() - headers <= h.gso_size);
    if (i + 1 < segments.size()) Check(s.size() - headers == h.gso_size);
    Check(std::equal(s.begin() + headers, s.end(), packet.begin() + offset));
    offset += s.size() - headers;
    CheckCompletePacket(s, tcp ? kProtocolTcp : kProtocolUdp);
  }
  Check(offset == packet.size());
}

// GSO NONE: the copy is what CompleteChecksum does in place.
void CheckCopy(const VirtioNetHeader& h, ByteSpan packet, const SegmentResult& r,
               std::span<const MutableByteSpan> segments, bool fits) {
  Bytes in_place(packet.begin(), packet.end());
  std::optional<OffloadError> e = CompleteChecksum(h, in_place);
  if (!fits) return;  // kTooManySegments or kOutputTooSmall
  Check(r.ok() == !e.has_value());
  if (r.ok()) Check(std::equal(in_place.begin(), in_place.end(), segments[0].begin()));
}

// Returns how many segments Segment() wrote.
size_t RunSegment(uint8_t flags, const VirtioNetHeader& h, ByteSpan packet,
                  std::vector<MutableByteSpan>& spans) {
  std::vector<Bytes>& storage = TheBuffers().segments[flags & 7];
  spans.clear();
  for (size_t i = 0; i < kSegmentCounts[(flags >> 3) & 7]; ++i) spans.emplace_back(storage[i]);
  const std::vector<MutableByteSpan> before = spans;
  SegmentResult r = Segment(h, packet, spans);
  Check(r.ok() == (r.count > 0) && r.count <= spans.size());
  for (size_t i = 0; i < spans.size(); ++i) {
    Check(spans[i].data() == before[i].data() && spans[i].size() <= before[i].size());
    if (i >= r.count) Check(spans[i].size() == before[i].size());
  }
  spans.resize(r.count);
  const bool fits = !before.empty() && before[0].size() >= packet.size();
  if (h.gso_kind() == VirtioNetHeader::kGsoNone) {
    CheckCopy(h, packet, r, spans, fits);
  } else if (r.ok()) {
    CheckGsoSegments(h, packet, spans);
  }
  return r.count;
}

// A super-packet: the header Coalesce wrote describes it, its checksums are
// right once the kernel completes the TCP one, and Segment() accepts it.
void CheckSuperPacket(const PacketBuffer& b) {
  ByteSpan p = b.packet();
  const VirtioNetHeader& v = b.vnet;
  const size_t ip_length = IpHeaderLength(p);
  const bool v4 = (U8At(p, 0) >> 4) == 4;
  Check(v.flags == VirtioNetHeader::kFlagNeedsCsum && v.csum_start == ip_length &&
        v.csum_offset == 16);
  Check(v.gso_type == (v4 ? VirtioNetHeader::kGsoTcpV4 : VirtioNetHeader::kGsoTcpV6));
  Check(v.hdr_len == ip_length + TcpHeaderLength(p, ip_length));
  Check(v.gso_size > 0 && p.size() > v.hdr_len + size_t{v.gso_size});
  Bytes completed(p.begin(), p.end());
  Check(!CompleteChecksum(v, completed).has_value());
  CheckCompletePacket(completed, kProtocolTcp);
  std::vector<Bytes>& storage = TheBuffers().segments.back();
  std::vector<MutableByteSpan> spans(storage.begin(), storage.end());
  SegmentResult r = Segment(v, p, spans);
  Check(r.ok() && r.count >= 2);
  CheckGsoSegments(v, p, std::span(spans).first(r.count));
}

// Coalesces copies of `packets`; returns how many packets it lists.
size_t RunCoalesce(std::span<const ByteSpan> packets, Coalescer::TransportChecksums mode,
                   bool bad_last) {
  std::vector<Bytes>& storage = TheBuffers().batch;
  std::vector<PacketBuffer> batch(packets.size());
  for (size_t i = 0; i < packets.size(); ++i) {
    std::copy(packets[i].begin(), packets[i].end(), storage[i].begin());
    batch[i].buffer = storage[i];
    batch[i].length = packets[i].size();
    batch[i].vnet.flags = 0xff;  // output only: must be overwritten for listed packets
  }
  if (bad_last && !batch.empty()) batch.back().length = kBatchBuffer + 1;
  Coalescer coalescer(mode);
  std::vector<uint32_t> order(packets.size());
  const size_t written = coalescer.Coalesce(batch, order);
  const Coalescer::Stats& stats = coalescer.stats();
  Check(written + stats.merged + stats.bad_buffers == packets.size());
  Check(stats.bad_buffers == (bad_last && !batch.empty() ? 1 : 0));
  std::vector<bool> listed(packets.size());
  size_t listed_bytes = 0, expected_bytes = 0;
  for (size_t k = 0; k < written; ++k) {
    Check(order[k] < packets.size() && (k == 0 || order[k] > order[k - 1]));
    const PacketBuffer& b = batch[order[k]];
    listed[order[k]] = true;
    Check(b.length <= b.buffer.size() && b.length <= 65535);
    listed_bytes += b.length;
    expected_bytes += packets[order[k]].size();
    if (b.vnet == VirtioNetHeader{}) {
      ByteSpan original = packets[order[k]];
      Check(b.length == original.size() &&
            std::equal(original.begin(), original.end(), b.buffer.begin()));
    } else {
      CheckSuperPacket(b);
    }
  }
  for (size_t i = 0; i < packets.size(); ++i) {
    if (listed[i] || batch[i].length > batch[i].buffer.size()) continue;
    ByteSpan p = packets[i];  // merged: its payload went to a listed packet
    const size_t ip_length = IpHeaderLength(p);
    expected_bytes += p.size() - ip_length - TcpHeaderLength(p, ip_length);
  }
  Check(listed_bytes == expected_bytes);
  return written;
}

// Whether the kernel's GRO would merge every segment Segment() made from
// `packet` back into one: TCP with only ACK (and PSH), no IPv4 options, and
// payload in at least two segments.
bool ShouldMergeBack(const VirtioNetHeader& h, ByteSpan packet, size_t count) {
  if (h.gso_kind() == VirtioNetHeader::kGsoUdpL4 || count < 2 || packet.size() > 65535) {
    return false;
  }
  const size_t ip_length = IpHeaderLength(packet);
  if ((U8At(packet, 0) >> 4) == 4 && ip_length != 20) return false;
  const uint8_t flags = U8At(packet, ip_length + 13);
  return (flags & ~0x08) == 0x10;
}

std::vector<ByteSpan> Split(ByteSpan packet) {
  std::vector<ByteSpan> pieces;
  std::string_view rest = AsChars(packet);
  while (pieces.size() + 1 < kMaxBatch) {
    size_t at = rest.find(kSeparator);
    if (at == std::string_view::npos) break;
    pieces.push_back(AsBytes(rest.substr(0, at)));
    rest.remove_prefix(at + kSeparator.size());
  }
  pieces.push_back(AsBytes(rest));
  return pieces;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1 + kVirtioNetHeaderSize) return 0;
  const uint8_t flags = data[0];
  const bool bad_last = (flags & kBadLastBuffer) != 0;
  ByteSpan input(reinterpret_cast<const std::byte*>(data + 1), size - 1);
  const VirtioNetHeader h = *VirtioNetHeader::Decode(input);
  Bytes encoded(kVirtioNetHeaderSize);
  h.Encode(encoded);
  Check(std::equal(encoded.begin(), encoded.end(), input.begin()));
  ByteSpan packet = input.subspan(kVirtioNetHeaderSize);

  CheckSums(packet, h.hdr_len);
  std::vector<MutableByteSpan> segments;
  const size_t count = RunSegment(flags, h, packet, segments);

  const std::vector<ByteSpan> pieces = Split(packet);
  // Copies: CheckSuperPacket reuses the Segment output buffers.
  std::vector<Bytes> copies;
  for (ByteSpan s : segments) copies.emplace_back(s.begin(), s.end());
  const std::vector<ByteSpan> resegmented(copies.begin(), copies.end());
  for (auto mode :
       {Coalescer::TransportChecksums::kVerify, Coalescer::TransportChecksums::kTrust}) {
    RunCoalesce(pieces, mode, bad_last);
    const size_t written = RunCoalesce(resegmented, mode, false);
    if (h.gso_kind() != VirtioNetHeader::kGsoNone && ShouldMergeBack(h, packet, count)) {
      Check(written == 1);
    }
  }
  return 0;
}
