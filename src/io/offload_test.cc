#include "io/offload.h"

#include <gtest/gtest.h>

#include <cstring>
#include <functional>
#include <random>
#include <vector>

namespace plexus::io {
namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10, kUrg = 0x20,
                  kCwr = 0x80;

uint8_t U(ByteSpan b, size_t i) {
  return std::to_integer<uint8_t>(b[i]);
}

// --- Straightforward reference checksums (RFC 1071 §4.1 loop). ---

uint16_t RefSum(ByteSpan b) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < b.size(); i += 2) sum += (U(b, i) << 8) | U(b, i + 1);
  if (b.size() % 2) sum += U(b, b.size() - 1) << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

size_t IpHeaderLength(ByteSpan p) {
  return U(p, 0) >> 4 == 4 ? (U(p, 0) & 0xf) * 4 : 40;
}

// The explicit pseudo-header bytes (RFC 9293 §3.1, RFC 8200 §8.1).
Bytes RefPseudoHeader(ByteSpan p, uint8_t protocol, size_t l4_length) {
  Bytes out;
  if (U(p, 0) >> 4 == 4) {
    out.assign(p.begin() + 12, p.begin() + 20);
    out.insert(out.end(), {std::byte(0), std::byte(protocol), std::byte(l4_length >> 8),
                           std::byte(l4_length & 0xff)});
  } else {
    out.assign(p.begin() + 8, p.begin() + 40);
    for (int shift : {24, 16, 8, 0}) out.push_back(std::byte((l4_length >> shift) & 0xff));
    out.insert(out.end(), {std::byte(0), std::byte(0), std::byte(0), std::byte(protocol)});
  }
  return out;
}

bool RefTransportChecksumValid(ByteSpan p, uint8_t protocol) {
  const size_t ip_len = IpHeaderLength(p);
  Bytes all = RefPseudoHeader(p, protocol, p.size() - ip_len);
  all.insert(all.end(), p.begin() + ip_len, p.end());
  return RefSum(all) == 0xffff;
}

bool RefIpv4HeaderValid(ByteSpan p) {
  return RefSum(p.first(IpHeaderLength(p))) == 0xffff;
}

// --- Packet builders. ---

struct TcpSpec {
  IpFamily family = IpFamily::kV4;
  uint32_t seq = 0xfffff000;  // wraps inside a 64 KiB super-packet
  uint32_t ack = 5000;
  uint8_t flags = kAck;
  uint16_t window = 512;
  uint16_t ip_id = 0xfffe;
  uint8_t ttl = 64;
  uint8_t tos = 0;
  bool df = true;
  uint16_t source_port = 40000;
  uint16_t destination_port = 5201;
  Bytes ip_options;   // IPv4 only, multiple of 4
  Bytes tcp_options;  // multiple of 4
  Bytes payload;
};

