#include "wireguard/ratelimiter.h"

#include <gtest/gtest.h>

#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);
IpAddress Ip(const char* s) {
  return *IpAddress::Parse(s);
}

TEST(RateLimiterTest, BurstThenRefillAtTwentyPerSecond) {
  HandshakeRateLimiter r;
  for (int i = 0; i < kHandshakeBurst; ++i) EXPECT_TRUE(r.Allow(Ip("192.0.2.1"), kT0)) << i;
  EXPECT_FALSE(r.Allow(Ip("192.0.2.1"), kT0));
  EXPECT_FALSE(r.Allow(Ip("192.0.2.1"), kT0 + 49ms));
  EXPECT_TRUE(r.Allow(Ip("192.0.2.1"), kT0 + 50ms));
  EXPECT_FALSE(r.Allow(Ip("192.0.2.1"), kT0 + 50ms));
}

TEST(RateLimiterTest, SourcesAreIndependentButIpv6GroupsBySlash64) {
  HandshakeRateLimiter r;
  for (int i = 0; i < kHandshakeBurst; ++i) ASSERT_TRUE(r.Allow(Ip("2001:db8::1"), kT0));
  EXPECT_FALSE(r.Allow(Ip("2001:db8::2"), kT0)) << "same /64";
  EXPECT_TRUE(r.Allow(Ip("2001:db8:0:1::1"), kT0)) << "other /64";
  EXPECT_TRUE(r.Allow(Ip("192.0.2.1"), kT0));
}

TEST(RateLimiterTest, IdleEntriesAreCollected) {
  HandshakeRateLimiter r;
  ASSERT_TRUE(r.Allow(Ip("192.0.2.1"), kT0));
  ASSERT_TRUE(r.Allow(Ip("192.0.2.2"), kT0));
  EXPECT_EQ(r.entries(), 2u);
  ASSERT_TRUE(r.Allow(Ip("192.0.2.3"), kT0 + 2s));
  EXPECT_EQ(r.entries(), 1u);
}

}  // namespace
}  // namespace plexus::wireguard
