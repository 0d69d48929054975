#include "base/ip.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>

namespace plexus {
namespace {

using ::testing::HasSubstr;

TEST(IpAddress, ParsesAndPrintsCanonicalForm) {
  // RFC 5952 §4: lowercase, longest zero run compressed, no leading zeros.
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"192.0.2.1", "192.0.2.1"},
      {"0.0.0.0", "0.0.0.0"},
      {"255.255.255.255", "255.255.255.255"},
      {"2001:DB8::1", "2001:db8::1"},
      {"2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"},
      {"2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"},
      {"2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"},
      {"::", "::"},
      {"::1", "::1"},
      {"fd00::", "fd00::"},
      {"::ffff:192.0.2.1", "::ffff:192.0.2.1"},
  };
  for (auto [in, want] : kCases) {
    auto a = IpAddress::Parse(in);
    ASSERT_TRUE(a.ok()) << in << ": " << a.error().message();
    EXPECT_EQ(a->ToString(), want) << in;
  }
}

TEST(IpAddress, ReportsFamilyAndBytes) {
  auto v4 = IpAddress::Parse("10.1.2.3");
  ASSERT_TRUE(v4.ok());
  EXPECT_TRUE(v4->is_v4());
  EXPECT_EQ(v4->bit_length(), 32);
  EXPECT_EQ(ToHex(v4->bytes()), "0a010203");
  auto v6 = IpAddress::Parse("fd00::2");
  ASSERT_TRUE(v6.ok());
  EXPECT_TRUE(v6->is_v6());
  EXPECT_EQ(v6->bit_length(), 128);
  EXPECT_EQ(ToHex(v6->bytes()), "fd000000000000000000000000000002");
}

TEST(IpAddress, ConstructorsMatchParse) {
  EXPECT_EQ(IpAddress::V4({192, 0, 2, 1}), *IpAddress::Parse("192.0.2.1"));
  std::array<uint8_t, 16> b{0x20, 0x01, 0x0d, 0xb8};
  b[15] = 1;
  EXPECT_EQ(IpAddress::V6(b), *IpAddress::Parse("2001:db8::1"));
  EXPECT_EQ(IpAddress::FromV6Bytes(IpAddress::V6(b).bytes()), IpAddress::V6(b));
  EXPECT_EQ(IpAddress::FromV4Bytes(IpAddress::V4({1, 2, 3, 4}).bytes()),
            IpAddress::V4({1, 2, 3, 4}));
}

TEST(IpAddress, V4AndV6AreDistinctAndOrdered) {
  IpAddress v4 = IpAddress::V4({0, 0, 0, 0});
  IpAddress v6 = *IpAddress::Parse("::");
  EXPECT_NE(v4, v6);
  EXPECT_LT(IpAddress::V4({10, 0, 0, 1}), IpAddress::V4({10, 0, 0, 2}));
}

// The order is the family, then the bytes lexicographically, as memcmp says
// (a naive reference model for the hand-written comparison).
TEST(IpAddress, OrderMatchesByteComparison) {
  const char* texts[] = {"::",           "::1",      "::100",    "fd00::",        "fd00::1",
                         "fd00:0:0:1::", "fe80::1",  "fe80::2",  "ff00::",        "fd00:0:1::",
                         "0.0.0.0",      "10.0.0.1", "10.0.0.2", "9.255.255.255", "255.0.0.0"};
  for (const char* a_text : texts) {
    for (const char* b_text : texts) {
      const IpAddress a = *IpAddress::Parse(a_text);
      const IpAddress b = *IpAddress::Parse(b_text);
      int expected = 0;
      if (a.family() != b.family()) {
        expected = a.is_v4() ? -1 : 1;
      } else {
        expected = std::memcmp(a.bytes().data(), b.bytes().data(), a.bytes().size());
      }
      const auto order = a <=> b;
      EXPECT_EQ(std::is_lt(order), expected < 0) << a_text << " " << b_text;
      EXPECT_EQ(std::is_eq(order), expected == 0) << a_text << " " << b_text;
      EXPECT_EQ(a == b, expected == 0) << a_text << " " << b_text;
    }
  }
}

TEST(IpAddress, RejectsMalformedInput) {
  const std::string_view kBad[] = {
      "",
      "1.2.3",
      "1.2.3.4.5",
      "256.0.0.1",
      "1.2.3.4 ",
      " 1.2.3.4",
      "01.2.3.4x",
      "fd00:::1",
      "fd00::1::2",
      "gggg::1",
      "1:2:3:4:5:6:7:8:9",
      "fe80::1%eth0",
      "example.com",
      "[fd00::1]",
      "1.2.3.4:80",
      "::1/128",
  };
  for (auto in : kBad) EXPECT_FALSE(IpAddress::Parse(in).ok()) << in;
  EXPECT_THAT(IpAddress::Parse("fe80::1%eth0").error().message(), HasSubstr("zone"));
}

