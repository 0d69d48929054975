#include "registry/join_url.h"

#include <gtest/gtest.h>

namespace plexus {
namespace {

constexpr std::string_view kToken = "q3VhbT1ZmM8.Zm9vYmFyYmF6cXV4cXV1eA";
const std::string kFp(64, 'a');

std::string Url(std::string_view authority, std::string_view fragment = "") {
  std::string f = fragment.empty() ? "sha256=" + kFp : std::string(fragment);
  return fmt::format("plexus://{}/{}#{}", authority, kToken, f);
}

TEST(JoinUrlTest, ParsesHostPortTokenAndFingerprint) {
  Result<JoinUrl> u = ParseJoinUrl(Url("registry.example:9443"));
  ASSERT_TRUE(u.ok()) << u.error().message();
  EXPECT_EQ(u->host, "registry.example");
  EXPECT_EQ(u->port, 9443);
  EXPECT_EQ(u->token, kToken);
  EXPECT_EQ(u->ca_fingerprint, kFp);
}

TEST(JoinUrlTest, PortDefaultsAndIpv6IsBracketed) {
  Result<JoinUrl> u = ParseJoinUrl(Url("192.0.2.7"));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->port, 8443);
  Result<JoinUrl> v6 = ParseJoinUrl(Url("[2001:db8::1]:443"));
  ASSERT_TRUE(v6.ok()) << v6.error().message();
  EXPECT_EQ(v6->host, "2001:db8::1");
  EXPECT_EQ(v6->port, 443);
  EXPECT_EQ(v6->ToString(), Url("[2001:db8::1]:443"));
}

TEST(JoinUrlTest, FingerprintIsCaseInsensitiveAndPrintedLowercase) {
  Result<JoinUrl> u = ParseJoinUrl(Url("h:1", "sha256=" + std::string(64, 'F')));
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->ca_fingerprint, std::string(64, 'f'));
}

TEST(JoinUrlTest, RoundTrips) {
  JoinUrl u{"reg.example", 8443, std::string(kToken), kFp};
  Result<JoinUrl> back = ParseJoinUrl(u.ToString());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->ToString(), u.ToString());
}

TEST(JoinUrlTest, RejectsEachBrokenPartNamingIt) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"https://h:1/" + std::string(kToken) + "#sha256=" + kFp, "must start with plexus://"},
      {"plexus://h:1/" + std::string(kToken), "no #sha256="},
      {"plexus://h:1#sha256=" + kFp, "no /<token>"},
      {Url("h:0"), "port"},
      {Url("h:65536"), "port"},
      {Url("h:x"), "port"},
      {Url("h:"), "port"},
      {Url("[2001:db8::1"), "host"},
      {Url("[192.0.2.1]:1"), "host"},
      {Url("bad host:1"), "host"},
      {Url(""), "host"},
      {Url("h:1", "sha1=" + kFp), "fingerprint"},
      {Url("h:1", "sha256=abc"), "fingerprint"},
      {Url("h:1", "sha256=" + std::string(64, 'g')), "fingerprint"},
      {"plexus://h:1/not-a-token#sha256=" + kFp, "token"},
  };
  for (const auto& [text, part] : cases) {
    Result<JoinUrl> u = ParseJoinUrl(text);
    ASSERT_FALSE(u.ok()) << text;
    EXPECT_NE(u.error().message().find(part), std::string::npos)
        << text << " -> " << u.error().message();
  }
}

}  // namespace
}  // namespace plexus
