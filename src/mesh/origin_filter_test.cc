#include "mesh/origin_filter.h"

#include <gtest/gtest.h>

#include "identity/test_util.h"

namespace plexus::mesh {
namespace {

using identity::test::P;

struct Case {
  const char* prefix;
  std::optional<const char*> source;
  OriginVerdict verdict;
};

void ExpectCases(const OriginFilter& filter, const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    std::optional<Prefix> source;
    if (c.source) source = P(*c.source);
    EXPECT_EQ(filter.Check(P(c.prefix), source), c.verdict)
        << c.prefix << " from " << c.source.value_or("-") << ": got "
        << OriginVerdictName(filter.Check(P(c.prefix), source));
  }
}

TEST(OriginFilter, AcceptsOnlyPrefixesInsideTheBlocks) {
  OriginFilter f({P("fd12:3456:789a:1::/64"), P("10.42.0.7/32")}, {}, {});
  using V = OriginVerdict;
  ExpectCases(f, {
                     {"fd12:3456:789a:1::/64", std::nullopt, V::kAccepted},
                     {"fd12:3456:789a:1:8000::/65", std::nullopt, V::kAccepted},
                     {"fd12:3456:789a:1::1/128", std::nullopt, V::kAccepted},
                     {"fd12:3456:789a:1::1/64", std::nullopt, V::kAccepted},  // host bits ignored
                     {"10.42.0.7/32", std::nullopt, V::kAccepted},
                     {"fd12:3456:789a::/48", std::nullopt, V::kOutsideBlocks},  // wider
                     {"fd12:3456:789a:2::/64", std::nullopt, V::kOutsideBlocks},
                     {"10.42.0.8/32", std::nullopt, V::kOutsideBlocks},
                     {"10.42.0.0/24", std::nullopt, V::kOutsideBlocks},
                     {"::/0", std::nullopt, V::kOutsideBlocks},
                     {"0.0.0.0/0", std::nullopt, V::kOutsideBlocks},
                     {"fd12:3456:789a:1::/64", "fd12:3456:789a::/48", V::kAccepted},
                     {"fd12:3456:789a:1::/64", "::/0", V::kAccepted},
                     {"fd12:3456:789a:1::/64", "10.0.0.0/8", V::kFamilyMismatch},
                 });
}

TEST(OriginFilter, GrantsOutsideTheOverlayNeedAnOverlaySource) {
  OriginFilter f({P("fd12:3456:789a:1::/64")}, {P("::/0"), P("fd12:3456:789a:ff00::/56")},
                 {P("fd12:3456:789a::/48"), P("10.42.0.0/16")});
  using V = OriginVerdict;
  ExpectCases(f, {
                     {"::/0", "fd12:3456:789a::/48", V::kAccepted},
                     {"::/0", "fd12:3456:789a:1::/64", V::kAccepted},
                     {"2001:db8::/32", "fd12:3456:789a::/48", V::kAccepted},
                     {"::/0", std::nullopt, V::kSourceOutsideOverlay},
                     {"::/0", "::/0", V::kSourceOutsideOverlay},
                     {"::/0", "2001:db8::/32", V::kSourceOutsideOverlay},
                     {"::/0", "fd12:3456::/32", V::kSourceOutsideOverlay},  // wider than overlay
                     {"fd12:3456:789a:ff10::/60", std::nullopt, V::kAccepted},  // grant inside
                     {"0.0.0.0/0", "10.42.0.0/16", V::kOutsideBlocks},          // no IPv4 grant
                     // ::/0 does not cover other nodes' prefixes inside the overlay
                     {"fd12:3456:789a:2::/64", std::nullopt, V::kOutsideBlocks},
                     {"fd12:3456:789a:2::/64", "fd12:3456:789a::/48", V::kOutsideBlocks},
                     {"fd12:3456:789a::/48", std::nullopt, V::kOutsideBlocks},
                     {"10.42.0.1/32", std::nullopt, V::kOutsideBlocks},
                 });
}

TEST(OriginFilter, WithoutOverlayGrantsApplyAsGiven) {
  OriginFilter f({P("fd12:3456:789a:1::/64")}, {P("::/0")}, {});
  EXPECT_TRUE(f.Accepts(P("::/0"), std::nullopt));
  EXPECT_TRUE(f.Accepts(P("2001:db8::/32"), P("2001:db8::/32")));
  EXPECT_FALSE(f.Accepts(P("10.0.0.0/8"), std::nullopt));
}

TEST(OriginFilter, ForCertificateUsesBlocksAndTheGrantsOfItsName) {
  testing::FakeRandom random;
  identity::CertificateAuthority ca =
      identity::test::NewCa(random, "meshnet", {P("fd12:3456:789a::/48"), P("10.42.0.0/16")});
  identity::IdentityKey key = identity::test::NewKey();
  identity::Certificate cert = identity::test::Issue(ca, identity::test::NodeRequest(key), random);
  ASSERT_EQ(cert.SubjectCommonName(), "alpha");

  Result<OriginFilter> plain = OriginFilter::ForCertificate(cert, nullptr);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain->Accepts(P("fd12:3456:789a:1::/64"), std::nullopt));
  EXPECT_TRUE(plain->Accepts(P("10.42.0.7/32"), std::nullopt));
  EXPECT_FALSE(plain->Accepts(P("::/0"), P("fd12:3456:789a::/48")));

  identity::NetworkConfig config;
  config.network_name = "meshnet";
  config.network_prefix = P("fd12:3456:789a::/48");
  config.grants = {{.node_name = "alpha", .prefix = P("::/0")},
                   {.node_name = "beta", .prefix = P("2001:db8::/32")}};
  Result<OriginFilter> granted = OriginFilter::ForCertificate(cert, &config);
  ASSERT_TRUE(granted.ok());
  EXPECT_TRUE(granted->Accepts(P("::/0"), P("fd12:3456:789a::/48")));
  EXPECT_EQ(granted->Check(P("::/0"), std::nullopt), OriginVerdict::kSourceOutsideOverlay);
  EXPECT_TRUE(granted->Accepts(P("2001:db8::/32"), P("fd12:3456:789a::/48")));  // via ::/0
  EXPECT_TRUE(granted->Accepts(P("fd12:3456:789a:1::/64"), std::nullopt));
  EXPECT_FALSE(granted->Accepts(P("fd12:3456:789a:2::/64"), std::nullopt));
}

}  // namespace
}  // namespace plexus::mesh
