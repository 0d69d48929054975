#include "babel/tlv.h"

#include <gtest/gtest.h>

#include <random>

#include "testing/hex.h"

namespace plexus::babel {
namespace {

using plexus::testing::Unhex;

IpAddress Ip(std::string_view s) {
  return *IpAddress::Parse(s);
}
Prefix Pfx(std::string_view s) {
  return *Prefix::Parse(s);
}
const IpAddress kSource = *IpAddress::Parse("fe80::1");
constexpr std::string_view kRouterIdHex = "060a00000102030405060708";  // Router-Id 01..08
const RouterId kRouterId = RouterId::FromUint64(0x0102030405060708);

// A datagram with the header of §4.2 around `body_hex`.
Bytes WithHeader(std::string_view body_hex, std::string_view trailer_hex = "") {
  Bytes body = Unhex(body_hex), out = {std::byte{42}, std::byte{2}, std::byte{0}, std::byte{0}};
  StoreBe16(out.data() + 2, static_cast<uint16_t>(body.size()));
  out.insert(out.end(), body.begin(), body.end());
  Bytes trailer = Unhex(trailer_hex);
  out.insert(out.end(), trailer.begin(), trailer.end());
  return out;
}

Packet DecodeBody(std::string_view body_hex, const IpAddress& source = kSource) {
  Result<Packet> p = DecodePacket(WithHeader(body_hex), source);
  EXPECT_TRUE(p.ok()) << (p.ok() ? "" : p.error().message());
  return p.ok() ? *p : Packet{};
}

// The body octets a writer produces for `tlvs`.
std::string EncodeBody(const std::vector<Tlv>& tlvs, const IpAddress& source = kSource) {
  PacketWriter w(source);
  for (const Tlv& t : tlvs) EXPECT_TRUE(w.Append(t));
  return ToHex(ByteSpan(w.Finish()).subspan(kPacketHeaderSize));
}

std::vector<Update> Updates(const Packet& p) {
  std::vector<Update> out;
  for (const Tlv& t : p.tlvs) {
    if (auto* u = std::get_if<Update>(&t)) out.push_back(*u);
  }
  return out;
}

std::vector<Tlv> Messages(const std::vector<Tlv>& tlvs) {
  std::vector<Tlv> out;
  for (const Tlv& t : tlvs) {
    if (!IsStateOrPadding(t)) out.push_back(t);
  }
  return out;
}

// An Update TLV from its §4.6.9 fields; Length is computed.
std::string UpdateHex(int ae, int flags, int plen, int omitted, std::string_view metric,
                      std::string_view prefix, std::string_view sub = "") {
  const size_t len = 10 + (prefix.size() + sub.size()) / 2;
  return fmt::format("08{:02x}{:02x}{:02x}{:02x}{:02x}{}{}{}{}{}", len, ae, flags, plen, omitted,
                     "0190", "0007", metric, prefix, sub);
}

Update MakeUpdate(std::string_view prefix, std::string_view next_hop, uint16_t metric = 96) {
  Update u;
  u.prefix = Pfx(prefix);
  u.interval = Centiseconds(400);
  u.seqno = Seqno(7);
  u.metric = Metric(metric);
  u.router_id = kRouterId;
  u.next_hop = Ip(next_hop);
  return u;
}

// ---------------------------------------------------------------- byte-exact TLVs

struct ExactCase {
  const char* name;
  Tlv tlv;
  const char* hex;  // written out from the layouts of RFC 8966 §4.6
};

TEST(TlvTest, EncodesAndDecodesEachTlvByteExactly) {
  const ExactCase cases[] = {
      {"pad1", Pad1{}, "00"},
      {"padn", PadN{3}, "0103000000"},
      {"ackreq", AckRequest{0xabcd, Centiseconds(500)}, "02060000abcd01f4"},
      {"ack", Ack{0xabcd}, "0302abcd"},
      {"hello", Hello{0, Seqno(0x1234), Centiseconds(400), std::nullopt}, "0406000012340190"},
      {"hello-unicast-ts", Hello{0x8000, Seqno(1), Centiseconds(0), 0xdeadbeef},
       "040c8000000100000304deadbeef"},
      {"ihu-any", Ihu{Metric(96), Centiseconds(1200), std::nullopt, std::nullopt},
       "05060000006004b0"},
      {"ihu-ll", Ihu{Metric(96), Centiseconds(1200), Ip("fe80::1"), std::nullopt},
       "050e0300006004b00000000000000001"},
      {"ihu-v6-ts", Ihu{Metric(0xffff), Centiseconds(1200), Ip("2001:db8::2"), IhuTimestamp{1, 2}},
       "05200200ffff04b020010db80000000000000000000000020308"
       "0000000100000002"},
      {"ihu-v4", Ihu{Metric(96), Centiseconds(1200), Ip("192.0.2.1"), std::nullopt},
       "050a0100006004b0c0000201"},
      {"router-id", RouterIdTlv{kRouterId}, "060a00000102030405060708"},
      {"next-hop-v4", NextHop{Ip("192.0.2.1")}, "07060100c0000201"},
      {"next-hop-ll", NextHop{Ip("fe80::2")}, "070a03000000000000000002"},
      {"route-request-wildcard", RouteRequest{}, "09020000"},
      {"route-request", RouteRequest{Pfx("2001:db8:1::/48"), std::nullopt}, "0908023020010db80001"},
      {"route-request-ss", RouteRequest{Pfx("2001:db8:1::/48"), Pfx("2001:db8:9::/48")},
       "0911023020010db80001"
       "800730"
       "20010db80009"},
      {"seqno-request", SeqnoRequest{Pfx("192.0.2.0/24"), std::nullopt, Seqno(7), 64, kRouterId},
       "0a110118000740000102030405060708c00002"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(EncodeBody({c.tlv}), c.hex);
    Packet p = DecodeBody(c.hex);
    EXPECT_TRUE(p.skipped.empty());
    ASSERT_EQ(p.tlvs.size(), 1u);
    EXPECT_EQ(p.tlvs[0], c.tlv);
  }
}

TEST(TlvTest, UpdateEmitsRouterIdThenCompressesAgainstPreviousUpdate) {
  const std::string hex = EncodeBody(
      {MakeUpdate("2001:db8:1:2::/64", "fe80::1"), MakeUpdate("2001:db8:1:3::/64", "fe80::1")});
  // Router-Id; Update AE 2, flags 0x80, plen 64, omitted 0, interval 400 cs,
  // seqno 7, metric 96, 8 octets; then the same with omitted 7 and 1 octet.
  EXPECT_EQ(hex, std::string(kRouterIdHex) + "08120280400001900007006020010db800010002" +
                     "080b0280400701900007006003");
}

TEST(TlvTest, UpdateEmitsNextHopWhenItDiffersFromSource) {
  const std::string hex = EncodeBody({MakeUpdate("10.1.0.0/16", "192.0.2.1")});
  EXPECT_EQ(hex, std::string(kRouterIdHex) + "07060100c0000201" +
                     "080c01801000019000070060"
                     "0a01");
}

TEST(TlvTest, UpdateUsesFlag40WhenRouterIdIsInPrefix) {
  Update u = MakeUpdate("2001:db8::102:304:506:708/128", "fe80::1");
  EXPECT_EQ(EncodeBody({u}),
            "081a02c080000190000700602001"
            "0db8000000000102030405060708");
  Packet p = DecodeBody(EncodeBody({u}));
  ASSERT_EQ(Updates(p).size(), 1u);
  EXPECT_EQ(Updates(p)[0], u);
}

TEST(TlvTest, V4ViaV6UsesAe4AndTheIpv6NextHop) {
  Update u = MakeUpdate("10.1.0.0/16", "fe80::1");
  const std::string hex = EncodeBody({u});
  EXPECT_EQ(hex, std::string(kRouterIdHex) +
                     "080c04801000019000070060"
                     "0a01");
  ASSERT_EQ(Updates(DecodeBody(hex)).size(), 1u);
  EXPECT_EQ(Updates(DecodeBody(hex))[0], u);
}

TEST(TlvTest, SourcePrefixSubTlvOnUpdate) {
  Update u = MakeUpdate("::/0", "fe80::1");
  u.source_prefix = Pfx("2001:db8::/32");
  const std::string hex = EncodeBody({u});
  EXPECT_EQ(hex, std::string(kRouterIdHex) +
                     "0811028000000190000700608005"
                     "2020010db8");
  ASSERT_EQ(Updates(DecodeBody(hex)).size(), 1u);
  EXPECT_EQ(Updates(DecodeBody(hex))[0], u);
}

// ---------------------------------------------------------------- prefix (de)compression

struct PrefixCase {
  const char* name;
  std::string body;
  std::vector<std::string> prefixes;  // of the decoded Updates, in order
  std::vector<TlvDropReason> skipped;
};

TEST(TlvTest, PrefixDecompressionEdgeCases) {
  const std::string rid(kRouterIdHex);
  using R = TlvDropReason;
  const PrefixCase cases[] = {
      {"default-then-omitted",
       rid + UpdateHex(2, 0x80, 64, 0, "0060", "20010db800010002") +
           UpdateHex(2, 0, 64, 6, "0060", "0003"),
       {"2001:db8:1:2::/64", "2001:db8:1:3::/64"},
       {}},
      {"no-default",
       rid + UpdateHex(2, 0, 64, 2, "0060", "000100020003"),
       {},
       {R::kNoDefaultPrefix}},
      {"omitted-beyond-prefix",
       rid + UpdateHex(2, 0x80, 64, 0, "0060", "20010db800010002") +
           UpdateHex(2, 0, 16, 3, "0060", ""),
       {"2001:db8:1:2::/64"},
       {R::kOmittedTooLarge}},
      {"default-is-per-ae",
       rid + UpdateHex(2, 0x80, 64, 0, "0060", "20010db800010002") +
           UpdateHex(1, 0, 24, 1, "0060", "0002"),
       {"2001:db8:1:2::/64"},
       {R::kNoDefaultPrefix}},
      {"v4-compression",
       "07060100c0000201" + rid + UpdateHex(1, 0x80, 24, 0, "0060", "c00002") +
           UpdateHex(1, 0, 32, 3, "0060", "09"),
       {"192.0.2.0/24", "192.0.2.9/32"},
       {}},
      {"ae0-omitted", UpdateHex(0, 0, 0, 1, "ffff", ""), {}, {R::kBadWildcard}},
      {"ae0-plen", UpdateHex(0, 0, 8, 0, "ffff", ""), {}, {R::kBadWildcard}},
      {"ae0-not-retraction", rid + UpdateHex(0, 0, 0, 0, "0060", ""), {}, {R::kBadWildcard}},
      {"ae0-wildcard-retraction", UpdateHex(0, 0, 0, 0, "ffff", ""), {"0.0.0.0/0"}, {}},
      {"flag40-v6-128",
       UpdateHex(2, 0x40, 128, 0, "0060", "20010db8000000000102030405060708"),
       {"2001:db8::102:304:506:708/128"},
       {}},
      {"flag40-short-prefix",
       UpdateHex(2, 0x40, 48, 0, "0060", "20010db80001"),
       {},
       {R::kInvalidRouterId}},
      {"flag40-v4",
       "07060100c0000201" + UpdateHex(1, 0x40, 32, 0, "0060", "0a000001"),
       {"10.0.0.1/32"},
       {}},
      {"ae3-link-local",
       rid + UpdateHex(3, 0, 128, 0, "0060", "0000000000000005"),
       {"fe80::5/128"},
       {}},
      {"ae3-omitted",
       rid + UpdateHex(3, 0, 128, 1, "0060", "00000000000005"),
       {},
       {R::kCompressionNotAllowed}},
      {"ae3-short", rid + UpdateHex(3, 0, 48, 0, "0060", ""), {}, {R::kPrefixTooShort}},
      {"v4-plen-33", rid + UpdateHex(1, 0, 33, 0, "0060", "0a0000010000"), {}, {R::kPrefixTooLong}},
      {"ae5", rid + UpdateHex(5, 0, 0, 0, "0060", ""), {}, {R::kBadAddressEncoding}},
      {"prefix-octets-missing",
       rid + UpdateHex(2, 0, 64, 0, "0060", "20010db8"),
       {},
       {R::kTooShort}},
      {"host-bits-cleared",
       rid + UpdateHex(2, 0, 60, 0, "0060", "20010db8000100ff"),
       {"2001:db8:1:f0::/60"},
       {}},
      {"no-router-id", UpdateHex(2, 0, 64, 0, "0060", "20010db800010002"), {}, {R::kNoRouterId}},
      {"retraction-needs-no-router-id",
       UpdateHex(2, 0, 64, 0, "ffff", "20010db800010002"),
       {"2001:db8:1:2::/64"},
       {}},
      {"v4-without-v4-next-hop",
       rid + UpdateHex(1, 0, 24, 0, "0060", "c00002"),
       {},
       {R::kNoNextHop}},
      {"v4-via-v6", rid + UpdateHex(4, 0, 24, 0, "0060", "c00002"), {"192.0.2.0/24"}, {}},
      {"zero-interval",
       rid + "0812028040000000000700602001"
             "0db800010002",
       {},
       {R::kZeroInterval}},
      {"mandatory-subtlv-keeps-state",
       rid + UpdateHex(2, 0x80, 64, 0, "0060", "20010db800010002", "8500") +
           UpdateHex(2, 0, 64, 7, "0060", "09"),
       {"2001:db8:1:9::/64"},
       {R::kUnknownMandatorySubTlv}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Packet p = DecodeBody(c.body);
    std::vector<std::string> got;
    for (const Update& u : Updates(p)) got.push_back(u.prefix.ToString());
    EXPECT_EQ(got, c.prefixes);
    std::vector<TlvDropReason> reasons;
    for (const SkippedTlv& s : p.skipped) reasons.push_back(s.reason);
    EXPECT_EQ(reasons, c.skipped);
  }
}

TEST(TlvTest, DecodedUpdateCarriesStateFromThePacket) {
  Packet p = DecodeBody(std::string(kRouterIdHex) + "070a03000000000000000002" +
                        UpdateHex(2, 0, 64, 0, "0060", "20010db800010002") +
                        UpdateHex(1, 0, 24, 0, "0060", "c00002"));
  ASSERT_EQ(Updates(p).size(), 1u);
  EXPECT_EQ(Updates(p)[0].next_hop, Ip("fe80::2"));
  EXPECT_EQ(Updates(p)[0].router_id, kRouterId);
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].reason, TlvDropReason::kNoNextHop);
  // From an IPv4 source, AE 1 starts with the source as next hop.
  Packet v4 = DecodeBody(std::string(kRouterIdHex) + UpdateHex(1, 0, 24, 0, "0060", "c00002"),
                         Ip("192.0.2.7"));
  ASSERT_EQ(Updates(v4).size(), 1u);
  EXPECT_EQ(Updates(v4)[0].next_hop, Ip("192.0.2.7"));
}

// ---------------------------------------------------------------- unknown and malformed

struct SkipCase {
  const char* name;
  std::string body;
  size_t decoded;  // TLVs decoded
  std::vector<TlvDropReason> skipped;
};

TEST(TlvTest, UnknownAndMalformedTlvsAreSkippedWithAReason) {
  using R = TlvDropReason;
  const SkipCase cases[] = {
      {"unknown-type",
       "2a03aabbcc"
       "0302abcd",
       1,
       {R::kUnknownType}},
      {"unknown-subtlv-ignored",
       "040a000012340190"
       "0500"
       "00"
       "00",
       1,
       {}},
      {"padn-subtlv",
       "040b000012340190"
       "0103000000",
       1,
       {}},
      {"mandatory-subtlv",
       "0408000012340190"
       "8500",
       0,
       {R::kUnknownMandatorySubTlv}},
      {"source-prefix-in-hello",
       "040b000012340190"
       "8003102001",
       0,
       {R::kUnknownMandatorySubTlv}},
      {"subtlv-overflow",
       "0409000012340190"
       "0505ff",
       0,
       {R::kBadSubTlv}},
      {"truncated-ends-packet",
       "0302abcd"
       "0406000012",
       1,
       {R::kTruncated}},
      {"lone-type-octet",
       "0302abcd"
       "04",
       1,
       {R::kTruncated}},
      {"hello-too-short",
       "040400001234"
       "0302abcd",
       1,
       {R::kTooShort}},
      {"ackreq-zero-interval",
       "020600000001"
       "0000",
       0,
       {R::kZeroInterval}},
      {"ihu-ae4",
       "050a04000060"
       "04b0c0000201",
       0,
       {R::kBadAddressEncoding}},
      {"ihu-zero-interval",
       "050600000060"
       "0000",
       0,
       {R::kZeroInterval}},
      {"next-hop-ae0", "07020000", 0, {R::kBadAddressEncoding}},
      {"router-id-zero", "060a00000000000000000000", 0, {R::kInvalidRouterId}},
      {"router-id-ones", "060a0000ffffffffffffffff", 0, {R::kInvalidRouterId}},
      {"seqno-request-hop-count-0",
       "0a1101180007000001020304050607"
       "08c00002",
       0,
       {R::kZeroHopCount}},
      {"seqno-request-ae0", "0a0e0000000740000102030405060708", 0, {R::kBadAddressEncoding}},
      {"route-request-ae0-plen", "09020008", 0, {R::kBadWildcard}},
      {"source-prefix-zero",
       "090b023020010db80001"
       "800100",
       0,
       {R::kBadSourcePrefix}},
      {"source-prefix-short",
       "090c023020010db80001"
       "80022020",
       0,
       {R::kBadSourcePrefix}},
      {"source-prefix-twice",
       "0912023020010db80001"
       "8003102001"
       "8003102001",
       0,
       {R::kBadSourcePrefix}},
      {"source-prefix-v4-too-long",
       "090c01180a0000"
       "80052100000000",
       0,
       {R::kBadSourcePrefix}},
      {"timestamp-wrong-length",
       "040b000012340190"
       "0303aabbcc",
       1,
       {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Packet p = DecodeBody(c.body);
    EXPECT_EQ(p.tlvs.size(), c.decoded);
    std::vector<TlvDropReason> reasons;
    for (const SkippedTlv& s : p.skipped) reasons.push_back(s.reason);
    EXPECT_EQ(reasons, c.skipped);
  }
}

TEST(TlvTest, SkippedTlvRecordsTypeAndOffset) {
  Packet p = DecodeBody(
      "0302abcd"
      "2a00");
  ASSERT_EQ(p.skipped.size(), 1u);
  EXPECT_EQ(p.skipped[0].type, 42);
  EXPECT_EQ(p.skipped[0].offset, 4u);
  EXPECT_EQ(ToString(p.skipped[0].reason), "unknown-type");
}

TEST(TlvTest, RejectsBadHeaders) {
  EXPECT_FALSE(DecodePacket(Unhex("2a02"), kSource).ok());
  EXPECT_FALSE(DecodePacket(Unhex("2b020000"), kSource).ok());
  EXPECT_FALSE(DecodePacket(Unhex("2a010000"), kSource).ok());
  EXPECT_FALSE(DecodePacket(Unhex("2a0200050302abcd"), kSource).ok());
  EXPECT_TRUE(DecodePacket(Unhex("2a020000"), kSource).ok());
}

TEST(TlvTest, TrailerIsKeptOpaque) {
  Result<Packet> p = DecodePacket(WithHeader("0302abcd", "0203aabbcc"), kSource);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(ToHex(p->trailer), "0203aabbcc");
  EXPECT_EQ(p->tlvs.size(), 1u);
  PacketWriter w(kSource);
  ASSERT_TRUE(w.Append(Ack{0xabcd}));
  EXPECT_EQ(ToHex(w.Finish(p->trailer)), "2a0200040302abcd0203aabbcc");
}

TEST(TlvTest, WriterRespectsMaximumSize) {
  PacketWriter w(kSource, 4 + 8);
  EXPECT_TRUE(w.Append(Ack{1}));
  EXPECT_TRUE(w.Append(Ack{2}));
  EXPECT_FALSE(w.Append(Ack{3}));
  EXPECT_EQ(w.size(), 12u);
  // An Update that needs a Router-Id does not fit half-written.
  PacketWriter small(kSource, 4 + 20);
  EXPECT_FALSE(small.Append(MakeUpdate("2001:db8:1:2::/64", "fe80::1")));
  EXPECT_TRUE(small.empty());
}

// ---------------------------------------------------------------- round trip

class RandomTlvs {
 public:
  explicit RandomTlvs(uint32_t seed) : rng_(seed) {}

  Tlv Next() {
    switch (Uniform(0, 7)) {
      case 0:
        return AckRequest{U16(), Centiseconds(Uniform(1, 0xffff))};
      case 1:
        return Ack{U16()};
      case 2:
        return Hello{static_cast<uint16_t>(Uniform(0, 1) << 15), Seqno(U16()), Centiseconds(U16()),
                     MaybeU32()};
      case 3:
        return RandomIhu();
      case 4:
        return RouteRequest{
            Uniform(0, 3) ? std::optional(RandomPrefix(Uniform(0, 1))) : std::nullopt,
            std::nullopt};
      case 5:
        return SeqnoRequest{RandomPrefix(false), std::nullopt, Seqno(U16()),
                            static_cast<uint8_t>(Uniform(1, 255)), RandomRouterId()};
      default:
        return RandomUpdate();
    }
  }

 private:
  int Uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  uint16_t U16() { return static_cast<uint16_t>(Uniform(0, 0xffff)); }
  std::optional<uint32_t> MaybeU32() {
    if (Uniform(0, 1)) return std::nullopt;
    return static_cast<uint32_t>(rng_());
  }
  RouterId RandomRouterId() {
    return RouterId::FromUint64(Uniform(0, 1) ? uint64_t{rng_()} + 1 : 0x0102030405060708);
  }
  IpAddress RandomAddress(bool v4) {
    if (v4) return IpAddress::V4({192, 0, 2, static_cast<uint8_t>(Uniform(1, 3))});
    const char* choices[] = {"fe80::1", "fe80::2", "2001:db8::7", "fe80:1::9"};
    return Ip(choices[Uniform(0, 3)]);
  }
  // Prefixes that share leading octets often, to exercise compression.
  Prefix RandomPrefix(bool v4) {
    std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
    for (int i = 4; i < 16; ++i) b[i] = static_cast<uint8_t>(Uniform(0, 3) ? 0 : Uniform(0, 255));
    if (v4) return Prefix(IpAddress::V4({10, b[4], b[5], b[6]}), Uniform(0, 32)).Network();
    return Prefix(IpAddress::V6(b), Uniform(0, 128)).Network();
  }
  Ihu RandomIhu() {
    Ihu ihu{Metric(U16()), Centiseconds(Uniform(1, 0xffff)), std::nullopt, std::nullopt};
    if (Uniform(0, 2)) ihu.address = RandomAddress(Uniform(0, 1));
    if (Uniform(0, 1))
      ihu.timestamp = IhuTimestamp{static_cast<uint32_t>(rng_()), static_cast<uint32_t>(rng_())};
    return ihu;
  }
  Update RandomUpdate() {
    Update u;
    u.interval = Centiseconds(Uniform(1, 0xffff));
    u.seqno = Seqno(U16());
    u.metric = Metric(Uniform(0, 4) ? U16() : kMetricInfinity);
    u.router_id = RandomRouterId();
    if (Uniform(0, 15) == 0) {
      u.wildcard = true;
      u.metric = Metric::Infinity();
      return u;
    }
    const bool v4 = Uniform(0, 2) == 0;
    u.prefix = RandomPrefix(v4);
    if (Uniform(0, 7) == 0) u.router_id = RouterIdFromPrefixForTest(u.prefix);
    if (!u.IsRetraction()) u.next_hop = RandomAddress(v4 && Uniform(0, 1));
    if (Uniform(0, 3) == 0) {
      Prefix s = RandomPrefix(v4);
      if (s.length() > 0) u.source_prefix = s;
    }
    return u;
  }
  static RouterId RouterIdFromPrefixForTest(const Prefix& p) {
    ByteArray<8> id{};
    ByteSpan a = p.address().bytes();
    if (p.family() == IpFamily::kV4) {
      std::copy_n(a.begin(), 4, id.begin() + 4);
    } else {
      std::copy_n(a.begin() + 8, 8, id.begin());
    }
    const RouterId r(id);
    return r.IsValid() ? r : RouterId::FromUint64(5);
  }

  std::mt19937 rng_;
};

TEST(TlvTest, RandomPacketsRoundTrip) {
  RandomTlvs random(8966);
  for (int packet = 0; packet < 300; ++packet) {
    SCOPED_TRACE(packet);
    const IpAddress source = packet % 5 == 0 ? Ip("192.0.2.200") : kSource;
    PacketWriter w(source, 400);
    std::vector<Tlv> sent;
    for (int i = 0; i < 40; ++i) {
      Tlv t = random.Next();
      if (w.Append(t)) sent.push_back(t);
    }
    ASSERT_LE(w.size(), 400u);
    Result<Packet> p = DecodePacket(w.Finish(), source);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->skipped.empty()) << ToString(p->skipped[0].reason);
    EXPECT_EQ(Messages(p->tlvs), sent);
  }
}

}  // namespace
}  // namespace plexus::babel