void WriteAddresses(IpFamily family, std::byte* h, uint8_t last) {
  if (family == IpFamily::kV4) {
    const uint8_t src[4] = {10, 0, 0, 1}, dst[4] = {10, 0, 0, last};
    std::memcpy(h + 12, src, 4);
    std::memcpy(h + 16, dst, 4);
    return;
  }
  uint8_t src[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  std::memcpy(h + 8, src, 16);
  src[15] = last;
  std::memcpy(h + 24, src, 16);
}

// An IP header for `l4_length` bytes of `protocol`, with a valid IPv4 checksum.
Bytes BuildIpHeader(const TcpSpec& s, uint8_t protocol, size_t l4_length) {
  if (s.family == IpFamily::kV6) {
    Bytes h(40);
    h[0] = std::byte(0x60 | (s.tos >> 4));
    h[1] = std::byte((s.tos & 0xf) << 4);
    StoreBe16(&h[4], static_cast<uint16_t>(l4_length));
    h[6] = std::byte(protocol);
    h[7] = std::byte(s.ttl);
    WriteAddresses(s.family, h.data(), 2);
    return h;
  }
  Bytes h(20 + s.ip_options.size());
  std::copy(s.ip_options.begin(), s.ip_options.end(), h.begin() + 20);
  h[0] = std::byte(0x40 | (h.size() / 4));
  h[1] = std::byte(s.tos);
  StoreBe16(&h[2], static_cast<uint16_t>(h.size() + l4_length));
  StoreBe16(&h[4], s.ip_id);
  h[6] = std::byte(s.df ? 0x40 : 0);
  h[8] = std::byte(s.ttl);
  h[9] = std::byte(protocol);
  WriteAddresses(s.family, h.data(), 2);
  StoreBe16(&h[10], static_cast<uint16_t>(~RefSum(h)));
  return h;
}

void WriteRefTransportChecksum(Bytes& p, uint8_t protocol, size_t offset) {
  const size_t ip_len = IpHeaderLength(p);
  StoreBe16(&p[ip_len + offset], 0);
  Bytes all = RefPseudoHeader(p, protocol, p.size() - ip_len);
  all.insert(all.end(), p.begin() + ip_len, p.end());
  StoreBe16(&p[ip_len + offset], static_cast<uint16_t>(~RefSum(all)));
}

Bytes BuildTcp(const TcpSpec& s) {
  Bytes tcp(20 + s.tcp_options.size());
  StoreBe16(&tcp[0], s.source_port);
  StoreBe16(&tcp[2], s.destination_port);
  StoreBe32(&tcp[4], s.seq);
  StoreBe32(&tcp[8], s.ack);
  tcp[12] = std::byte((tcp.size() / 4) << 4);
  tcp[13] = std::byte(s.flags);
  StoreBe16(&tcp[14], s.window);
  std::copy(s.tcp_options.begin(), s.tcp_options.end(), tcp.begin() + 20);
  tcp.insert(tcp.end(), s.payload.begin(), s.payload.end());
  Bytes p = BuildIpHeader(s, 6, tcp.size());
  p.insert(p.end(), tcp.begin(), tcp.end());
  WriteRefTransportChecksum(p, 6, 16);
  return p;
}

Bytes BuildUdp(IpFamily family, const Bytes& payload) {
  TcpSpec s;
  s.family = family;
  Bytes udp(8);
  StoreBe16(&udp[0], 5353);
  StoreBe16(&udp[2], 53);
  StoreBe16(&udp[4], static_cast<uint16_t>(8 + payload.size()));
  udp.insert(udp.end(), payload.begin(), payload.end());
  Bytes p = BuildIpHeader(s, 17, udp.size());
  p.insert(p.end(), udp.begin(), udp.end());
  WriteRefTransportChecksum(p, 17, 6);
  return p;
}

Bytes RandomBytes(std::mt19937& rng, size_t n) {
  Bytes b(n);
  for (auto& x : b) x = std::byte(rng() & 0xff);
  return b;
}

const Bytes kTimestampOption = {std::byte(1), std::byte(1), std::byte(8), std::byte(10),
                                std::byte(0), std::byte(0), std::byte(0), std::byte(1),
                                std::byte(0), std::byte(0), std::byte(0), std::byte(2)};

// What the kernel hands us with NEEDS_CSUM: the pseudo-header sum in the field.
Bytes WithPartialChecksum(Bytes p, uint8_t protocol, size_t offset) {
  const size_t ip_len = IpHeaderLength(p);
  Bytes pseudo = RefPseudoHeader(p, protocol, p.size() - ip_len);
  StoreBe16(&p[ip_len + offset], RefSum(pseudo));
  return p;
}

VirtioNetHeader TsoHeader(const Bytes& p, uint16_t gso_size) {
  VirtioNetHeader h;
  const bool v4 = U(p, 0) >> 4 == 4;
  const size_t ip_len = IpHeaderLength(p);
  h.flags = VirtioNetHeader::kFlagNeedsCsum;
  h.gso_type = v4 ? VirtioNetHeader::kGsoTcpV4 : VirtioNetHeader::kGsoTcpV6;
  h.hdr_len = static_cast<uint16_t>(ip_len + (U(p, ip_len + 12) >> 4) * 4);
  h.gso_size = gso_size;
  h.csum_start = static_cast<uint16_t>(ip_len);
  h.csum_offset = 16;
  return h;
}

// Output buffers with `headroom` bytes reserved in front of each segment.
struct SegmentBuffers {
  SegmentBuffers(size_t count, size_t size, size_t headroom = 16)
      : storage(count, Bytes(headroom + size)) {
    for (Bytes& b : storage) spans.push_back(MutableByteSpan(b).subspan(headroom));
  }
  std::vector<Bytes> storage;
  std::vector<MutableByteSpan> spans;
};

std::vector<Bytes> SegmentOrDie(const VirtioNetHeader& h, ByteSpan packet) {
  SegmentBuffers out(64, 65535);
  SegmentResult r = Segment(h, packet, out.spans);
  EXPECT_TRUE(r.ok()) << ToString(*r.error);
  std::vector<Bytes> segments;
  for (size_t i = 0; i < r.count; ++i)
    segments.emplace_back(out.spans[i].begin(), out.spans[i].end());
  return segments;
}

// ---------------------------------------------------------------------------
// Checksums.

TEST(Checksum, MatchesRfc1071Example) {
  // RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
  const Bytes b = {std::byte(0x00), std::byte(0x01), std::byte(0xf2), std::byte(0x03),
                   std::byte(0xf4), std::byte(0xf5), std::byte(0xf6), std::byte(0xf7)};
  EXPECT_EQ(OnesComplementSum(b), 0xddf2);
  EXPECT_EQ(InternetChecksum(b), 0x220d);
}

TEST(Checksum, MatchesReferenceForAllLengthsAndAlignments) {
  std::mt19937 rng(1);
  Bytes data = RandomBytes(rng, 300);
  for (size_t start = 0; start < 4; ++start) {
    for (size_t n = 0; start + n <= data.size(); ++n) {
      ByteSpan s = ByteSpan(data).subspan(start, n);
      ASSERT_EQ(OnesComplementSum(s), RefSum(s)) << start << "+" << n;
    }
  }
  Bytes ones(70000, std::byte(0xff));
  EXPECT_EQ(OnesComplementSum(ones), RefSum(ones));
}

TEST(Checksum, ChainsPartialSums) {
  std::mt19937 rng(2);
  Bytes a = RandomBytes(rng, 64), b = RandomBytes(rng, 33);
  Bytes ab = a;
  ab.insert(ab.end(), b.begin(), b.end());
  EXPECT_EQ(OnesComplementSum(b, OnesComplementSum(a)), RefSum(ab));
}

TEST(Checksum, IncrementalUpdateMatchesRecomputation) {
  // RFC 1624 eqn. 3 against a full recomputation, including the 0x0000/0xffff
  // words that break eqn. 2.
  std::mt19937 rng(3);
  for (int trial = 0; trial < 2000; ++trial) {
    Bytes data = RandomBytes(rng, 20);
    const size_t at = 2 * (rng() % 8);
    const uint16_t before = InternetChecksum(data);
    const uint16_t old_word = LoadBe16(&data[at]);
    const uint16_t new_word = trial % 3 == 0 ? 0 : trial % 3 == 1 ? 0xffff : rng() & 0xffff;
    StoreBe16(&data[at], new_word);
    ASSERT_EQ(UpdateChecksum16(before, old_word, new_word), InternetChecksum(data));
    const uint32_t old32 = LoadBe32(&data[12]), new32 = static_cast<uint32_t>(rng());
    const uint16_t before32 = InternetChecksum(data);
    StoreBe32(&data[12], new32);
    ASSERT_EQ(UpdateChecksum32(before32, old32, new32), InternetChecksum(data));
  }
}

TEST(Checksum, PseudoHeaderSumMatchesExplicitHeader) {
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    TcpSpec s;
    s.family = family;
    s.payload = Bytes(1000, std::byte(7));
    Bytes p = BuildTcp(s);
    const size_t ip_len = IpHeaderLength(p);
    ByteSpan src =
        family == IpFamily::kV4 ? ByteSpan(p).subspan(12, 4) : ByteSpan(p).subspan(8, 16);
    ByteSpan dst =
        family == IpFamily::kV4 ? ByteSpan(p).subspan(16, 4) : ByteSpan(p).subspan(24, 16);
    EXPECT_EQ(PseudoHeaderSum(src, dst, 6, static_cast<uint32_t>(p.size() - ip_len)),
              RefSum(RefPseudoHeader(p, 6, p.size() - ip_len)));
  }
}

