#include "identity/peer_record.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

using test::kDay;
using test::kNow;

Endpoint E(std::string_view text) {
  Result<Endpoint> e = Endpoint::Parse(text);
  EXPECT_TRUE(e.ok()) << text;
  return e ? *e : Endpoint();
}

class PeerRecordTest : public ::testing::Test {
 protected:
  PeerRecord Record(int64_t timestamp = kNow) {
    return PeerRecord{
        .certificate_pem = *cert_.ToPem(),
        .endpoints = {E("192.0.2.1:51820"), E("[2001:db8::1]:51820"), E("[fe80::1]:4000")},
        .timestamp = timestamp};
  }
  SignedDocument Sign(int64_t timestamp = kNow) {
    Result<SignedDocument> doc = SignPeerRecord(Record(timestamp), node_key_);
    EXPECT_TRUE(doc.ok()) << (doc ? "" : doc.error().message());
    return std::move(*doc);
  }
  VerifiedPeerRecord Verify(const SignedDocument& doc, int64_t held = 0,
                            std::vector<std::string> revoked = {}, int64_t now = kNow) {
    return VerifyPeerRecord(doc, ca_.certificate(), now, revoked, held);
  }
  PeerRecordRejection Check(const SignedDocument& doc, int64_t held = 0) {
    return Verify(doc, held).verdict.rejection;
  }

  testing::FakeRandom random_{7};
  CertificateAuthority ca_ = test::NewCa(random_);
  IdentityKey node_key_ = test::NewKey();
  Certificate cert_ = test::Issue(ca_, test::NodeRequest(node_key_), random_);
};

TEST_F(PeerRecordTest, RoundTripThroughTextKeepsEndpoints) {
  Result<SignedDocument> doc = DecodeSignedDocument(EncodeSignedDocument(Sign()));
  ASSERT_TRUE(doc.ok()) << doc.error().message();
  EXPECT_EQ(doc->kind, kPeerRecordKind);
  VerifiedPeerRecord v = Verify(*doc);
  ASSERT_TRUE(v.verdict.ok()) << v.verdict.message;
  EXPECT_EQ(v.record, Record());
  ASSERT_EQ(v.record.endpoints.size(), 3u);
  EXPECT_TRUE(v.record.endpoints[0].address().is_v4());
  EXPECT_TRUE(v.record.endpoints[1].address().is_v6());
  ASSERT_TRUE(v.certificate.has_value());
  EXPECT_EQ(v.certificate->SerialHex(), cert_.SerialHex());
}

TEST_F(PeerRecordTest, EmptyEndpointListRoundTrips) {
  PeerRecord r = Record();
  r.endpoints.clear();
  Result<SignedDocument> doc = SignPeerRecord(r, node_key_);
  ASSERT_TRUE(doc.ok());
  VerifiedPeerRecord v = Verify(*doc);
  ASSERT_TRUE(v.verdict.ok()) << v.verdict.message;
  EXPECT_TRUE(v.record.endpoints.empty());
}

TEST_F(PeerRecordTest, NewerTimestampReplacesOlderAndReplaysAreRefused) {
  EXPECT_EQ(Check(Sign(kNow + 10), kNow), PeerRecordRejection::kNone);
  EXPECT_EQ(Check(Sign(kNow), kNow), PeerRecordRejection::kSameTimestamp);
  EXPECT_EQ(Check(Sign(kNow - 10), kNow), PeerRecordRejection::kOlderTimestamp);
}

TEST_F(PeerRecordTest, RejectsTamperedEndpoints) {
  SignedDocument doc = Sign();
  PeerRecord r = Record();
  r.endpoints[0] = E("203.0.113.66:51820");
  doc.payload = *PeerRecordToPayload(r);
  EXPECT_EQ(Check(doc), PeerRecordRejection::kBadSignature);
}

TEST_F(PeerRecordTest, RejectsTamperedTimestamp) {
  SignedDocument doc = Sign();
  doc.version += 100;
  doc.issued_at += 100;
  EXPECT_EQ(Check(doc), PeerRecordRejection::kBadSignature);
  doc.issued_at += 1;  // version and issued_at disagree
  EXPECT_EQ(Check(doc), PeerRecordRejection::kMalformed);
}

