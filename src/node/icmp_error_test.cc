#include "node/icmp_error.h"

#include <gtest/gtest.h>

#include "io/checksum.h"
#include "node/ip_packet.h"
#include "node/node_test_util.h"

namespace plexus::node::test {
namespace {

using std::chrono::milliseconds;

Bytes Build(ByteSpan offending, IcmpError kind, std::string_view source, uint32_t mtu = 0) {
  Bytes out(kMaxIcmpv6Error);
  const size_t n = BuildIcmpError(out, offending, kind, Addr(source), mtu);
  out.resize(n);
  return out;
}

struct ErrorCase {
  const char* name;
  bool v6;
  IcmpError kind;
  uint8_t type, code;
  uint32_t parameter;
};

class IcmpErrorTypeTest : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(IcmpErrorTypeTest, BuildsAValidErrorQuotingTheWholeSmallPacket) {
  const ErrorCase& c = GetParam();
  const Bytes offending = c.v6 ? NumberedPacket("fd00::1", "fd00::9", 1, 300)
                               : NumberedPacket("10.0.0.1", "10.0.0.9", 1, 300);
  const Bytes error = Build(offending, c.kind, c.v6 ? "fd00::2" : "10.0.0.2", 1420);
  ASSERT_FALSE(error.empty());
  IcmpMessage p = ParseIcmp(error);
  EXPECT_EQ(p.source, Addr(c.v6 ? "fd00::2" : "10.0.0.2"));
  EXPECT_EQ(p.destination, Addr(c.v6 ? "fd00::1" : "10.0.0.1"));
  EXPECT_EQ(p.hop_limit, 64);
  EXPECT_EQ(p.type, c.type);
  EXPECT_EQ(p.code, c.code);
  EXPECT_EQ(p.parameter, c.parameter);
  EXPECT_EQ(p.quote, offending);
  EXPECT_TRUE(p.checksums_ok);
}

INSTANTIATE_TEST_SUITE_P(
    IcmpError, IcmpErrorTypeTest,
    ::testing::Values(ErrorCase{"V6NoRoute", true, IcmpError::kNoRoute, 1, 0, 0},
                      ErrorCase{"V6Unreachable", true, IcmpError::kUnreachable, 1, 0, 0},
                      ErrorCase{"V6TimeExceeded", true, IcmpError::kTimeExceeded, 3, 0, 0},
                      ErrorCase{"V6PacketTooBig", true, IcmpError::kPacketTooBig, 2, 0, 1420},
                      ErrorCase{"V4NetUnreachable", false, IcmpError::kNoRoute, 3, 0, 0},
                      ErrorCase{"V4HostUnreachable", false, IcmpError::kUnreachable, 3, 1, 0},
                      ErrorCase{"V4TimeExceeded", false, IcmpError::kTimeExceeded, 11, 0, 0},
                      ErrorCase{"V4FragmentationNeeded", false, IcmpError::kPacketTooBig, 3, 4,
                                1420}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(IcmpError, QuotesAsMuchAsFitsInTheMinimumMtu) {
  const Bytes big6 = NumberedPacket("fd00::1", "fd00::9", 1, 1900);
  const Bytes e6 = Build(big6, IcmpError::kPacketTooBig, "fd00::2", 1280);
  ASSERT_EQ(e6.size(), kMaxIcmpv6Error);
  IcmpMessage p6 = ParseIcmp(e6);
  EXPECT_EQ(p6.quote, Bytes(big6.begin(), big6.begin() + 1280 - 48));
  EXPECT_TRUE(p6.checksums_ok);

  const Bytes big4 = NumberedPacket("10.0.0.1", "10.0.0.9", 2, 1000);
  const Bytes e4 = Build(big4, IcmpError::kTimeExceeded, "10.0.0.2");
  ASSERT_EQ(e4.size(), kMaxIcmpv4Error);
  IcmpMessage p4 = ParseIcmp(e4);
  EXPECT_EQ(p4.quote, Bytes(big4.begin(), big4.begin() + 576 - 28));
  EXPECT_TRUE(p4.checksums_ok);
}

TEST(IcmpError, QuotesNoPaddingBeyondTheIpLength) {
  Bytes padded = NumberedPacket("fd00::1", "fd00::9", 1, 33);
  const Bytes original = padded;
  padded.resize(padded.size() + 13);  // Open leaves the padding behind the packet
  IcmpMessage p = ParseIcmp(Build(padded, IcmpError::kNoRoute, "fd00::2"));
  EXPECT_EQ(p.quote, original);
}

struct RefusalCase {
  const char* name;
  Bytes offending;
  IcmpError kind;
};

// RFC 4443 §2.4(e) and RFC 1812 §4.3.2.7: never an error about these.
std::vector<RefusalCase> Refusals() {
  Bytes fragment = NumberedPacket("10.0.0.1", "10.0.0.9", 1);
  StoreBe16(&fragment[6], 0x2000 | 10);  // MF, offset 80
  fragment[10] = fragment[11] = std::byte{0};
  Bytes hop_by_hop_error = IcmpPacket("fd00::1", "fd00::9", 1);
  hop_by_hop_error[6] = std::byte{0};  // Hop-by-hop options, then ICMPv6 type 1
  Bytes options(8);
  options[0] = std::byte{kProtocolIcmpv6};
  hop_by_hop_error.insert(hop_by_hop_error.begin() + 40, options.begin(), options.end());
  StoreBe16(&hop_by_hop_error[4], static_cast<uint16_t>(hop_by_hop_error.size() - 40));
  return {
      {"Icmpv6DestinationUnreachable", IcmpPacket("fd00::1", "fd00::9", 1), IcmpError::kNoRoute},
      {"Icmpv6TimeExceeded", IcmpPacket("fd00::1", "fd00::9", 3), IcmpError::kTimeExceeded},
      {"Icmpv6ErrorBehindHopByHop", hop_by_hop_error, IcmpError::kNoRoute},
      {"IcmpDestinationUnreachable", IcmpPacket("10.0.0.1", "10.0.0.9", 3), IcmpError::kNoRoute},
      {"IcmpTimeExceeded", IcmpPacket("10.0.0.1", "10.0.0.9", 11), IcmpError::kTimeExceeded},
      {"V6ToMulticast", NumberedPacket("fd00::1", "ff0e::1", 1), IcmpError::kNoRoute},
      {"V6FromUnspecified", NumberedPacket("::", "fd00::9", 1), IcmpError::kNoRoute},
      {"V6FromMulticast", NumberedPacket("ff02::1", "fd00::9", 1), IcmpError::kNoRoute},
      {"V4ToMulticast", NumberedPacket("10.0.0.1", "239.1.1.1", 1), IcmpError::kNoRoute},
      {"V4ToBroadcast", NumberedPacket("10.0.0.1", "255.255.255.255", 1), IcmpError::kNoRoute},
      {"V4FromZero", NumberedPacket("0.0.0.0", "10.0.0.9", 1), IcmpError::kNoRoute},
      {"V4NonFirstFragment", fragment, IcmpError::kTimeExceeded},
      {"NotIp", Pattern(60, 0), IcmpError::kNoRoute},
  };
}

TEST(IcmpError, RefusesToAnswerWhatTheRfcsForbid) {
  for (const RefusalCase& c : Refusals()) {
    const bool v6 = (std::to_integer<int>(c.offending[0]) >> 4) == 6;
    EXPECT_TRUE(Build(c.offending, c.kind, v6 ? "fd00::2" : "10.0.0.2").empty()) << c.name;
  }
}

TEST(IcmpError, AnswersInformationalIcmpAndPacketTooBigToMulticast) {
  EXPECT_FALSE(Build(IcmpPacket("fd00::1", "fd00::9", 128), IcmpError::kNoRoute, "fd00::2").empty())
      << "echo request";
  EXPECT_FALSE(
      Build(IcmpPacket("10.0.0.1", "10.0.0.9", 8), IcmpError::kNoRoute, "10.0.0.2").empty());
  EXPECT_FALSE(
      Build(NumberedPacket("fd00::1", "ff0e::1", 1), IcmpError::kPacketTooBig, "fd00::2", 1280)
          .empty())
      << "RFC 4443 §2.4(e.3)";
}

TEST(IcmpError, RefusesASourceOfTheOtherFamilyOrAShortBuffer) {
  const Bytes v6 = NumberedPacket("fd00::1", "fd00::9", 1);
  EXPECT_TRUE(Build(v6, IcmpError::kNoRoute, "10.0.0.2").empty());
  Bytes small(kMaxIcmpv6Error - 1);
  EXPECT_EQ(BuildIcmpError(small, v6, IcmpError::kNoRoute, Addr("fd00::2")), 0u);
  Bytes enough4(kMaxIcmpv4Error);
  EXPECT_GT(BuildIcmpError(enough4, NumberedPacket("10.0.0.1", "10.0.0.9", 1), IcmpError::kNoRoute,
                           Addr("10.0.0.2")),
            0u);
}

// ---------------------------------------------------------------------------
// Budget.

TEST(RateLimiter, AllowsABurstThenTheRate) {
  RateLimiter limiter({.per_second = 100, .burst = 20});
  Timestamp t = Timestamp::FromNanos(1'000'000'000);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.Take(t)) << i;
  EXPECT_FALSE(limiter.Take(t));
  t = t + milliseconds(9);
  EXPECT_FALSE(limiter.Take(t));
  t = t + milliseconds(1);
  EXPECT_TRUE(limiter.Take(t));
  EXPECT_FALSE(limiter.Take(t));
  t = t + std::chrono::seconds(10);
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(limiter.Take(t)) << i;
  EXPECT_FALSE(limiter.Take(t)) << "never more than the burst";
}

TEST(IcmpErrors, UsesTheSnapshotAddressOfTheFamilyAndCountsWhatTheBudgetRefuses) {
  DropCounters drops;
  IcmpErrors errors(drops);
  Snapshot s;
  const Timestamp now = Timestamp::FromNanos(5);
  const Bytes v4 = NumberedPacket("10.0.0.1", "10.0.0.9", 1);
  const Bytes v6 = NumberedPacket("fd00::1", "fd00::9", 1);
  EXPECT_TRUE(errors.Build(s, v4, IcmpError::kNoRoute, 0, now).empty()) << "no IPv4 address";
  s.icmp_source_v4 = Addr("10.0.0.2");
  s.icmp_source_v6 = Addr("fd00::2");
  EXPECT_EQ(ParseIcmp(errors.Build(s, v6, IcmpError::kNoRoute, 0, now)).source, Addr("fd00::2"));
  for (int i = 1; i < 20; ++i)
    EXPECT_FALSE(errors.Build(s, v4, IcmpError::kNoRoute, 0, now).empty());
  EXPECT_TRUE(errors.Build(s, v4, IcmpError::kNoRoute, 0, now).empty());
  EXPECT_EQ(drops.Get(NodeDrop::kIcmpRateLimited), 1u);
}

}  // namespace
}  // namespace plexus::node::test