// ---------------------------------------------------------------------------
// Virtio header.

TEST(VirtioNetHeader, EncodesLittleEndianFieldsInKernelOrder) {
  VirtioNetHeader h{1, 4, 60, 1428, 40, 16};
  Bytes out(kVirtioNetHeaderSize);
  h.Encode(out);
  EXPECT_EQ(ToHex(out),
            "01043c0094052800"
            "1000");
  auto back = VirtioNetHeader::Decode(out);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, h);
  EXPECT_FALSE(VirtioNetHeader::Decode(ByteSpan(out).first(9)).has_value());
  EXPECT_EQ((VirtioNetHeader{0, 0x81}.gso_kind()), VirtioNetHeader::kGsoTcpV4);
}

// ---------------------------------------------------------------------------
// Segmentation.

TEST(CompleteChecksum, FillsPartialChecksum) {
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    TcpSpec s;
    s.family = family;
    s.payload = Bytes(777, std::byte(0x5a));
    Bytes p = WithPartialChecksum(BuildTcp(s), 6, 16);
    VirtioNetHeader h = TsoHeader(p, 0);
    h.gso_type = VirtioNetHeader::kGsoNone;
    EXPECT_FALSE(RefTransportChecksumValid(p, 6));
    EXPECT_FALSE(CompleteChecksum(h, p).has_value());
    EXPECT_TRUE(RefTransportChecksumValid(p, 6));
    EXPECT_EQ(p, BuildTcp(s));
  }
}

TEST(CompleteChecksum, RejectsOffsetsOutsidePacket) {
  Bytes p(60);
  VirtioNetHeader h{VirtioNetHeader::kFlagNeedsCsum, 0, 0, 0, 60, 0};
  EXPECT_EQ(CompleteChecksum(h, p), OffloadError::kBadChecksumOffsets);
  h = {VirtioNetHeader::kFlagNeedsCsum, 0, 0, 0, 40, 19};
  EXPECT_EQ(CompleteChecksum(h, p), OffloadError::kBadChecksumOffsets);
  h = {VirtioNetHeader::kFlagNeedsCsum, 0, 0, 0, 40, 18};
  EXPECT_FALSE(CompleteChecksum(h, p).has_value());
}

TEST(Segment, CopiesNonGsoPacketAndCompletesChecksum) {
  Bytes udp = BuildUdp(IpFamily::kV4, Bytes(100, std::byte(3)));
  Bytes partial = WithPartialChecksum(udp, 17, 6);
  VirtioNetHeader h{VirtioNetHeader::kFlagNeedsCsum, 0, 0, 0, 20, 6};
  EXPECT_EQ(SegmentOrDie(h, partial), std::vector<Bytes>{udp});
  EXPECT_EQ(SegmentOrDie(VirtioNetHeader{}, udp), std::vector<Bytes>{udp});
}