TEST_F(PeerRecordTest, RejectsTamperedSignatureAndKind) {
  SignedDocument doc = Sign();
  doc.signature[0] ^= std::byte{0x80};
  EXPECT_EQ(Check(doc), PeerRecordRejection::kBadSignature);
  Result<Bytes> payload = PeerRecordToPayload(Record());
  ASSERT_TRUE(payload.ok());
  Result<SignedDocument> other_kind = SignDocument("crl", kNow, kNow, *payload, node_key_);
  ASSERT_TRUE(other_kind.ok());
  EXPECT_EQ(Check(*other_kind), PeerRecordRejection::kWrongKind);
}

TEST_F(PeerRecordTest, RejectsRecordSignedByAnotherKey) {
  IdentityKey other = test::NewKey();
  EXPECT_FALSE(SignPeerRecord(Record(), other).ok());
  Result<Bytes> payload = PeerRecordToPayload(Record());
  ASSERT_TRUE(payload.ok());
  Result<SignedDocument> doc = SignDocument(kPeerRecordKind, kNow, kNow, *payload, other);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(Check(*doc), PeerRecordRejection::kWrongSigner);
}

TEST_F(PeerRecordTest, RejectsCertificateFromAnotherCa) {
  testing::FakeRandom random(99);
  CertificateAuthority other_ca = test::NewCa(random, "othernet");
  IdentityKey key = test::NewKey();
  Certificate foreign = test::Issue(other_ca, test::NodeRequest(key), random);
  PeerRecord r = Record();
  r.certificate_pem = *foreign.ToPem();
  Result<SignedDocument> doc = SignPeerRecord(r, key);
  ASSERT_TRUE(doc.ok());
  VerifiedPeerRecord v = Verify(*doc);
  EXPECT_EQ(v.verdict.rejection, PeerRecordRejection::kCertificateRejected);
  EXPECT_EQ(v.verdict.certificate_rejection, CertificateRejection::kWrongCa);
  EXPECT_FALSE(v.certificate.has_value());
}

TEST_F(PeerRecordTest, RejectsExpiredAndRevokedCertificates) {
  SignedDocument doc = Sign();
  VerifiedPeerRecord expired = Verify(doc, 0, {}, kNow + 60 * kDay);
  EXPECT_EQ(expired.verdict.rejection, PeerRecordRejection::kCertificateRejected);
  EXPECT_EQ(expired.verdict.certificate_rejection, CertificateRejection::kExpired);
  VerifiedPeerRecord revoked = Verify(doc, 0, {cert_.SerialHex()});
  EXPECT_EQ(revoked.verdict.certificate_rejection, CertificateRejection::kRevoked);
  EXPECT_NE(revoked.verdict.ToStatus().error().message().find("certificate-rejected"),
            std::string::npos);
}

TEST_F(PeerRecordTest, RejectsMalformedRecords) {
  auto sign_payload = [&](const nlohmann::json& j) {
    Result<SignedDocument> doc =
        SignDocument(kPeerRecordKind, kNow, kNow, document_json::CanonicalJson(j), node_key_);
    EXPECT_TRUE(doc.ok());
    return std::move(*doc);
  };
  std::string pem = *cert_.ToPem();
  EXPECT_EQ(Check(sign_payload({{"certificate", pem}, {"endpoints", {"192.0.2.1:0"}}})),
            PeerRecordRejection::kMalformed);
  EXPECT_EQ(Check(sign_payload({{"certificate", pem}, {"endpoints", {"example.com:1"}}})),
            PeerRecordRejection::kMalformed);
  EXPECT_EQ(
      Check(sign_payload({{"certificate", "not pem"}, {"endpoints", nlohmann::json::array()}})),
      PeerRecordRejection::kMalformed);
  EXPECT_EQ(Check(sign_payload({{"certificate", pem}})), PeerRecordRejection::kMalformed);
  nlohmann::json many = nlohmann::json::array();
  for (int i = 1; i <= 17; ++i) many.push_back(fmt::format("192.0.2.{}:1", i));
  EXPECT_EQ(Check(sign_payload({{"certificate", pem}, {"endpoints", many}})),
            PeerRecordRejection::kMalformed);
  EXPECT_FALSE(SignPeerRecord(Record(0), node_key_).ok());
  PeerRecord binary = Record();
  binary.certificate_pem.push_back('\xff');
  EXPECT_FALSE(PeerRecordToPayload(binary).ok());
}

}  // namespace
}  // namespace plexus::identity
