#include "identity/certificate.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::P;
using ::testing::ElementsAre;

class CertificateTest : public ::testing::Test {
 protected:
  testing::FakeRandom random_;
  CertificateAuthority ca_ = test::NewCa(random_);
  IdentityKey node_key_ = test::NewKey();
  Certificate cert_ = test::Issue(
      ca_,
      test::NodeRequest(node_key_, {P("fd12:3456:789a::/48"), P("fd12:3456:789b:7::/64"),
                                    P("10.42.0.7/32"), P("10.42.1.0/24")}),
      random_);

  void ExpectSameFields(const Certificate& back) {
    EXPECT_EQ(back.SerialHex(), cert_.SerialHex());
    EXPECT_EQ(back.SubjectCommonName(), "alpha");
    EXPECT_EQ(back.SubjectOrganization(), "meshnet");
    EXPECT_EQ(*back.NotBeforeUnix(), *cert_.NotBeforeUnix());
    EXPECT_EQ(*back.NotAfterUnix(), *cert_.NotAfterUnix());
    EXPECT_EQ(back.WireGuardKey(), test::WireGuardKey(0x42));
    EXPECT_THAT(back.DnsNames(), ElementsAre("alpha.mesh.example"));
    EXPECT_THAT(*back.IpAddressBlocks(),
                ElementsAre(P("10.42.0.7/32"), P("10.42.1.0/24"), P("fd12:3456:789a::/48"),
                            P("fd12:3456:789b:7::/64")));
    EXPECT_EQ(*back.SubjectPublicKey(), node_key_.public_key());
  }
};

TEST_F(CertificateTest, PemRoundTripKeepsEveryField) {
  Result<std::string> pem = cert_.ToPem();
  ASSERT_TRUE(pem.ok());
  EXPECT_THAT(*pem, ::testing::StartsWith("-----BEGIN CERTIFICATE-----"));
  Result<Certificate> back = Certificate::FromPem(*pem);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ExpectSameFields(*back);
  EXPECT_EQ(*back->ToPem(), *pem);
}

TEST_F(CertificateTest, DerRoundTripKeepsEveryField) {
  Result<Bytes> der = cert_.ToDer();
  ASSERT_TRUE(der.ok());
  Result<Certificate> back = Certificate::FromDer(*der);
  ASSERT_TRUE(back.ok()) << back.error().message();
  ExpectSameFields(*back);
  EXPECT_EQ(*back->ToDer(), *der);
}

TEST_F(CertificateTest, RejectsMalformedInput) {
  EXPECT_FALSE(Certificate::FromPem("-----BEGIN CERTIFICATE-----\nAAAA\n").ok());
  Bytes der = *cert_.ToDer();
  EXPECT_FALSE(Certificate::FromDer(ByteSpan(der).first(der.size() - 1)).ok());
  der.push_back(std::byte{0});
  EXPECT_FALSE(Certificate::FromDer(der).ok());
}

TEST_F(CertificateTest, CaHasNoWireGuardKeyOrDnsNames) {
  EXPECT_FALSE(ca_.certificate().WireGuardKey().has_value());
  EXPECT_TRUE(ca_.certificate().DnsNames().empty());
  EXPECT_EQ(ca_.certificate().SubjectOrganization(), "");
}

TEST_F(CertificateTest, CloneSharesTheCertificate) {
  Certificate copy = cert_.Clone();
  EXPECT_EQ(copy.get(), cert_.get());
  EXPECT_EQ(copy.SerialHex(), cert_.SerialHex());
}

}  // namespace
}  // namespace plexus::identity