// Segment copies a non-GSO packet and completes its checksum in one pass; the
// result must equal completing it in place, for any even or odd csum_start.
TEST(Segment, CopyingNonGsoPacketEqualsCompletingInPlace) {
  std::mt19937 rng(15);
  for (int trial = 0; trial < 500; ++trial) {
    Bytes p = RandomBytes(rng, 2 + rng() % 3000);
    VirtioNetHeader h{VirtioNetHeader::kFlagNeedsCsum, 0, 0, 0, 0, 0};
    h.csum_start = static_cast<uint16_t>(rng() % (p.size() - 1));
    h.csum_offset = static_cast<uint16_t>(rng() % (p.size() - 1 - h.csum_start));
    Bytes in_place = p;
    ASSERT_FALSE(CompleteChecksum(h, in_place).has_value());
    ASSERT_EQ(SegmentOrDie(h, p), std::vector<Bytes>{in_place}) << trial;
  }
}

// Checks every segment of a super-packet built from `s` against the spec.
void ExpectValidTcpSegments(const TcpSpec& s, uint16_t gso_size, const std::vector<Bytes>& segs) {
  const size_t expected = (s.payload.size() + gso_size - 1) / gso_size;
  ASSERT_EQ(segs.size(), expected);
  size_t offset = 0;
  for (size_t i = 0; i < segs.size(); ++i) {
    const Bytes& g = segs[i];
    const size_t ip_len = IpHeaderLength(g), hdr = ip_len + 20 + s.tcp_options.size();
    const size_t chunk = std::min<size_t>(gso_size, s.payload.size() - offset);
    ASSERT_EQ(g.size(), hdr + chunk) << i;
    if (s.family == IpFamily::kV4) {
      EXPECT_EQ(LoadBe16(&g[2]), g.size());
      EXPECT_EQ(LoadBe16(&g[4]), static_cast<uint16_t>(s.ip_id + i));
      EXPECT_TRUE(RefIpv4HeaderValid(g)) << i;
    } else {
      EXPECT_EQ(LoadBe16(&g[4]), g.size() - 40);
    }
    EXPECT_EQ(LoadBe32(&g[ip_len + 4]), static_cast<uint32_t>(s.seq + offset)) << i;
    uint8_t flags = s.flags;
    if (i + 1 < segs.size()) flags &= ~(kFin | kPsh);
    if (i > 0) flags &= ~kCwr;
    EXPECT_EQ(U(g, ip_len + 13), flags) << i;
    EXPECT_TRUE(RefTransportChecksumValid(g, 6)) << i;
    EXPECT_TRUE(std::equal(g.begin() + hdr, g.end(), s.payload.begin() + offset)) << i;
    offset += chunk;
  }
}

TEST(Segment, SplitsTcpV4SuperPacket) {
  std::mt19937 rng(4);
  TcpSpec s;
  s.flags = kAck | kPsh | kFin | kCwr;
  s.tcp_options = kTimestampOption;
  s.payload = RandomBytes(rng, 65535 - 20 - 32);
  Bytes p = WithPartialChecksum(BuildTcp(s), 6, 16);
  ExpectValidTcpSegments(s, 1448, SegmentOrDie(TsoHeader(p, 1448), p));
}

TEST(Segment, SplitsTcpV6SuperPacket) {
  std::mt19937 rng(5);
  TcpSpec s;
  s.family = IpFamily::kV6;
  s.tos = 0xb8;
  s.flags = kAck | kPsh;
  s.payload = RandomBytes(rng, 65000);
  Bytes p = WithPartialChecksum(BuildTcp(s), 6, 16);
  ExpectValidTcpSegments(s, 1420, SegmentOrDie(TsoHeader(p, 1420), p));
}

TEST(Segment, PacketNotLargerThanGsoSizeYieldsOneSegment) {
  TcpSpec s;
  s.flags = kAck | kPsh;
  s.payload = Bytes(100, std::byte(1));
  Bytes p = BuildTcp(s);
  EXPECT_EQ(SegmentOrDie(TsoHeader(p, 1448), WithPartialChecksum(p, 6, 16)), std::vector<Bytes>{p});
}

TEST(Segment, SplitsUdpL4SuperPacket) {
  std::mt19937 rng(6);
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    Bytes payload = RandomBytes(rng, 10000);
    Bytes p = WithPartialChecksum(BuildUdp(family, payload), 17, 6);
    const uint16_t ip_len = family == IpFamily::kV4 ? 20 : 40;
    VirtioNetHeader h{VirtioNetHeader::kFlagNeedsCsum,
                      VirtioNetHeader::kGsoUdpL4,
                      static_cast<uint16_t>(ip_len + 8),
                      1200,
                      ip_len,
                      6};
    std::vector<Bytes> segs = SegmentOrDie(h, p);
    ASSERT_EQ(segs.size(), 9u);
    for (size_t i = 0; i < segs.size(); ++i) {
      const size_t chunk = i + 1 < segs.size() ? 1200 : 10000 - 8 * 1200;
      Bytes expected =
          BuildUdp(family, Bytes(payload.begin() + i * 1200, payload.begin() + i * 1200 + chunk));
      if (family == IpFamily::kV4) {
        StoreBe16(&expected[4], static_cast<uint16_t>(0xfffe + i));
        StoreBe16(&expected[10], 0);
        StoreBe16(&expected[10], static_cast<uint16_t>(~RefSum(ByteSpan(expected).first(20))));
      }
      EXPECT_EQ(segs[i], expected) << i;
    }
  }
}

