#include "identity/revocation_list.h"

#include <gtest/gtest.h>

#include "identity/test_util.h"

namespace plexus::identity {
namespace {

RevocationList List(uint64_t version, const std::vector<std::string>& serials) {
  Result<RevocationList> list = RevocationList::Create(version, serials);
  EXPECT_TRUE(list.ok()) << (list ? "" : list.error().message());
  return list ? *list : RevocationList();
}

TEST(NormalizeSerialHexTest, IgnoresCaseAndLeadingZeros) {
  EXPECT_EQ(NormalizeSerialHex("00AbC1"), "abc1");
  EXPECT_EQ(NormalizeSerialHex("0"), "0");
  EXPECT_EQ(NormalizeSerialHex("0000"), "0");
  EXPECT_EQ(NormalizeSerialHex("10"), "10");
  EXPECT_EQ(NormalizeSerialHex(""), std::nullopt);
  EXPECT_EQ(NormalizeSerialHex("0x12"), std::nullopt);
  EXPECT_EQ(NormalizeSerialHex("12 "), std::nullopt);
}

TEST(RevocationListTest, LookupIgnoresCaseAndLeadingZeros) {
  RevocationList list = List(3, {"00DEADbeef", "1"});
  EXPECT_TRUE(list.IsRevoked("deadbeef"));
  EXPECT_TRUE(list.IsRevoked("DEADBEEF"));
  EXPECT_TRUE(list.IsRevoked("000000deadBEEF"));
  EXPECT_TRUE(list.IsRevoked("01"));
  EXPECT_FALSE(list.IsRevoked("deadbee"));
  EXPECT_FALSE(list.IsRevoked("10"));
  EXPECT_FALSE(list.IsRevoked("zz"));
  EXPECT_FALSE(list.IsRevoked(""));
  EXPECT_EQ(list.serials(), (std::vector<std::string>{"1", "deadbeef"}));
}

TEST(RevocationListTest, CreateRejectsNonHexNamingTheEntry) {
  Result<RevocationList> list = RevocationList::Create(1, {"ab", "xyz"});
  ASSERT_FALSE(list.ok());
  EXPECT_NE(list.error().message().find("serials[1]"), std::string::npos);
}

TEST(RevocationListTest, MatchesCertificateSerial) {
  testing::FakeRandom random;
  CertificateAuthority ca = test::NewCa(random);
  IdentityKey node = test::NewKey();
  Certificate cert = test::Issue(ca, test::NodeRequest(node), random);
  std::string upper = cert.SerialHex();
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(List(1, {"000" + upper}).IsRevoked(cert));
  EXPECT_FALSE(List(1, {"1234"}).IsRevoked(cert));
}

TEST(RevocationListTest, OnlyStrictlyNewerVersionReplaces) {
  RevocationList held = List(5, {"aa"});
  EXPECT_FALSE(held.MergeFrom(List(4, {"bb"})));
  EXPECT_FALSE(held.MergeFrom(List(5, {"cc"})));
  EXPECT_TRUE(held.IsRevoked("aa"));
  EXPECT_FALSE(held.IsRevoked("cc"));
  EXPECT_TRUE(held.MergeFrom(List(6, {"bb"})));
  EXPECT_EQ(held.version(), 6u);
  EXPECT_TRUE(held.IsRevoked("bb"));
  EXPECT_FALSE(held.IsRevoked("aa"));
}

TEST(RevocationListTest, SignedRoundTripThroughText) {
  IdentityKey ca_key = test::NewKey();
  RevocationList list = List(7, {"0A", "b", "c0ffee"});
  Result<SignedDocument> doc = list.Sign(test::kNow, ca_key);
  ASSERT_TRUE(doc.ok());
  Result<SignedDocument> decoded = DecodeSignedDocument(EncodeSignedDocument(*doc));
  ASSERT_TRUE(decoded.ok());
  VerifiedRevocationList v = VerifyRevocationList(*decoded, ca_key.public_key(), 6);
  ASSERT_TRUE(v.verdict.ok()) << v.verdict.message;
  EXPECT_EQ(v.list.version(), 7u);
  EXPECT_EQ(v.list.serials(), list.serials());
  EXPECT_TRUE(v.list.IsRevoked("00a"));
}

TEST(RevocationListTest, VerifyRejectsReplayOtherKeyAndTampering) {
  IdentityKey ca_key = test::NewKey();
  IdentityKey other = test::NewKey();
  Result<SignedDocument> doc = List(7, {"aa"}).Sign(test::kNow, ca_key);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(VerifyRevocationList(*doc, ca_key.public_key(), 7).verdict.rejection,
            DocumentRejection::kSameVersion);
  EXPECT_EQ(VerifyRevocationList(*doc, ca_key.public_key(), 8).verdict.rejection,
            DocumentRejection::kOlderVersion);
  EXPECT_EQ(VerifyRevocationList(*doc, other.public_key(), 0).verdict.rejection,
            DocumentRejection::kWrongSigner);
  SignedDocument tampered = *doc;
  tampered.payload = List(7, {}).ToPayload();  // drop the revocation
  EXPECT_EQ(VerifyRevocationList(tampered, ca_key.public_key(), 0).verdict.rejection,
            DocumentRejection::kBadSignature);
}

TEST(RevocationListTest, VerifyRejectsAuthenticButMalformedPayload) {
  IdentityKey ca_key = test::NewKey();
  for (std::string_view payload :
       {R"({"serials":["xyz"]})", R"({"serials":"aa"})", R"({"serials":[1]})", R"({})",
        R"({"extra":1,"serials":[]})", R"({"serials": []})"}) {
    Result<SignedDocument> doc =
        SignDocument(kRevocationListKind, 2, test::kNow, AsBytes(payload), ca_key);
    ASSERT_TRUE(doc.ok());
    VerifiedRevocationList v = VerifyRevocationList(*doc, ca_key.public_key(), 1);
    EXPECT_EQ(v.verdict.rejection, DocumentRejection::kMalformed) << payload;
  }
}

TEST(RevocationListTest, VerifyRejectsNetworkConfigKind) {
  IdentityKey ca_key = test::NewKey();
  Result<SignedDocument> doc =
      SignDocument("network-config", 2, test::kNow, List(2, {}).ToPayload(), ca_key);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ(VerifyRevocationList(*doc, ca_key.public_key(), 1).verdict.rejection,
            DocumentRejection::kWrongKind);
}

}  // namespace
}  // namespace plexus::identity
