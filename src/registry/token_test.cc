#include "registry/token.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/fake_random.h"

namespace plexus {
namespace {

using std::chrono::hours;
using std::chrono::seconds;

constexpr UnixSeconds kNow{seconds(1'800'000'000)};

TEST(Base64UrlTest, MatchesRfc4648Vectors) {
  // RFC 4648 §10 vectors, without padding.
  EXPECT_EQ(Base64UrlEncode(AsBytes("")), "");
  EXPECT_EQ(Base64UrlEncode(AsBytes("f")), "Zg");
  EXPECT_EQ(Base64UrlEncode(AsBytes("fo")), "Zm8");
  EXPECT_EQ(Base64UrlEncode(AsBytes("foo")), "Zm9v");
  EXPECT_EQ(Base64UrlEncode(AsBytes("foobar")), "Zm9vYmFy");
  // The URL-safe alphabet: 0xfb 0xff -> "-_8" (standard base64 would be "+/8=").
  const ByteArray<2> b = {std::byte{0xfb}, std::byte{0xff}};
  EXPECT_EQ(Base64UrlEncode(b), "-_8");
}

TEST(Base64UrlTest, RoundTripsAndRejectsBadInput) {
  std::optional<Bytes> d = Base64UrlDecode("Zm9vYmE");
  ASSERT_TRUE(d);
  EXPECT_EQ(AsChars(*d), "fooba");
  EXPECT_FALSE(Base64UrlDecode("Zm9v+"));  // standard alphabet
  EXPECT_FALSE(Base64UrlDecode("Zg=="));   // padding
  EXPECT_FALSE(Base64UrlDecode("Z"));      // impossible length
  EXPECT_FALSE(Base64UrlDecode("Zh"));     // non-zero leftover bits
}

TEST(TokenTest, TextParsesBackToIdAndSecret) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(24), 1, 64);
  std::string text = t.Text();
  EXPECT_EQ(text.size(), 11 + 1 + 22u);
  Result<TokenText> parsed = ParseTokenText(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message();
  EXPECT_EQ(parsed->id, t.token.id);
  EXPECT_EQ(HashTokenSecret(parsed->secret), t.token.secret_hash);
  EXPECT_TRUE(CheckToken(t.token, parsed->secret, kNow).ok());
}

TEST(TokenTest, StoresOnlyAHashOfTheSecret) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(1), 1, 64);
  EXPECT_EQ(ToHex(t.token.secret_hash).find(ToHex(t.secret.span())), std::string::npos);
  EXPECT_EQ(t.token.secret_hash, HashTokenSecret(t.secret));
  EXPECT_EQ(t.token.expires_at, kNow + hours(1));
  EXPECT_EQ(t.token.created_at, kNow);
}

TEST(TokenTest, DifferentRandomGivesDifferentTokens) {
  testing::FakeRandom random(7);
  IssuedToken a = MakeToken(random, kNow, hours(1), 1, 64);
  IssuedToken b = MakeToken(random, kNow, hours(1), 1, 64);
  EXPECT_NE(a.Text(), b.Text());
  EXPECT_NE(a.token.id, b.token.id);
}

TEST(TokenTest, RejectsMalformedText) {
  EXPECT_FALSE(ParseTokenText("no-dot-here").ok());
  EXPECT_FALSE(ParseTokenText("AAAAAAAAAAA.short").ok());
  EXPECT_FALSE(ParseTokenText(".AAAAAAAAAAAAAAAAAAAAAA").ok());
  EXPECT_FALSE(ParseTokenText("AAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAA+").ok());
}

TEST(TokenTest, RejectsWrongSecret) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(1), 1, 64);
  IssuedToken other = MakeToken(random, kNow, hours(1), 1, 64);
  Status s = CheckToken(t.token, other.secret, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "wrong token secret");
}

TEST(TokenTest, RejectsAtAndAfterExpiry) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(1), 1, 64);
  EXPECT_TRUE(CheckToken(t.token, t.secret, kNow + hours(1) - seconds(1)).ok());
  Status s = CheckToken(t.token, t.secret, kNow + hours(1));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "token " + t.token.id + " has expired");
}

TEST(TokenTest, RejectsTokenWithNoUseLeft) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(1), 1, 64);
  t.token.uses_left = 0;
  Status s = CheckToken(t.token, t.secret, kNow);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().message(), "token " + t.token.id + " has no use left");
}

TEST(TokenTest, KeepsPrefixLengthAndUses) {
  testing::FakeRandom random(7);
  IssuedToken t = MakeToken(random, kNow, hours(1), 5, 56);
  EXPECT_EQ(t.token.prefix_length, 56);
  EXPECT_EQ(t.token.uses_left, 5);
}

}  // namespace
}  // namespace plexus