struct MalformedCase {
  const char* name;
  VirtioNetHeader header;
  Bytes packet;
  size_t outputs;
  OffloadError error;
};

std::vector<MalformedCase> MalformedCases() {
  TcpSpec s;
  s.payload = Bytes(5000, std::byte(9));
  const Bytes v4 = BuildTcp(s);
  s.family = IpFamily::kV6;
  const Bytes v6 = BuildTcp(s);
  const VirtioNetHeader h4 = TsoHeader(v4, 1000), h6 = TsoHeader(v6, 1000);
  auto with = [](VirtioNetHeader h, auto f) {
    f(h);
    return h;
  };
  auto patched = [](Bytes p, size_t at, uint8_t v) {
    p[at] = std::byte(v);
    return p;
  };
  using E = OffloadError;
  using H = VirtioNetHeader;
  return {
      {"empty", h4, {}, 8, E::kTruncated},
      {"short-ipv4", h4, Bytes(v4.begin(), v4.begin() + 19), 8, E::kTruncated},
      {"short-tcp", h4, Bytes(v4.begin(), v4.begin() + 30), 8, E::kTruncated},
      {"short-ipv6", h6, Bytes(v6.begin(), v6.begin() + 39), 8, E::kTruncated},
      {"version-5", h4, patched(v4, 0, 0x55), 8, E::kBadIpVersion},
      {"v6-for-tcpv4", h4, v6, 8, E::kBadIpVersion},
      {"v4-for-tcpv6", h6, v4, 8, E::kBadIpVersion},
      {"ihl-4", h4, patched(v4, 0, 0x44), 8, E::kBadIpHeaderLength},
      {"ihl-beyond", h4, patched(Bytes(v4.begin(), v4.begin() + 40), 0, 0x4f), 8,
       E::kBadIpHeaderLength},
      {"fragment", h4, patched(v4, 6, 0x20), 8, E::kIpv4Fragment},
      {"ipv4-udp-for-tcp", h4, patched(v4, 9, 17), 8, E::kWrongProtocol},
      {"ipv6-hop-by-hop", h6, patched(v6, 6, 0), 8, E::kIpv6ExtensionHeaders},
      {"ipv6-routing", h6, patched(v6, 6, 43), 8, E::kIpv6ExtensionHeaders},
      {"doff-4", h4, patched(v4, 32, 0x40), 8, E::kBadTransportHeader},
      {"doff-beyond", h4, patched(Bytes(v4.begin(), v4.begin() + 50), 32, 0xf0), 8,
       E::kBadTransportHeader},
      {"csum-start", with(h4, [](H& h) { h.csum_start = 60000; }), v4, 8, E::kBadChecksumOffsets},
      {"csum-offset", with(h4, [](H& h) { h.csum_offset = 6; }), v4, 8, E::kBadChecksumOffsets},
      {"gso-size-0", with(h4, [](H& h) { h.gso_size = 0; }), v4, 8, E::kZeroGsoSize},
      {"gso-ufo", with(h4, [](H& h) { h.gso_type = H::kGsoUdp; }), v4, 8, E::kUnsupportedGsoType},
      {"gso-unknown", with(h4, [](H& h) { h.gso_type = 9; }), v4, 8, E::kUnsupportedGsoType},
      {"too-many", h4, v4, 4, E::kTooManySegments},
      {"no-output", VirtioNetHeader{}, v4, 0, E::kTooManySegments},
      {"none-bad-csum", H{H::kFlagNeedsCsum, 0, 0, 0, 20, 6000}, v4, 8, E::kBadChecksumOffsets},
  };
}

TEST(Segment, RejectsMalformedInputWithNamedErrors) {
  for (const MalformedCase& c : MalformedCases()) {
    SegmentBuffers out(c.outputs, 65535);
    SegmentResult r = Segment(c.header, c.packet, out.spans);
    EXPECT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.count, 0u) << c.name;
    EXPECT_EQ(ToString(r.error.value_or(OffloadError::kTruncated)), ToString(c.error)) << c.name;
  }
}

TEST(Segment, RejectsSegmentsThatOverflowLengthFields) {
  TcpSpec s;
  s.payload = Bytes(65535 - 40, std::byte(1));
  Bytes p = BuildTcp(s);
  SegmentBuffers out(4, 70000);
  EXPECT_EQ(Segment(TsoHeader(p, 65535), p, out.spans).count, 1u);
  Bytes big = p;
  big.resize(70000);
  EXPECT_EQ(Segment(TsoHeader(big, 65535), big, out.spans).error, OffloadError::kSegmentTooLarge);
}

