#include "identity/certificate_authority.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::kDay;
using test::kNow;
using test::P;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Runs `openssl x509 -noout -text` on `cert` and returns what it prints. The
// file name carries the pid: ctest runs tests in parallel, one process each.
std::string OpensslText(const Certificate& cert) {
  std::string path =
      ::testing::TempDir() + "/certificate_authority_test." + std::to_string(getpid()) + ".pem";
  std::ofstream(path) << *cert.ToPem();
  std::string out;
  FILE* p = popen(("openssl x509 -noout -text -in " + path + " 2>&1").c_str(), "r");
  EXPECT_NE(p, nullptr);
  char buf[4096];
  size_t n;
  while (p && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  if (p) EXPECT_EQ(pclose(p), 0) << out;
  std::remove(path.c_str());
  return out;
}

TEST(CertificateAuthorityTest, CreatesSelfSignedCa) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  const Certificate& cert = ca.certificate();
  EXPECT_EQ(ca.network_name(), "meshnet");
  EXPECT_EQ(cert.SubjectCommonName(), "meshnet");
  EXPECT_EQ(cert.IssuerCommonName(), "meshnet");
  EXPECT_TRUE(cert.IsCa());
  EXPECT_EQ(*cert.NotBeforeUnix(), kNow - kDay - kClockSkewAllowanceSeconds);
  EXPECT_EQ(*cert.NotAfterUnix(), kNow - kDay + 3650 * kDay);
  EXPECT_EQ(*cert.SubjectPublicKey(), ca.key().public_key());
  EXPECT_EQ(X509_verify(cert.get(), ca.key().pkey()), 1);
  EXPECT_THAT(*cert.IpAddressBlocks(), ElementsAre(P("0.0.0.0/0"), P("::/0")));
}

TEST(CertificateAuthorityTest, OpensslCliExplainsCaCertificate) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random, "meshnet", {P("fd12:3456:789a::/48")});
  std::string text = OpensslText(ca.certificate());
  EXPECT_THAT(text, HasSubstr("Subject: CN = meshnet"));
  EXPECT_THAT(text, HasSubstr("ED25519"));
  EXPECT_THAT(text, HasSubstr("CA:TRUE"));
  EXPECT_THAT(text, HasSubstr("Certificate Sign, CRL Sign"));
  EXPECT_THAT(text, HasSubstr("fd12:3456:789a::/48"));
}

TEST(CertificateAuthorityTest, OpensslCliExplainsNodeCertificate) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  IdentityKey node_key = test::NewKey();
  Certificate cert = test::Issue(ca, test::NodeRequest(node_key), random);
  std::string text = OpensslText(cert);
  EXPECT_THAT(text, HasSubstr("Subject: CN = alpha, O = meshnet"));
  EXPECT_THAT(text, HasSubstr("Issuer: CN = meshnet"));
  EXPECT_THAT(text, HasSubstr("sbgp-ipAddrBlock: critical"));
  EXPECT_THAT(text, HasSubstr("IPv4:"));
  EXPECT_THAT(text, HasSubstr("10.42.0.7/32"));
  EXPECT_THAT(text, HasSubstr("IPv6:"));
  EXPECT_THAT(text, HasSubstr("fd12:3456:789a:1::/64"));
  EXPECT_THAT(text, HasSubstr("DNS:alpha.mesh.example"));
  EXPECT_THAT(text, HasSubstr("CA:FALSE"));
  EXPECT_THAT(text, HasSubstr(std::string(kWireGuardKeyOid)));
}

TEST(CertificateAuthorityTest, IssuesNodeCertificateWithRequestedFields) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  IdentityKey node_key = test::NewKey();
  Certificate cert = test::Issue(ca, test::NodeRequest(node_key), random);
  EXPECT_EQ(cert.SubjectCommonName(), "alpha");
  EXPECT_EQ(cert.SubjectOrganization(), "meshnet");
  EXPECT_EQ(cert.IssuerCommonName(), "meshnet");
  EXPECT_FALSE(cert.IsCa());
  EXPECT_EQ(*cert.SubjectPublicKey(), node_key.public_key());
  EXPECT_EQ(cert.WireGuardKey(), test::WireGuardKey(0x42));
  EXPECT_THAT(cert.DnsNames(), ElementsAre("alpha.mesh.example"));
  EXPECT_THAT(*cert.IpAddressBlocks(), ElementsAre(P("10.42.0.7/32"), P("fd12:3456:789a:1::/64")));
  EXPECT_EQ(*cert.NotBeforeUnix(), kNow - int64_t{5} * 60);
  EXPECT_EQ(*cert.NotAfterUnix(), kNow + 30 * kDay);
  EXPECT_EQ(X509_verify(cert.get(), ca.key().pkey()), 1);
}

TEST(CertificateAuthorityTest, SerialsAre128RandomPositiveBits) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  IdentityKey node_key = test::NewKey();
  std::string a = test::Issue(ca, test::NodeRequest(node_key), random).SerialHex();
  std::string b = test::Issue(ca, test::NodeRequest(node_key), random).SerialHex();
  EXPECT_NE(a, b);
  EXPECT_LE(a.size(), 32u);
  EXPECT_GE(a.size(), 24u);  // leading zero nibbles are possible but not 2^-32 likely
  Certificate cert = test::Issue(ca, test::NodeRequest(node_key), random);
  EXPECT_EQ(ASN1_STRING_type(X509_get0_serialNumber(cert.get())), V_ASN1_INTEGER);  // positive
}

TEST(CertificateAuthorityTest, RejectsBadRequests) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  IdentityKey node_key = test::NewKey();
  auto fails = [&](auto mutate) {
    NodeCertificateRequest r = test::NodeRequest(node_key);
    mutate(r);
    return !ca.IssueNodeCertificate(r, kNow, random).ok();
  };
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.node_name = "Alpha"; }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.node_name = "a,DNS:evil"; }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.node_name = "-a"; }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.network_domain = "mesh..example"; }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.prefixes.clear(); }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) {
    r.prefixes = {P("fd00::/48"), P("fd00::/64")};
  }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.wireguard_key = {}; }));
  EXPECT_TRUE(fails([](NodeCertificateRequest& r) { r.lifetime_seconds = 0; }));
  EXPECT_FALSE(fails([](NodeCertificateRequest& r) {}));
}

TEST(CertificateAuthorityTest, FromPartsChecksKeyAndCaFlag) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  Result<IdentityKey> key = IdentityKey::FromPem(*ca.key().ToPem());
  Result<CertificateAuthority> again =
      CertificateAuthority::FromParts(std::move(*key), ca.certificate().Clone());
  ASSERT_TRUE(again.ok()) << again.error().message();
  EXPECT_EQ(again->network_name(), "meshnet");
  EXPECT_FALSE(CertificateAuthority::FromParts(test::NewKey(), ca.certificate().Clone()).ok());
  IdentityKey node_key = test::NewKey();
  Result<IdentityKey> node_key_copy = IdentityKey::FromPem(*node_key.ToPem());
  Certificate node = test::Issue(ca, test::NodeRequest(node_key), random);
  EXPECT_FALSE(CertificateAuthority::FromParts(std::move(*node_key_copy), std::move(node)).ok());
}

}  // namespace
}  // namespace plexus::identity
