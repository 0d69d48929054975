#include "wireguard/noise.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"

namespace plexus::wireguard {
namespace {

using testing::FakeRandom;

struct Sides {
  FakeRandom random{5};
  StaticIdentity i{crypto::PrivateKey::Generate(random)};
  StaticIdentity r{crypto::PrivateKey::Generate(random)};
  Handshake hi{i, r.public_key, PresharedKey()};
  Handshake hr{r, i.public_key, PresharedKey()};
  Timestamp now = Timestamp::FromNanos(1'000'000'000);
  WallTime wall{1'700'000'000, 0};

  Verdict<Handshake*> Consume(const MessageInitiation& m) {
    return ConsumeInitiation(
        m, r, [&](const crypto::PublicKey& k) { return k == i.public_key ? &hr : nullptr; }, now);
  }
};

TEST(NoiseTest, FullHandshakeDerivesMatchingKeys) {
  Sides s;
  auto init = CreateInitiation(s.hi, s.i, 7, s.wall, s.random);
  ASSERT_TRUE(init.ok());
  EXPECT_EQ(s.hi.state, HandshakeState::kCreatedInitiation);
  ASSERT_TRUE(s.Consume(*init).ok());
  EXPECT_EQ(s.hr.state, HandshakeState::kConsumedInitiation);
  EXPECT_EQ(s.hr.remote_index, 7u);
  auto resp = CreateResponse(s.hr, 9, s.random);
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(s.hr.state, HandshakeState::kCreatedResponse);
  ASSERT_TRUE(ConsumeResponse(*resp, s.i, s.hi).ok());
  EXPECT_EQ(s.hi.state, HandshakeState::kConsumedResponse);
  EXPECT_EQ(s.hi.chaining_key.span()[0], s.hr.chaining_key.span()[0]);
  EXPECT_EQ(s.hi.hash, s.hr.hash);

  auto ki = BeginSession(s.hi, s.now);
  auto kr = BeginSession(s.hr, s.now);
  ASSERT_TRUE(ki && kr);
  EXPECT_EQ(s.hi.state, HandshakeState::kZeroed);
  EXPECT_TRUE(s.hi.chaining_key.IsZero());
  EXPECT_TRUE(ki->is_initiator());
  EXPECT_FALSE(kr->is_initiator());
  EXPECT_EQ(ki->local_index(), 7u);
  EXPECT_EQ(ki->remote_index(), 9u);
  EXPECT_EQ(kr->local_index(), 9u);
  EXPECT_EQ(kr->remote_index(), 7u);
  Bytes msg(Keypair::MessageSize(16));
  ASSERT_TRUE(ki->Seal(msg, AsBytes("hi"), 1420, s.now).ok());
  Bytes plain(16);
  ASSERT_TRUE(kr->Open(plain, msg, s.now).ok());
  ASSERT_TRUE(kr->Seal(msg, AsBytes("yo"), 1420, s.now).ok());
  ASSERT_TRUE(ki->Open(plain, msg, s.now).ok());
  EXPECT_EQ(AsChars(ByteSpan(plain).first(2)), "yo");
}

TEST(NoiseTest, TamperedInitiationLeavesStateUntouched) {
  Sides s;
  auto init = CreateInitiation(s.hi, s.i, 7, s.wall, s.random);
  for (size_t offset : {8u, 40u, 100u}) {  // ephemeral, static, timestamp
    MessageInitiation bad = *init;
    AsMutableSpan(bad)[offset] ^= std::byte{1};
    auto v = s.Consume(bad);
    ASSERT_FALSE(v.ok());
    EXPECT_EQ(v.reason(), DropReason::kHandshakeDecryptFailed) << offset;
    EXPECT_EQ(s.hr.state, HandshakeState::kZeroed);
  }
  EXPECT_TRUE(s.Consume(*init).ok());
}

TEST(NoiseTest, ResponseForWrongStateOrTamperedIsRejected) {
  Sides s;
  auto init = CreateInitiation(s.hi, s.i, 7, s.wall, s.random);
  ASSERT_TRUE(s.Consume(*init).ok());
  auto resp = CreateResponse(s.hr, 9, s.random);
  MessageResponse bad = *resp;
  bad.encrypted_nothing[0] ^= std::byte{1};
  EXPECT_EQ(ConsumeResponse(bad, s.i, s.hi).reason(), DropReason::kHandshakeDecryptFailed);
  EXPECT_EQ(s.hi.state, HandshakeState::kCreatedInitiation);
  ASSERT_TRUE(ConsumeResponse(*resp, s.i, s.hi).ok());
  EXPECT_EQ(ConsumeResponse(*resp, s.i, s.hi).reason(), DropReason::kUnexpectedResponse);
}

TEST(NoiseTest, TimestampMustIncrease) {
  Sides s;
  auto first = CreateInitiation(s.hi, s.i, 1, s.wall, s.random);
  ASSERT_TRUE(s.Consume(*first).ok());
  s.now = s.now + 1s;
  auto same = CreateInitiation(s.hi, s.i, 2, s.wall, s.random);
  EXPECT_EQ(s.Consume(*same).reason(), DropReason::kStaleTimestamp);
  auto older = CreateInitiation(s.hi, s.i, 3, {s.wall.seconds - 1, 999'999'999}, s.random);
  EXPECT_EQ(s.Consume(*older).reason(), DropReason::kStaleTimestamp);
  auto newer = CreateInitiation(s.hi, s.i, 4, {s.wall.seconds, 20'000'000}, s.random);
  EXPECT_TRUE(s.Consume(*newer).ok());
}

TEST(NoiseTest, UnknownPeerAndLowOrderKeysRejected) {
  Sides s;
  auto init = CreateInitiation(s.hi, s.i, 1, s.wall, s.random);
  auto v = ConsumeInitiation(
      *init, s.r, [](const crypto::PublicKey&) { return nullptr; }, s.now);
  EXPECT_EQ(v.reason(), DropReason::kUnknownPeer);
  Handshake low(s.i, crypto::PublicKey(), PresharedKey());  // the all-zero point
  EXPECT_TRUE(low.static_static.IsZero());
  EXPECT_EQ(CreateInitiation(low, s.i, 1, s.wall, s.random).reason(), DropReason::kBadPublicKey);
}

TEST(NoiseTest, Tai64nLayoutAndRounding) {
  Tai64n t = MakeTai64n({0, 0});
  EXPECT_EQ(ToHex(t), "400000000000000a00000000");
  t = MakeTai64n({1, (1u << 24) + 5});
  EXPECT_EQ(ToHex(t), "400000000000000b01000000");
  t = MakeTai64n({1'700'000'000, (1u << 24) - 1});
  EXPECT_EQ(ToHex(ByteSpan(t).subspan(8)), "00000000") << "rounded down to 2^24 ns";
}

TEST(NoiseTest, StateNamesArePrintable) {
  EXPECT_EQ(ToString(HandshakeState::kZeroed), "zeroed");
  EXPECT_EQ(ToString(HandshakeState::kConsumedResponse), "consumed_response");
}

}  // namespace
}  // namespace plexus::wireguard