TEST(Segment, RejectsTooSmallOutput) {
  TcpSpec s;
  s.payload = Bytes(3000, std::byte(1));
  Bytes p = BuildTcp(s);
  SegmentBuffers out(8, 1000);
  EXPECT_EQ(Segment(TsoHeader(p, 1448), p, out.spans).error, OffloadError::kOutputTooSmall);
  EXPECT_EQ(Segment(VirtioNetHeader{}, p, out.spans).error, OffloadError::kOutputTooSmall);
}

TEST(Segment, SurvivesTruncationsAndRandomCorruption) {
  std::mt19937 rng(7);
  TcpSpec s;
  s.payload = RandomBytes(rng, 3000);
  s.tcp_options = kTimestampOption;
  const Bytes good = BuildTcp(s);
  const VirtioNetHeader h = TsoHeader(good, 512);
  SegmentBuffers out(8, 2048);
  for (size_t n = 0; n <= good.size(); ++n) {
    SegmentResult r = Segment(h, ByteSpan(good).first(n), out.spans);
    EXPECT_LE(r.count, 8u);
  }
  for (int trial = 0; trial < 20000; ++trial) {
    Bytes p(good.begin(), good.begin() + rng() % (good.size() + 1));
    for (int flips = rng() % 4; flips >= 0 && !p.empty(); --flips) {
      p[rng() % std::min<size_t>(p.size(), 80)] = std::byte(rng() & 0xff);
    }
    Bytes raw_header = RandomBytes(rng, kVirtioNetHeaderSize);
    VirtioNetHeader fuzzed = trial % 2 ? h : *VirtioNetHeader::Decode(raw_header);
    if (trial % 4 == 1) fuzzed.gso_size = static_cast<uint16_t>(rng() % 3000);
    SegmentBuffers small(8, 2048);
    SegmentResult r = Segment(fuzzed, p, small.spans);
    if (!r.ok()) continue;
    for (size_t i = 0; i < r.count; ++i) EXPECT_LE(small.spans[i].size(), 2048u);
  }
}

// ---------------------------------------------------------------------------
// Coalescing.

// A TUN write batch: each packet in its own 64 KiB storage after `headroom`.
struct Batch {
  explicit Batch(const std::vector<Bytes>& packets, size_t capacity = 65535 + 32,
                 size_t headroom = 32) {
    for (const Bytes& p : packets) {
      storage.emplace_back(std::max(capacity, headroom + p.size()));
      std::copy(p.begin(), p.end(), storage.back().begin() + headroom);
      // A stale header from an earlier batch, which Coalesce must overwrite.
      const VirtioNetHeader stale{1, 1, 1, 1, 1, 1};
      buffers.push_back({MutableByteSpan(storage.back()).subspan(headroom), p.size(), stale});
    }
    order.resize(packets.size());
  }
  // (virtio header, packet) for each output.
  std::vector<std::pair<VirtioNetHeader, Bytes>> Run(Coalescer& c) {
    std::vector<std::pair<VirtioNetHeader, Bytes>> out;
    const size_t n = c.Coalesce(buffers, order);
    for (size_t i = 0; i < n; ++i) {
      const PacketBuffer& b = buffers[order[i]];
      out.emplace_back(b.vnet, Bytes(b.packet().begin(), b.packet().end()));
    }
    return out;
  }
  std::vector<Bytes> storage;
  std::vector<PacketBuffer> buffers;
  std::vector<uint32_t> order;
};

std::vector<Bytes> SegmentsOf(TcpSpec s, size_t gso_size) {
  Bytes p = WithPartialChecksum(BuildTcp(s), 6, 16);
  return SegmentOrDie(TsoHeader(p, static_cast<uint16_t>(gso_size)), p);
}

TEST(Coalescer, RebuildsReferenceSuperPacket) {
  std::mt19937 rng(8);
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    TcpSpec s;
    s.family = family;
    s.flags = kAck | kPsh;
    s.tcp_options = kTimestampOption;
    const size_t ip_len = family == IpFamily::kV4 ? 20 : 40;
    s.payload = RandomBytes(rng, 65535 - ip_len - 32);
    Batch batch(SegmentsOf(s, 1448));
    Coalescer c;
    auto out = batch.Run(c);
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].first, TsoHeader(out[0].second, 1448));
    const Bytes reference = WithPartialChecksum(BuildTcp(s), 6, 16);
    EXPECT_EQ(out[0].second, reference);
    EXPECT_EQ(c.stats().super_packets, 1u);
    EXPECT_EQ(c.stats().merged, batch.buffers.size() - 1);
  }
}

TEST(Coalescer, SuperPacketCompletesToValidChecksums) {
  TcpSpec s;
  s.payload = Bytes(4000, std::byte(0x11));
  Batch batch(SegmentsOf(s, 1000));
  Coalescer c;
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 1u);
  Bytes p = out[0].second;
  EXPECT_TRUE(RefIpv4HeaderValid(p));
  ASSERT_FALSE(CompleteChecksum(out[0].first, p).has_value());
  EXPECT_TRUE(RefTransportChecksumValid(p, 6));
}

