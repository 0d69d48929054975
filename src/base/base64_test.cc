#include "base/base64.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

// RFC 4648 §10 test vectors.
TEST(Base64, MatchesRfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> kVectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : kVectors) {
    EXPECT_EQ(Base64Encode(AsBytes(plain)), encoded);
    auto decoded = Base64Decode(encoded);
    ASSERT_TRUE(decoded.has_value()) << encoded;
    EXPECT_EQ(AsChars(*decoded), plain);
  }
}

TEST(Base64, RejectsMalformedInput) {
  EXPECT_FALSE(Base64Decode("Zm9").has_value());
  EXPECT_FALSE(Base64Decode("Zm9v!A==").has_value());
  EXPECT_FALSE(Base64Decode("Z=9v").has_value());
  EXPECT_FALSE(Base64Decode("Zg==Zg==").has_value());
}

TEST(Base64, IgnoresSurroundingWhitespace) {
  auto d = Base64Decode("  Zm9v\n");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(AsChars(*d), "foo");
}

}  // namespace
}  // namespace plexus
