#include "wireguard/cookie.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"
#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

struct CookieFixture {
  testing::FakeRandom random{9};
  crypto::PublicKey responder = crypto::PrivateKey::Generate(random).Public();
  CookieChecker checker{responder};
  PeerCookie initiator{responder};
  Endpoint source = *Endpoint::Parse("203.0.113.5:1000");
  Timestamp now = Timestamp::FromNanos(5'000'000'000);
  MessageInitiation msg{};

  CookieFixture() {
    SetHeader(msg.header, MessageType::kInitiation);
    msg.ephemeral[0] = std::byte{42};
  }
  MacState Check(bool under_load) {
    initiator.AddMacs(AsMutableSpan(msg), now);
    return checker.Validate(AsSpan(msg), source, under_load, now);
  }
  void GetCookie() {
    initiator.AddMacs(AsMutableSpan(msg), now);
    MessageCookieReply reply = checker.CreateReply(AsSpan(msg), 77, source, now, random);
    EXPECT_EQ(GetLe32(reply.receiver_index), 77u);
    ASSERT_TRUE(initiator.ConsumeReply(reply, now).ok());
  }
};

TEST(CookieTest, Mac1ValidWithoutCookie) {
  CookieFixture f;
  EXPECT_EQ(f.Check(false), MacState::kValidMac1NoCookie);
  EXPECT_EQ(f.Check(true), MacState::kValidMac1NoCookie);
  f.msg.ephemeral[1] = std::byte{1};  // changed after the MACs
  EXPECT_EQ(f.checker.Validate(AsSpan(f.msg), f.source, false, f.now), MacState::kInvalidMac1);
}

TEST(CookieTest, Mac1KeyedToTheResponder) {
  CookieFixture f;
  CookieChecker other(crypto::PrivateKey::Generate(f.random).Public());
  f.initiator.AddMacs(AsMutableSpan(f.msg), f.now);
  EXPECT_EQ(other.Validate(AsSpan(f.msg), f.source, false, f.now), MacState::kInvalidMac1);
}

TEST(CookieTest, CookieReplyEnablesMac2FromSameSourceOnly) {
  CookieFixture f;
  f.GetCookie();
  EXPECT_TRUE(f.initiator.HasValidCookie(f.now));
  EXPECT_EQ(f.Check(true), MacState::kValidMac2);
  f.source = *Endpoint::Parse("203.0.113.5:1001");
  EXPECT_EQ(f.Check(true), MacState::kValidMac1NoCookie);
}

TEST(CookieTest, CookieExpiresAndSecretRotates) {
  CookieFixture f;
  f.GetCookie();
  f.now = f.now + kCookieValidity;
  EXPECT_FALSE(f.initiator.HasValidCookie(f.now));
  EXPECT_EQ(f.Check(true), MacState::kValidMac1NoCookie) << "mac2 left zero";
  // A fresh cookie, then the responder's secret ages out: mac2 no longer counts.
  f.GetCookie();
  EXPECT_EQ(f.Check(true), MacState::kValidMac2);
  f.now = f.now + kCookieRefreshTime;
  EXPECT_EQ(f.checker.Validate(AsSpan(f.msg), f.source, true, f.now), MacState::kValidMac1NoCookie);
}

TEST(CookieTest, ReplyRejectedWhenUnexpectedOrForged) {
  CookieFixture f;
  MessageCookieReply reply = f.checker.CreateReply(AsSpan(f.msg), 1, f.source, f.now, f.random);
  EXPECT_EQ(f.initiator.ConsumeReply(reply, f.now).reason(), DropReason::kUnexpectedCookieReply);
  f.initiator.AddMacs(AsMutableSpan(f.msg), f.now);
  reply = f.checker.CreateReply(AsSpan(f.msg), 1, f.source, f.now, f.random);
  MessageCookieReply forged = reply;
  forged.encrypted_cookie[3] ^= std::byte{1};
  EXPECT_EQ(f.initiator.ConsumeReply(forged, f.now).reason(), DropReason::kCookieDecryptFailed);
  EXPECT_TRUE(f.initiator.ConsumeReply(reply, f.now).ok());
  EXPECT_EQ(f.initiator.ConsumeReply(reply, f.now).reason(), DropReason::kUnexpectedCookieReply)
      << "one cookie per MACed message";
}

}  // namespace
}  // namespace plexus::wireguard