TEST(Coalescer, PassesOtherPacketsThroughWithZeroHeader) {
  TcpSpec syn;
  syn.flags = kSyn;
  TcpSpec pure_ack;
  const std::vector<Bytes> packets = {BuildUdp(IpFamily::kV4, Bytes(50, std::byte(1))),
                                      BuildTcp(syn), BuildTcp(pure_ack), Bytes{std::byte(0x45)},
                                      Bytes{}};
  Batch batch(packets);
  Coalescer c;
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), packets.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].first, VirtioNetHeader{}) << i;
    EXPECT_EQ(out[i].second, packets[i]) << i;
  }
}

TEST(Coalescer, KeepsInterleavedFlowsApartAndInOrder) {
  TcpSpec a, b;
  a.payload = b.payload = Bytes(3000, std::byte(2));
  b.source_port = 40001;
  std::vector<Bytes> sa = SegmentsOf(a, 1000), sb = SegmentsOf(b, 1000);
  Bytes udp = BuildUdp(IpFamily::kV4, Bytes(10, std::byte(0)));
  Batch batch({sa[0], sb[0], udp, sa[1], sb[1], sa[2], sb[2]});
  Coalescer c;
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[0].second, WithPartialChecksum(BuildTcp(a), 6, 16));
  EXPECT_EQ(out[1].second, WithPartialChecksum(BuildTcp(b), 6, 16));
  EXPECT_EQ(out[2].second, udp);
}

// Segments 0..3 of a 4-segment flow where segment 2 is altered by `mutate`;
// returns the number of packets written.
size_t OutputsWithSecondSegment(const std::function<void(TcpSpec&)>& mutate) {
  std::vector<Bytes> segs;
  for (int i = 0; i < 4; ++i) {
    TcpSpec s;
    s.seq = 1000 + i * 500;
    s.ip_id = static_cast<uint16_t>(10 + i);
    s.payload = Bytes(500, std::byte(i));
    if (i == 2) mutate(s);
    segs.push_back(BuildTcp(s));
  }
  Batch batch(segs);
  Coalescer c;
  return batch.Run(c).size();
}

TEST(Coalescer, SplitsFlowWhereGroRulesFail) {
  EXPECT_EQ(OutputsWithSecondSegment([](TcpSpec&) {}), 1u);
  const std::pair<const char*, std::function<void(TcpSpec&)>> kBreakers[] = {
      {"gap", [](TcpSpec& s) { s.seq += 1; }},
      {"ack", [](TcpSpec& s) { s.ack += 1; }},
      {"window", [](TcpSpec& s) { s.window += 1; }},
      {"fin", [](TcpSpec& s) { s.flags |= kFin; }},
      {"rst", [](TcpSpec& s) { s.flags |= kRst; }},
      {"urg", [](TcpSpec& s) { s.flags |= kUrg; }},
      {"cwr", [](TcpSpec& s) { s.flags |= kCwr; }},
      {"ttl", [](TcpSpec& s) { s.ttl = 63; }},
      {"tos", [](TcpSpec& s) { s.tos = 1; }},
      {"options", [](TcpSpec& s) { s.tcp_options = kTimestampOption; }},
      {"ip-options", [](TcpSpec& s) { s.ip_options = Bytes(4, std::byte(1)); }},
      {"longer", [](TcpSpec& s) { s.payload.push_back(std::byte(0)); }},
  };
  for (const auto& [name, mutate] : kBreakers) {
    EXPECT_GE(OutputsWithSecondSegment(mutate), 2u) << name;
  }
  // A shorter or PSH segment ends the super-packet: segment 3 starts another.
  EXPECT_EQ(OutputsWithSecondSegment([](TcpSpec& s) { s.flags |= kPsh; }), 2u);
  EXPECT_EQ(OutputsWithSecondSegment([](TcpSpec& s) { s.payload.resize(100); }), 2u);
}

TEST(Coalescer, RequiresConsecutiveIdsWithoutDontFragment) {
  EXPECT_EQ(OutputsWithSecondSegment([](TcpSpec& s) { s.ip_id = 99; }), 1u);  // DF set
  std::vector<Bytes> segs;
  for (int i = 0; i < 3; ++i) {
    TcpSpec s;
    s.df = false;
    s.seq = 1000 + i * 500;
    s.ip_id = static_cast<uint16_t>(i == 1 ? 50 : 10 + i);
    s.payload = Bytes(500, std::byte(i));
    segs.push_back(BuildTcp(s));
  }
  Batch batch(segs);
  Coalescer c;
  EXPECT_EQ(batch.Run(c).size(), 3u);
}

TEST(Coalescer, RejectsBadChecksums) {
  std::vector<Bytes> segs = SegmentsOf(
      [] {
        TcpSpec s;
        s.payload = Bytes(3000, std::byte(4));
        return s;
      }(),
      1000);
  Bytes tcp_bad = segs[1], ip_bad = segs[1];
  tcp_bad.back() ^= std::byte(1);
  ip_bad[10] ^= std::byte(1);
  for (const Bytes& bad : {tcp_bad, ip_bad}) {
    Batch batch({segs[0], bad, segs[2]});
    Coalescer c;
    auto out = batch.Run(c);
    EXPECT_EQ(out.size(), 3u);
    EXPECT_EQ(out[1].second, bad);
  }
}

