#include "identity/ip_address_blocks.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "identity/openssl_util.h"
#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::P;
using ::testing::ElementsAre;

// Encodes `prefixes` into the extension of a bare certificate and decodes the
// extension's DER again (full-certificate round trips are in certificate_test.cc).
Result<std::vector<Prefix>> RoundTrip(std::vector<Prefix> prefixes) {
  X509Ptr cert(X509_new());
  Status s = AddIpAddressBlocks(cert.get(), prefixes);
  if (!s) return s.error();
  return ReadIpAddressBlocks(cert.get());
}

TEST(IpAddressBlocksTest, RoundTripsIpv6Slash48) {
  Result<std::vector<Prefix>> r = RoundTrip({P("fd12:3456:789a::/48")});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_THAT(*r, ElementsAre(P("fd12:3456:789a::/48")));
}

TEST(IpAddressBlocksTest, RoundTripsIpv6Slash64) {
  Result<std::vector<Prefix>> r = RoundTrip({P("fd12:3456:789a:1::/64")});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_THAT(*r, ElementsAre(P("fd12:3456:789a:1::/64")));
}

TEST(IpAddressBlocksTest, RoundTripsIpv4Slash32) {
  Result<std::vector<Prefix>> r = RoundTrip({P("10.42.0.7/32")});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_THAT(*r, ElementsAre(P("10.42.0.7/32")));
}

TEST(IpAddressBlocksTest, RoundTripsMultipleBlocksSortedIpv4First) {
  Result<std::vector<Prefix>> r =
      RoundTrip({P("fd12:3456:789a:5::/64"), P("10.42.0.7/32"), P("fd12:3456:789a:1::/64"),
                 P("192.0.2.0/24"), P("2001:db8::/32")});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_THAT(*r, ElementsAre(P("10.42.0.7/32"), P("192.0.2.0/24"), P("2001:db8::/32"),
                              P("fd12:3456:789a:1::/64"), P("fd12:3456:789a:5::/64")));
}

TEST(IpAddressBlocksTest, ClearsHostBits) {
  Result<std::vector<Prefix>> r = RoundTrip({P("fd12:3456:789a:1::1/64")});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(P("fd12:3456:789a:1::/64")));
}

TEST(IpAddressBlocksTest, CanonicalFormMergesAdjacentPrefixes) {
  Result<std::vector<Prefix>> r = RoundTrip({P("10.0.0.0/25"), P("10.0.0.128/25")});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(P("10.0.0.0/24")));
  // Adjacent but not mergeable into one prefix: a range, split back into prefixes.
  r = RoundTrip({P("10.0.0.128/25"), P("10.0.1.0/24")});
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(*r, ElementsAre(P("10.0.0.128/25"), P("10.0.1.0/24")));
}

TEST(IpAddressBlocksTest, RoundTripsWholeSpaces) {
  Result<std::vector<Prefix>> r = RoundTrip({P("0.0.0.0/0"), P("::/0")});
  ASSERT_TRUE(r.ok()) << r.error().message();
  EXPECT_THAT(*r, ElementsAre(P("0.0.0.0/0"), P("::/0")));
}

TEST(IpAddressBlocksTest, RejectsOverlapAndEmpty) {
  X509Ptr cert(X509_new());
  std::vector<Prefix> overlap = {P("fd00::/48"), P("fd00:0:0:1::/64")};
  EXPECT_FALSE(AddIpAddressBlocks(cert.get(), overlap).ok());
  EXPECT_FALSE(AddIpAddressBlocks(cert.get(), {}).ok());
}

TEST(IpAddressBlocksTest, AbsentExtensionIsEmpty) {
  X509Ptr cert(X509_new());
  Result<std::vector<Prefix>> r = ReadIpAddressBlocks(cert.get());
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(RangeToPrefixesTest, SplitsIntoFewestAlignedPrefixes) {
  auto a = [](std::string_view s) { return *IpAddress::Parse(s); };
  EXPECT_THAT(RangeToPrefixes(a("10.0.0.0"), a("10.0.0.255")), ElementsAre(P("10.0.0.0/24")));
  EXPECT_THAT(RangeToPrefixes(a("10.0.0.1"), a("10.0.0.6")),
              ElementsAre(P("10.0.0.1/32"), P("10.0.0.2/31"), P("10.0.0.4/31"), P("10.0.0.6/32")));
  EXPECT_THAT(RangeToPrefixes(a("255.255.255.255"), a("255.255.255.255")),
              ElementsAre(P("255.255.255.255/32")));
  EXPECT_THAT(RangeToPrefixes(a("8000::"), a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
              ElementsAre(P("8000::/1")));
  EXPECT_THAT(RangeToPrefixes(a("::"), a("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")),
              ElementsAre(P("::/0")));
}

}  // namespace
}  // namespace plexus::identity
