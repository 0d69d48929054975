#include "identity/signed_document.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "base/base64.h"
#include "identity/test_util.h"

namespace plexus::identity {
namespace {

constexpr std::string_view kKind = "network-config";
constexpr std::string_view kPayload = R"({"a":1})";

class SignedDocumentTest : public ::testing::Test {
 protected:
  SignedDocument Sign(uint64_t version = 5, std::string_view kind = kKind,
                      std::string_view payload = kPayload) {
    Result<SignedDocument> doc = SignDocument(kind, version, 1'800'000'000, AsBytes(payload), key_);
    EXPECT_TRUE(doc.ok());
    return std::move(*doc);
  }
  DocumentRejection Check(const SignedDocument& doc, uint64_t held = 4) {
    return VerifySignedDocument(doc, key_.public_key(), kKind, held).rejection;
  }

  IdentityKey key_ = test::NewKey();
};

TEST_F(SignedDocumentTest, AcceptsFreshlySignedDocument) {
  DocumentVerdict v = VerifySignedDocument(Sign(), key_.public_key(), kKind, 4);
  EXPECT_TRUE(v.ok()) << v.message;
  EXPECT_EQ(Check(Sign(1), 0), DocumentRejection::kNone);
}

TEST_F(SignedDocumentTest, EncodeDecodeRoundTrip) {
  SignedDocument doc = Sign();
  Result<SignedDocument> back = DecodeSignedDocument(EncodeSignedDocument(doc));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->kind, doc.kind);
  EXPECT_EQ(back->version, doc.version);
  EXPECT_EQ(back->issued_at, doc.issued_at);
  EXPECT_EQ(back->payload, doc.payload);
  EXPECT_EQ(back->signer, doc.signer);
  EXPECT_EQ(back->signature, doc.signature);
  EXPECT_EQ(Check(*back), DocumentRejection::kNone);
  EXPECT_EQ(EncodeSignedDocument(*back), EncodeSignedDocument(doc));
}

TEST_F(SignedDocumentTest, RoundTripsNegativeIssuedAtAndMaxVersion) {
  Result<SignedDocument> doc = SignDocument(kKind, UINT64_MAX, -3, AsBytes(kPayload), key_);
  ASSERT_TRUE(doc.ok());
  Result<SignedDocument> back = DecodeSignedDocument(EncodeSignedDocument(*doc));
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->version, UINT64_MAX);
  EXPECT_EQ(back->issued_at, -3);
  EXPECT_EQ(Check(*back), DocumentRejection::kNone);
}

TEST_F(SignedDocumentTest, SignedBytesAreLengthPrefixed) {
  Bytes b = SignedBytes("ab", 0x0102030405060708, -1, AsBytes("xyz"));
  ASSERT_EQ(b.size(), 4 + kSignedDocumentDomain.size() + 4 + 2 + 8 + 8 + 4 + 3);
  EXPECT_EQ(LoadBe32(b.data()), kSignedDocumentDomain.size());
  size_t k = 4 + kSignedDocumentDomain.size();
  EXPECT_EQ(LoadBe32(b.data() + k), 2u);
  EXPECT_EQ(AsChars(ByteSpan(b).subspan(k + 4, 2)), "ab");
  EXPECT_EQ(LoadBe32(b.data() + k + 6), 0x01020304u);
  EXPECT_EQ(LoadBe32(b.data() + k + 10), 0x05060708u);
  EXPECT_EQ(LoadBe32(b.data() + k + 14), 0xffffffffu);
  EXPECT_EQ(LoadBe32(b.data() + k + 22), 3u);
  // Moving a byte between kind and payload changes the signed bytes.
  EXPECT_NE(SignedBytes("abx", 1, 0, AsBytes("yz")), SignedBytes("ab", 1, 0, AsBytes("xyz")));
}

TEST_F(SignedDocumentTest, RejectsTamperedPayload) {
  SignedDocument doc = Sign();
  doc.payload.back() = std::byte{'x'};
  EXPECT_EQ(Check(doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RejectsTamperedVersion) {
  SignedDocument doc = Sign();
  doc.version = 6;
  EXPECT_EQ(Check(doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RejectsTamperedIssuedAt) {
  SignedDocument doc = Sign();
  doc.issued_at += 1;
  EXPECT_EQ(Check(doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RejectsTamperedKind) {
  SignedDocument doc = Sign(5, "crl");
  doc.kind = std::string(kKind);
  EXPECT_EQ(Check(doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RejectsTamperedSignature) {
  SignedDocument doc = Sign();
  doc.signature[10] ^= std::byte{1};
  EXPECT_EQ(Check(doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RejectsAuthenticDocumentOfAnotherKind) {
  DocumentVerdict v = VerifySignedDocument(Sign(5, "crl"), key_.public_key(), kKind, 4);
  EXPECT_EQ(v.rejection, DocumentRejection::kWrongKind);
  EXPECT_EQ(v.ToStatus().error().message(), "wrong-kind: kind \"crl\", want \"network-config\"");
}

TEST_F(SignedDocumentTest, RejectsSignatureByAnotherKey) {
  IdentityKey other = test::NewKey();
  Result<SignedDocument> doc = SignDocument(kKind, 5, 0, AsBytes(kPayload), other);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(Check(*doc), DocumentRejection::kWrongSigner);
  // Claiming the trusted signer does not help: the signature is the other key's.
  doc->signer = key_.public_key();
  EXPECT_EQ(Check(*doc), DocumentRejection::kBadSignature);
}

TEST_F(SignedDocumentTest, RefusesOlderAndEqualVersions) {
  EXPECT_EQ(Check(Sign(5), 6), DocumentRejection::kOlderVersion);
  EXPECT_EQ(Check(Sign(5), 5), DocumentRejection::kSameVersion);
  EXPECT_EQ(Check(Sign(0), 0), DocumentRejection::kSameVersion);
  EXPECT_EQ(Check(Sign(6), 5), DocumentRejection::kNone);
}

TEST_F(SignedDocumentTest, RejectsMalformedShapes) {
  EXPECT_FALSE(SignDocument("", 1, 0, AsBytes(kPayload), key_).ok());
  EXPECT_FALSE(SignDocument(std::string(65, 'k'), 1, 0, AsBytes(kPayload), key_).ok());
  EXPECT_FALSE(SignDocument("bad kind", 1, 0, AsBytes(kPayload), key_).ok());
  EXPECT_FALSE(SignDocument("\xff", 1, 0, AsBytes(kPayload), key_).ok());
  SignedDocument doc = Sign();
  doc.kind.clear();
  EXPECT_EQ(Check(doc), DocumentRejection::kMalformed);
}

TEST_F(SignedDocumentTest, DecodeRejectsBadText) {
  nlohmann::json good = nlohmann::json::parse(EncodeSignedDocument(Sign()));
  auto decode = [](const nlohmann::json& j) { return DecodeSignedDocument(j.dump()); };
  EXPECT_FALSE(DecodeSignedDocument("not json").ok());
  EXPECT_FALSE(DecodeSignedDocument("[1]").ok());
  for (std::string_view field :
       {"kind", "version", "issued_at", "payload", "signer", "signature"}) {
    nlohmann::json j = good;
    j.erase(std::string(field));
    Result<SignedDocument> r = decode(j);
    ASSERT_FALSE(r.ok()) << field;
    EXPECT_NE(r.error().message().find(field), std::string::npos) << r.error().message();
  }
  nlohmann::json extra = good;
  extra["extra"] = 1;
  EXPECT_FALSE(decode(extra).ok());
  nlohmann::json negative = good;
  negative["version"] = -1;
  EXPECT_FALSE(decode(negative).ok());
  nlohmann::json short_key = good;
  short_key["signer"] = Base64Encode(AsBytes("short"));
  EXPECT_FALSE(decode(short_key).ok());
  nlohmann::json bad_b64 = good;
  bad_b64["signature"] = "!!!";
  EXPECT_FALSE(decode(bad_b64).ok());
  nlohmann::json string_version = good;
  string_version["version"] = "5";
  EXPECT_FALSE(decode(string_version).ok());
}

TEST(DocumentJsonTest, RequiresCanonicalObject) {
  EXPECT_TRUE(document_json::ParseCanonicalObject(AsBytes(R"({"a":1,"b":"x"})")).ok());
  EXPECT_FALSE(document_json::ParseCanonicalObject(AsBytes(R"({"b":1,"a":2})")).ok());
  EXPECT_FALSE(document_json::ParseCanonicalObject(AsBytes(R"({"a": 1})")).ok());
  EXPECT_FALSE(document_json::ParseCanonicalObject(AsBytes("[]")).ok());
  EXPECT_FALSE(document_json::ParseCanonicalObject(AsBytes("{")).ok());
}

}  // namespace
}  // namespace plexus::identity