TEST(IpAddress, DetectsLinkLocalV6) {
  EXPECT_TRUE(IpAddress::Parse("fe80::1")->IsLinkLocalV6());
  EXPECT_TRUE(IpAddress::Parse("febf:ffff::1")->IsLinkLocalV6());
  EXPECT_FALSE(IpAddress::Parse("fec0::1")->IsLinkLocalV6());
  EXPECT_FALSE(IpAddress::Parse("fd00::1")->IsLinkLocalV6());
  EXPECT_FALSE(IpAddress::Parse("169.254.1.1")->IsLinkLocalV6());
}

TEST(Prefix, ParsesWithAndWithoutLength) {
  struct Case {
    std::string_view in;
    std::string_view address;
    int length;
  };
  const Case kCases[] = {
      {"fd00::/64", "fd00::", 64},       {"10.0.0.1/24", "10.0.0.1", 24},
      {"10.0.0.1", "10.0.0.1", 32},      {"fd00::1", "fd00::1", 128},
      {"0.0.0.0/0", "0.0.0.0", 0},       {"::/0", "::", 0},
      {"192.0.2.7/32", "192.0.2.7", 32}, {"fd00::1/128", "fd00::1", 128},
  };
  for (const Case& c : kCases) {
    auto p = Prefix::Parse(c.in);
    ASSERT_TRUE(p.ok()) << c.in << ": " << p.error().message();
    EXPECT_EQ(p->address().ToString(), c.address) << c.in;
    EXPECT_EQ(p->length(), c.length) << c.in;
  }
  EXPECT_EQ(Prefix::Parse("10.0.0.1/24")->ToString(), "10.0.0.1/24");
}

TEST(Prefix, RejectsMalformedInputWithClearMessages) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"fd00::/129", "prefix length 129 out of range for IPv6 in \"fd00::/129\""},
      {"10.0.0.0/33", "prefix length 33 out of range for IPv4 in \"10.0.0.0/33\""},
      {"10.0.0.0/", "invalid prefix length \"\" in \"10.0.0.0/\""},
      {"10.0.0.0/-1", "invalid prefix length \"-1\""},
      {"10.0.0.0/+8", "invalid prefix length \"+8\""},
      {"10.0.0.0/8/8", "invalid prefix length \"8/8\""},
      {"10.0.0.0/1000", "invalid prefix length \"1000\""},
      {"10.0.0.0/ 8", "invalid prefix length"},
      {"10.0.0/8", "invalid IPv4 address \"10.0.0\""},
      {"/8", "empty IP address"},
      {"", "empty IP address"},
  };
  for (auto [in, want] : kCases) {
    auto p = Prefix::Parse(in);
    ASSERT_FALSE(p.ok()) << in;
    EXPECT_THAT(p.error().message(), HasSubstr(want)) << in;
  }
}

TEST(Prefix, NetworkClearsHostBits) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"10.1.2.3/24", "10.1.2.0/24"},
      {"10.1.2.3/0", "0.0.0.0/0"},
      {"10.1.2.255/31", "10.1.2.254/31"},
      {"10.1.2.3/32", "10.1.2.3/32"},
      {"192.168.255.1/17", "192.168.128.0/17"},
      {"fd00:1:2:3::1/64", "fd00:1:2:3::/64"},
      {"fd00:ffff::1/20", "fd00:f000::/20"},
      {"fd00::1/128", "fd00::1/128"},
      {"ffff::/1", "8000::/1"},
  };
  for (auto [in, want] : kCases) EXPECT_EQ(Prefix::Parse(in)->Network().ToString(), want) << in;
}

TEST(Prefix, ContainsAddresses) {
  Prefix p = *Prefix::Parse("10.1.2.3/24");
  EXPECT_TRUE(p.Contains(*IpAddress::Parse("10.1.2.0")));
  EXPECT_TRUE(p.Contains(*IpAddress::Parse("10.1.2.255")));
  EXPECT_FALSE(p.Contains(*IpAddress::Parse("10.1.3.0")));
  EXPECT_FALSE(p.Contains(*IpAddress::Parse("::a01:200")));
  Prefix q = *Prefix::Parse("fd00:1::/33");
  EXPECT_TRUE(q.Contains(*IpAddress::Parse("fd00:1:7fff::1")));
  EXPECT_FALSE(q.Contains(*IpAddress::Parse("fd00:1:8000::1")));
  EXPECT_TRUE(Prefix::Parse("::/0")->Contains(*IpAddress::Parse("2001:db8::1")));
  EXPECT_FALSE(Prefix::Parse("::/0")->Contains(*IpAddress::Parse("1.2.3.4")));
  EXPECT_TRUE(Prefix::Parse("0.0.0.0/0")->Contains(*IpAddress::Parse("1.2.3.4")));
}

TEST(Prefix, ContainsPrefixes) {
  Prefix p = *Prefix::Parse("fd00::/48");
  EXPECT_TRUE(p.Contains(*Prefix::Parse("fd00::/48")));
  EXPECT_TRUE(p.Contains(*Prefix::Parse("fd00:0:0:5::/64")));
  EXPECT_FALSE(p.Contains(*Prefix::Parse("fd00::/47")));
  EXPECT_FALSE(p.Contains(*Prefix::Parse("fd00:0:1::/64")));
  EXPECT_FALSE(p.Contains(*Prefix::Parse("10.0.0.0/8")));
  EXPECT_TRUE(Prefix::Parse("10.0.0.0/8")->Contains(*Prefix::Parse("10.9.0.1")));
}

