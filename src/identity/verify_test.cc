#include "identity/verify.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::kDay;
using test::kNow;
using test::P;

class VerifyTest : public ::testing::Test {
 protected:
  CertificateVerdict Verify(const Certificate& cert, int64_t now = kNow,
                            std::vector<std::string> revoked = {},
                            crypto::PublicKey wg = test::WireGuardKey(0x42)) {
    return VerifyNodeCertificate(cert, ca_.certificate(), now, revoked, wg);
  }
  Certificate FromDer(const Bytes& der) {
    Result<Certificate> c = Certificate::FromDer(der);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  // A copy of cert_ without the extension `nid_or_oid`, re-signed by the CA.
  Certificate WithoutExtension(const ASN1_OBJECT* oid) {
    X509Ptr copy(X509_dup(cert_.get()));
    X509_EXTENSION* ext = X509_delete_ext(copy.get(), X509_get_ext_by_OBJ(copy.get(), oid, -1));
    EXPECT_NE(ext, nullptr);
    X509_EXTENSION_free(ext);
    EXPECT_GT(X509_sign(copy.get(), ca_.key().pkey(), nullptr), 0);
    return Certificate(std::move(copy));
  }

  testing::FakeRandom random_;
  CertificateAuthority ca_ =
      test::NewCa(random_, "meshnet", {P("fd12:3456:789a::/48"), P("10.42.0.0/16")});
  IdentityKey node_key_ = test::NewKey();
  Certificate cert_ = test::Issue(ca_, test::NodeRequest(node_key_), random_);
};

TEST_F(VerifyTest, AcceptsFreshNodeCertificate) {
  CertificateVerdict v = Verify(cert_);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_TRUE(v.ToStatus().ok());
}

TEST_F(VerifyTest, AcceptsWithinClockSkewAllowanceBeforeIssue) {
  EXPECT_TRUE(Verify(cert_, kNow - kClockSkewAllowanceSeconds).ok());
}

TEST_F(VerifyTest, RejectsFlippedSignatureByte) {
  Bytes der = *cert_.ToDer();
  der.back() ^= std::byte{0x01};
  CertificateVerdict v = Verify(FromDer(der));
  EXPECT_EQ(v.rejection, CertificateRejection::kBadSignature) << v.message;
}

TEST_F(VerifyTest, RejectsFlippedTbsByte) {
  Bytes der = *cert_.ToDer();
  std::string_view name = "alpha.mesh.example";
  auto it = std::search(der.begin(), der.end(), AsBytes(name).begin(), AsBytes(name).end());
  ASSERT_NE(it, der.end());
  *it = std::byte{'b'};  // SAN now says "blpha.mesh.example"
  Certificate tampered = FromDer(der);
  EXPECT_EQ(tampered.DnsNames().front(), "blpha.mesh.example");
  CertificateVerdict v = Verify(tampered);
  EXPECT_EQ(v.rejection, CertificateRejection::kBadSignature) << v.message;
}

TEST_F(VerifyTest, RejectsCertificateFromAnotherCa) {
  CertificateAuthority other = test::NewCa(random_, "othernet");
  CertificateVerdict v = Verify(test::Issue(other, test::NodeRequest(node_key_), random_));
  EXPECT_EQ(v.rejection, CertificateRejection::kWrongCa) << v.message;
}

TEST_F(VerifyTest, RejectsCertificateFromAnotherCaWithTheSameName) {
  CertificateAuthority impostor = test::NewCa(random_, "meshnet");
  CertificateVerdict v = Verify(test::Issue(impostor, test::NodeRequest(node_key_), random_));
  EXPECT_EQ(v.rejection, CertificateRejection::kWrongCa) << v.message;
}

TEST_F(VerifyTest, RejectsExpired) {
  int64_t not_after = *cert_.NotAfterUnix();
  EXPECT_TRUE(Verify(cert_, not_after - 1).ok());
  CertificateVerdict v = Verify(cert_, not_after);  // OpenSSL: expired at notAfter itself
  EXPECT_EQ(v.rejection, CertificateRejection::kExpired) << v.message;
}

TEST_F(VerifyTest, RejectsNotYetValid) {
  CertificateVerdict v = Verify(cert_, kNow - kClockSkewAllowanceSeconds - 1);
  EXPECT_EQ(v.rejection, CertificateRejection::kNotYetValid) << v.message;
}

TEST_F(VerifyTest, RejectsWhenCaExpired) {
  testing::FakeRandom random;
  CaOptions options{.network_name = "shortnet", .now_unix = kNow, .lifetime_seconds = kDay};
  Result<CertificateAuthority> ca = CertificateAuthority::Create(test::NewKey(), options, random);
  ASSERT_TRUE(ca.ok());
  Certificate cert = test::Issue(*ca, test::NodeRequest(node_key_), random);
  CertificateVerdict v =
      VerifyNodeCertificate(cert, ca->certificate(), kNow + 2 * kDay, {}, test::WireGuardKey(0x42));
  EXPECT_EQ(v.rejection, CertificateRejection::kCaNotValid) << v.message;
}

TEST_F(VerifyTest, RejectsRevokedSerialIgnoringCaseAndLeadingZeros) {
  std::string serial = cert_.SerialHex();
  std::string upper = serial;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  CertificateVerdict v = Verify(cert_, kNow, {"0123", "00" + upper});
  EXPECT_EQ(v.rejection, CertificateRejection::kRevoked) << v.message;
  EXPECT_THAT(v.message, ::testing::HasSubstr(serial));
  EXPECT_TRUE(Verify(cert_, kNow, {"0123"}).ok());
}

TEST_F(VerifyTest, RejectsWireGuardKeyMismatch) {
  CertificateVerdict v = Verify(cert_, kNow, {}, test::WireGuardKey(0x43));
  EXPECT_EQ(v.rejection, CertificateRejection::kWireGuardKeyMismatch) << v.message;
  EXPECT_THAT(v.ToStatus().error().message(), ::testing::StartsWith("wireguard-key-mismatch: "));
}

TEST_F(VerifyTest, RejectsMissingWireGuardKeyExtension) {
  CertificateVerdict v = Verify(WithoutExtension(WireGuardKeyObject().get()));
  EXPECT_EQ(v.rejection, CertificateRejection::kMissingWireGuardKey) << v.message;
}

TEST_F(VerifyTest, RejectsMissingIpAddressBlocks) {
  CertificateVerdict v = Verify(WithoutExtension(OBJ_nid2obj(NID_sbgp_ipAddrBlock)));
  EXPECT_EQ(v.rejection, CertificateRejection::kMissingIpAddressBlocks) << v.message;
}

TEST_F(VerifyTest, RejectsCaCertificateAsNode) {
  CertificateVerdict v = Verify(ca_.certificate());
  EXPECT_EQ(v.rejection, CertificateRejection::kNotNodeCertificate) << v.message;
}

TEST_F(VerifyTest, RejectsPrefixOutsideNetwork) {
  Certificate cert = test::Issue(
      ca_, test::NodeRequest(node_key_, {P("fd12:3456:789a:2::/64"), P("fd99::/64")}), random_);
  CertificateVerdict v = Verify(cert);
  EXPECT_EQ(v.rejection, CertificateRejection::kPrefixOutsideNetwork) << v.message;
}

TEST(CertificateRejectionTest, EveryReasonHasAName) {
  for (int r = 0; r <= static_cast<int>(CertificateRejection::kChainInvalid); ++r) {
    EXPECT_NE(CertificateRejectionName(static_cast<CertificateRejection>(r)), "unknown");
  }
}

}  // namespace
}  // namespace plexus::identity