std::vector<Bytes> ThreeSegments() {
  TcpSpec s;
  s.payload = Bytes(3000, std::byte(4));
  return SegmentsOf(s, 1000);
}

TEST(Coalescer, TrustedTransportChecksumsAreMergedAndCompletedByTheKernel) {
  std::vector<Bytes> segs = ThreeSegments();
  segs[1].back() ^= std::byte(1);  // a payload bit flipped before the checksum was taken
  StoreBe16(&segs[2][36], static_cast<uint16_t>(LoadBe16(&segs[2][36]) + 1));  // wrong field
  Batch batch(segs);
  Coalescer c(Coalescer::TransportChecksums::kTrust);
  EXPECT_EQ(c.transport_checksums(), Coalescer::TransportChecksums::kTrust);
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].first, TsoHeader(out[0].second, 1000));
  Bytes p = out[0].second;
  ASSERT_FALSE(CompleteChecksum(out[0].first, p).has_value());
  EXPECT_TRUE(RefTransportChecksumValid(p, 6));
  EXPECT_EQ(p.size(), 40u + 3000);
  EXPECT_EQ(p[40 + 1999], std::byte(4) ^ std::byte(1));
}

TEST(Coalescer, TrustedModeStillRejectsBadIpv4HeaderChecksums) {
  std::vector<Bytes> segs = ThreeSegments();
  segs[1][10] ^= std::byte(1);
  Batch batch(segs);
  Coalescer c(Coalescer::TransportChecksums::kTrust);
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1], std::make_pair(VirtioNetHeader{}, segs[1]));
}

TEST(Coalescer, TrustedModePassesLonePacketThroughWithZeroHeader) {
  Bytes bad = ThreeSegments()[0];
  bad.back() ^= std::byte(1);
  Batch batch({bad});
  Coalescer c(Coalescer::TransportChecksums::kTrust);
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0], std::make_pair(VirtioNetHeader{}, bad));  // the kernel still verifies it
  EXPECT_EQ(Coalescer().transport_checksums(), Coalescer::TransportChecksums::kVerify);
}

TEST(Coalescer, StopsAtStorageAndLengthLimits) {
  TcpSpec s;
  s.payload = Bytes(6000, std::byte(5));
  std::vector<Bytes> segs = SegmentsOf(s, 1000);
  // Room for two 1000-byte payloads after the 40 header bytes, not three.
  Batch small(segs, /*capacity=*/32 + 40 + 2500);
  Coalescer c;
  auto out = small.Run(c);
  ASSERT_EQ(out.size(), 3u);
  for (auto& [h, p] : out) EXPECT_EQ(p.size(), 40u + 2000);
  std::vector<Bytes> many;
  for (int i = 0; i < 70; ++i) {
    TcpSpec t = s;
    t.seq = s.seq + i * 1000;
    t.ip_id = static_cast<uint16_t>(s.ip_id + i);
    t.payload = Bytes(1000, std::byte(5));
    many.push_back(BuildTcp(t));
  }
  Batch big(many);
  out = big.Run(c);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_LE(out[0].second.size(), 65535u);
  EXPECT_EQ(out[0].second.size(), 40u + 65 * 1000);
  EXPECT_EQ(out[1].second.size(), 40u + 5 * 1000);
}

TEST(Coalescer, SkipsBuffersShorterThanTheirLength) {
  TcpSpec s;
  s.payload = Bytes(10, std::byte(1));
  Bytes udp = BuildUdp(IpFamily::kV4, Bytes(10, std::byte(0)));
  Batch batch({BuildTcp(s), udp}, 100);
  batch.buffers[0].length = batch.buffers[0].buffer.size() + 1;
  Coalescer c;
  auto out = batch.Run(c);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].second, udp);
  EXPECT_EQ(c.stats().bad_buffers, 1u);
}

TEST(Coalescer, RandomizedRoundTripPreservesSegments) {
  std::mt19937 rng(9);
  Coalescer c;
  for (int trial = 0; trial < 60; ++trial) {
    TcpSpec s;
    s.family = trial % 2 ? IpFamily::kV6 : IpFamily::kV4;
    s.seq = static_cast<uint32_t>(rng());
    s.ip_id = static_cast<uint16_t>(rng());
    s.flags = rng() % 2 ? kAck : kAck | kPsh;
    if (rng() % 2) s.tcp_options = kTimestampOption;
    const size_t max_payload = 65535 - (s.family == IpFamily::kV4 ? 20 : 40) - 32;
    s.payload = RandomBytes(rng, 1 + rng() % max_payload);
    const uint16_t gso = static_cast<uint16_t>(1 + rng() % 9000);
    if ((s.payload.size() + gso - 1) / gso > 64) continue;
    std::vector<Bytes> first = SegmentsOf(s, gso);
    Batch batch(first);
    auto out = batch.Run(c);
    std::vector<Bytes> again;
    for (auto& [h, p] : out) {
      for (Bytes& g : SegmentOrDie(h, p)) again.push_back(std::move(g));
    }
    ASSERT_EQ(again, first) << "trial " << trial << " gso " << gso;
  }
}

}  // namespace
}  // namespace plexus::io