TEST(Endpoint, ParsesAndPrints) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"192.0.2.1:51820", "192.0.2.1:51820"},
      {"[2001:db8::1]:51820", "[2001:db8::1]:51820"},
      {"[2001:DB8:0::1]:1", "[2001:db8::1]:1"},
      {"0.0.0.0:65535", "0.0.0.0:65535"},
      {"[::ffff:1.2.3.4]:80", "[::ffff:1.2.3.4]:80"},
  };
  for (auto [in, want] : kCases) {
    auto e = Endpoint::Parse(in);
    ASSERT_TRUE(e.ok()) << in << ": " << e.error().message();
    EXPECT_EQ(e->ToString(), want) << in;
    EXPECT_TRUE(e->IsSet());
  }
  EXPECT_EQ(Endpoint::Parse("192.0.2.1:51820")->port(), 51820);
}

TEST(Endpoint, RejectsMalformedInputWithClearMessages) {
  const std::pair<std::string_view, std::string_view> kCases[] = {
      {"", "empty endpoint"},
      {"192.0.2.1", "missing port"},
      {"192.0.2.1:", "missing port"},
      {"[2001:db8::1]", "missing port"},
      {"[2001:db8::1]:", "missing port"},
      {"[2001:db8::1]51820", "missing port"},
      {"[2001:db8::1:51820", "missing ']'"},
      {"2001:db8::1:51820", "needs brackets"},
      {"192.0.2.1:0", "port 0 is not allowed"},
      {"192.0.2.1:65536", "invalid port \"65536\""},
      {"192.0.2.1:123456", "invalid port"},
      {"192.0.2.1:-1", "invalid port"},
      {"192.0.2.1:80a", "invalid port"},
      {"192.0.2.1: 80", "invalid port"},
      {"example.com:51820", "host names are not resolved"},
      {"[example.com]:51820", "not an IP address"},
      {"[192.0.2.1]:51820", "brackets are only for IPv6"},
      {"[fe80::1%eth0]:51820", "not an IP address"},
      {"300.0.0.1:80", "not an IP address"},
  };
  for (auto [in, want] : kCases) {
    auto e = Endpoint::Parse(in);
    ASSERT_FALSE(e.ok()) << in;
    EXPECT_THAT(e.error().message(), HasSubstr(want)) << in;
  }
}

TEST(Endpoint, RoundTripsThroughSockaddr) {
  for (std::string_view text : {"192.0.2.1:51820", "[2001:db8::1]:443", "[fe80::1]:1"}) {
    Endpoint e = *Endpoint::Parse(text);
    sockaddr_storage ss;
    socklen_t len = e.ToSockaddr(ss);
    EXPECT_EQ(len, e.address().is_v4() ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    EXPECT_EQ(ss.ss_family, e.address().is_v4() ? AF_INET : AF_INET6);
    auto back = Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), len);
    ASSERT_TRUE(back.has_value()) << text;
    EXPECT_EQ(*back, e) << text;
  }
}

TEST(Endpoint, ToSockaddrUsesNetworkByteOrder) {
  sockaddr_storage ss;
  Endpoint::Parse("192.0.2.1:51820")->ToSockaddr(ss);
  const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
  EXPECT_EQ(ntohs(in.sin_port), 51820);
  EXPECT_EQ(ntohl(in.sin_addr.s_addr), 0xc0000201u);
}

TEST(Endpoint, FromSockaddrUnmapsV4MappedAddresses) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  in6.sin6_port = htons(4242);
  ASSERT_EQ(inet_pton(AF_INET6, "::ffff:198.51.100.7", &in6.sin6_addr), 1);
  auto e = Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&in6), sizeof(in6));
  ASSERT_TRUE(e.has_value());
  EXPECT_TRUE(e->address().is_v4());
  EXPECT_EQ(e->ToString(), "198.51.100.7:4242");
  EXPECT_EQ(*e, *Endpoint::Parse("198.51.100.7:4242"));
}

TEST(Endpoint, FromSockaddrRejectsShortOrUnknownAddresses) {
  sockaddr_in6 in6{};
  in6.sin6_family = AF_INET6;
  const auto* sa = reinterpret_cast<const sockaddr*>(&in6);
  EXPECT_FALSE(Endpoint::FromSockaddr(sa, sizeof(sockaddr_in)).has_value());
  EXPECT_FALSE(Endpoint::FromSockaddr(nullptr, sizeof(in6)).has_value());
  EXPECT_FALSE(Endpoint::FromSockaddr(sa, 0).has_value());
  sockaddr_storage ss{};
  ss.ss_family = AF_UNIX;
  EXPECT_FALSE(
      Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&ss), sizeof(ss)).has_value());
}

TEST(Endpoint, DefaultIsUnset) {
  EXPECT_FALSE(Endpoint().IsSet());
}

}  // namespace
}  // namespace plexus
