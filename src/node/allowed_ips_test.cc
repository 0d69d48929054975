#include "node/allowed_ips.h"

#include <gtest/gtest.h>

#include <vector>

#include "testing/fake_random.h"

namespace plexus::node {
namespace {

Prefix P(std::string_view text) {
  return *Prefix::Parse(text);
}
IpAddress A(std::string_view text) {
  return *IpAddress::Parse(text);
}

TEST(AllowedIps, LongestPrefixWins) {
  AllowedIps t;
  ASSERT_TRUE(t.Insert(P("fd00::/48"), 1).ok());
  ASSERT_TRUE(t.Insert(P("fd00:0:0:1::/64"), 2).ok());
  ASSERT_TRUE(t.Insert(P("fd00:0:0:1::5/128"), 3).ok());
  ASSERT_TRUE(t.Insert(P("10.0.0.0/8"), 4).ok());
  ASSERT_TRUE(t.Insert(P("10.1.0.0/16"), 5).ok());
  EXPECT_EQ(t.Lookup(A("fd00::9")), 1u);
  EXPECT_EQ(t.Lookup(A("fd00:0:0:1::9")), 2u);
  EXPECT_EQ(t.Lookup(A("fd00:0:0:1::5")), 3u);
  EXPECT_EQ(t.Lookup(A("10.2.3.4")), 4u);
  EXPECT_EQ(t.Lookup(A("10.1.3.4")), 5u);
  EXPECT_FALSE(t.Lookup(A("fd01::1")).has_value());
  EXPECT_FALSE(t.Lookup(A("11.0.0.1")).has_value());
}

TEST(AllowedIps, FamiliesAreSeparate) {
  AllowedIps t;
  ASSERT_TRUE(t.Insert(P("0.0.0.0/0"), 1).ok());
  EXPECT_FALSE(t.Lookup(A("::1")).has_value());
  ASSERT_TRUE(t.Insert(P("::/0"), 2).ok());
  EXPECT_EQ(t.Lookup(A("::1")), 2u);
  EXPECT_EQ(t.Lookup(A("1.2.3.4")), 1u);
}

TEST(AllowedIps, HostBitsAreIgnoredAndDuplicatesRefused) {
  AllowedIps t;
  ASSERT_TRUE(t.Insert(P("10.0.0.7/24"), 1).ok());
  EXPECT_EQ(t.Lookup(A("10.0.0.200")), 1u);
  Status dup = t.Insert(P("10.0.0.0/24"), 2);
  ASSERT_FALSE(dup.ok());
  EXPECT_NE(dup.error().message().find("10.0.0.0/24"), std::string::npos);
}

// Checks lookups against a deliberately naive model: scan every prefix.
TEST(AllowedIps, MatchesNaiveModelOnRandomTables) {
  testing::FakeRandom random(7);
  for (int round = 0; round < 50; ++round) {
    AllowedIps t;
    std::vector<std::pair<Prefix, uint32_t>> model;
    for (uint32_t i = 0; i < 64; ++i) {
      bool v6 = random.Uniform(2) == 1;
      std::array<uint8_t, 16> b{};
      // Few distinct high bytes so prefixes nest and collide.
      b[0] = v6 ? 0xfd : 10;
      b[1] = static_cast<uint8_t>(random.Uniform(4));
      b[2] = static_cast<uint8_t>(random.Uniform(4));
      IpAddress a = v6 ? IpAddress::V6(b) : IpAddress::V4({b[0], b[1], b[2], b[3]});
      int len = static_cast<int>(random.Uniform(v6 ? 129 : 33));
      Prefix p(a, len);
      bool dup = false;
      for (auto& [q, v] : model) dup |= q.Network() == p.Network();
      EXPECT_EQ(t.Insert(p, i).ok(), !dup);
      if (!dup) model.emplace_back(p, i);
    }
    for (int probe = 0; probe < 500; ++probe) {
      bool v6 = random.Uniform(2) == 1;
      std::array<uint8_t, 16> b{};
      b[0] = v6 ? 0xfd : 10;
      for (int k = 1; k < 16; ++k) b[k] = static_cast<uint8_t>(random.Uniform(k < 3 ? 4 : 256));
      IpAddress a = v6 ? IpAddress::V6(b) : IpAddress::V4({b[0], b[1], b[2], b[3]});
      std::optional<uint32_t> want;
      int best = -1;
      for (auto& [q, v] : model) {
        if (q.Contains(a) && q.length() > best) {
          best = q.length();
          want = v;
        }
      }
      EXPECT_EQ(t.Lookup(a), want) << a.ToString();
    }
  }
}

}  // namespace
}  // namespace plexus::node
