#include "node/link_local_udp.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"

namespace plexus::node {
namespace {

crypto::PublicKey Key(uint64_t seed) {
  testing::FakeRandom random(seed);
  return crypto::PrivateKey::Generate(random).Public();
}

IpAddress Ip(std::string_view text) {
  return *IpAddress::Parse(text);
}

TEST(LinkLocalAddressTest, IsLinkLocalStableAndDistinct) {
  const IpAddress a = LinkLocalAddress(Key(1));
  EXPECT_TRUE(a.IsLinkLocalV6());
  EXPECT_EQ(a.ToString().substr(0, 6), "fe80::");
  EXPECT_EQ(a, LinkLocalAddress(Key(1)));
  EXPECT_NE(a, LinkLocalAddress(Key(2)));
}

TEST(LinkLocalUdpTest, RoundTrips) {
  const Bytes payload = {std::byte{42}, std::byte{2}, std::byte{0}, std::byte{0}};
  const Bytes packet = BuildLinkLocalUdp(Ip("fe80::1"), Ip("ff02::1:6"), 6696, payload);
  ASSERT_EQ(packet.size(), 40u + 8u + payload.size());
  auto parsed = ParseLinkLocalUdp(packet);
  ASSERT_TRUE(parsed) << parsed.error().message();
  EXPECT_EQ(parsed->source, Ip("fe80::1"));
  EXPECT_EQ(parsed->destination, Ip("ff02::1:6"));
  EXPECT_EQ(parsed->source_port, 6696);
  EXPECT_EQ(parsed->destination_port, 6696);
  EXPECT_EQ(Bytes(parsed->payload.begin(), parsed->payload.end()), payload);
}

// A packet as the kernel would build it (babeld on a WireGuard interface),
// checksum computed independently: fe80::b -> ff02::1:6, UDP 6696, payload "*\2\0\0".
TEST(LinkLocalUdpTest, AcceptsAnIndependentlyBuiltPacket) {
  Bytes packet = BuildLinkLocalUdp(Ip("fe80::b"), Ip("ff02::1:6"), 6696,
                                   Bytes{std::byte{42}, std::byte{2}, std::byte{0}, std::byte{0}});
  // The checksum by hand: pseudo-header + UDP header + payload, RFC 1071.
  uint32_t sum = 0xfe80 + 0x000b + 0xff02 + 0x0001 + 0x0006 + 12 + 17;  // addresses, length, proto
  sum += 6696 + 6696 + 12 + 0x2a02 + 0x0000;                            // ports, length, payload
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
  const auto expected = static_cast<uint16_t>(~sum);
  EXPECT_EQ(LoadBe16(packet.data() + 46), expected);
}

struct BadPacket {
  const char* name;
  size_t offset;  // byte to change
  uint8_t value;
  const char* error;
};

class LinkLocalUdpBadTest : public ::testing::TestWithParam<BadPacket> {};

TEST_P(LinkLocalUdpBadTest, IsRefusedWithTheReason) {
  Bytes packet = BuildLinkLocalUdp(Ip("fe80::1"), Ip("fe80::2"), 6696, Bytes(10, std::byte{7}));
  packet[GetParam().offset] = std::byte{GetParam().value};
  auto parsed = ParseLinkLocalUdp(packet);
  ASSERT_FALSE(parsed);
  EXPECT_NE(parsed.error().message().find(GetParam().error), std::string::npos)
      << parsed.error().message();
}

INSTANTIATE_TEST_SUITE_P(All, LinkLocalUdpBadTest,
                         ::testing::Values(BadPacket{"Version", 0, 0x40, "not IPv6"},
                                           BadPacket{"Protocol", 6, 6, "not UDP"},
                                           BadPacket{"PayloadLength", 5, 200, "truncated"},
                                           BadPacket{"GlobalSource", 8, 0x20, "source"},
                                           BadPacket{"GlobalDestination", 24, 0x20, "destination"},
                                           BadPacket{"UdpLength", 45, 3, "bad UDP length"},
                                           BadPacket{"Payload", 50, 8, "bad UDP checksum"}),
                         [](const auto& info) { return info.param.name; });

TEST(LinkLocalUdpTest, RefusesShortPackets) {
  for (size_t n = 0; n < 48; ++n) EXPECT_FALSE(ParseLinkLocalUdp(Bytes(n, std::byte{0x60})));
}

TEST(LinkLocalUdpTest, RefusesAZeroChecksum) {
  Bytes packet = BuildLinkLocalUdp(Ip("fe80::1"), Ip("fe80::2"), 6696, Bytes(3, std::byte{1}));
  packet[46] = packet[47] = std::byte{0};
  EXPECT_FALSE(ParseLinkLocalUdp(packet));  // RFC 8200 §8.1: mandatory over IPv6
}

}  // namespace
}  // namespace plexus::node
