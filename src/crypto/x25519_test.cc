// X25519 against RFC 7748 vectors, low-order point rejection, and key
// encodings as produced by wireguard-tools.
#include "crypto/x25519.h"

#include <gtest/gtest.h>

#include <set>

#include "testing/fake_random.h"
#include "testing/hex.h"

namespace plexus::crypto {
namespace {

using testing::Unhex;

Secret<kKeySize> SecretFromHex(std::string_view hex) {
  return Secret<kKeySize>(Unhex(hex));
}

PublicKey PublicFromHex(std::string_view hex) {
  std::optional<PublicKey> k = PublicKey::FromBytes(Unhex(hex));
  EXPECT_TRUE(k.has_value());
  return k.value_or(PublicKey{});
}

std::string Dh(std::string_view scalar, std::string_view u) {
  Secret<kKeySize> out;
  EXPECT_TRUE(X25519(out, SecretFromHex(scalar), PublicFromHex(u)));
  return ToHex(out.span());
}

// RFC 7748 §5.2, the two single-call test vectors. The second u-coordinate
// has its top bit set, which X25519 must ignore (RFC 7748 §5).
TEST(X25519Test, MatchesRfc7748Section52Vectors) {
  EXPECT_EQ(Dh("a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
               "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c"),
            "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  EXPECT_EQ(Dh("4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
               "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493"),
            "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
}

// RFC 7748 §5.2 iteration: k = u = 9; then repeatedly (k, u) = (X25519(k, u), k).
TEST(X25519Test, MatchesRfc7748IteratedResultsAfterOneAndThousandRounds) {
  ByteArray<kKeySize> k{};
  k[0] = std::byte{9};
  ByteArray<kKeySize> u = k;
  for (int i = 1; i <= 1000; ++i) {
    Secret<kKeySize> out;
    ASSERT_TRUE(X25519(out, Secret<kKeySize>(k), PublicKey(u)));
    u = k;
    std::memcpy(k.data(), out.data(), kKeySize);
    if (i == 1) {
      EXPECT_EQ(ToHex(k), "422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079");
    }
  }
  EXPECT_EQ(ToHex(k), "684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51");
}

// RFC 7748 §6.1: Alice's and Bob's key pairs and their shared secret.
TEST(X25519Test, MatchesRfc7748Section61DiffieHellman) {
  const PrivateKey alice = PrivateKey::FromBytes(
      SecretFromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  const PrivateKey bob = PrivateKey::FromBytes(
      SecretFromHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"));
  EXPECT_EQ(ToHex(alice.Public().span()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  EXPECT_EQ(ToHex(bob.Public().span()),
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  Secret<kKeySize> a, b;
  ASSERT_TRUE(X25519(a, alice.secret(), bob.Public()));
  ASSERT_TRUE(X25519(b, bob.secret(), alice.Public()));
  EXPECT_EQ(ToHex(a.span()), "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  EXPECT_EQ(ToHex(b.span()), ToHex(a.span()));
}

// Points of order 1, 2, 4 and 8 (and non-canonical encodings of them) give
// an all-zero shared secret, which WireGuard must reject (WireGuard paper §5.4.4
// / RFC 7748 §6.1 "check ... is not all-zero").
TEST(X25519Test, RejectsLowOrderPoints) {
  const PrivateKey alice = PrivateKey::FromBytes(
      SecretFromHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"));
  for (std::string_view point : {
           "0000000000000000000000000000000000000000000000000000000000000000",
           "0100000000000000000000000000000000000000000000000000000000000000",
           "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
           "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
           "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
           "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
           "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
       }) {
    Secret<kKeySize> out(Unhex("1111111111111111111111111111111111111111111111111111111111111111"));
    EXPECT_FALSE(X25519(out, alice.secret(), PublicFromHex(point))) << point;
    EXPECT_TRUE(out.IsZero()) << point;
  }
}

// A pair made once with wireguard-tools: `wg genkey | tee >(wg pubkey)`.
TEST(X25519Test, InteroperatesWithWgGenkeyAndWgPubkey) {
  constexpr std::string_view kPrivate = "CIPdabp8J+9N4bB+yB3XpzGPP/DsGEWzxEAZdc6P/nU=";
  constexpr std::string_view kPublic = "0nkgSP8P2E/FbWJyeO3HLVYuHg1PJt5CGwsJPxEHuUE=";
  std::optional<PrivateKey> priv = PrivateKey::FromBase64(kPrivate);
  ASSERT_TRUE(priv.has_value());
  EXPECT_EQ(priv->ToBase64(), kPrivate);
  EXPECT_EQ(priv->Public().ToBase64(), kPublic);
  std::optional<PublicKey> pub = PublicKey::FromBase64(kPublic);
  ASSERT_TRUE(pub.has_value());
  EXPECT_EQ(*pub, priv->Public());
  EXPECT_EQ(pub->ToBase64(), kPublic);
}

// `echo <key> | wg pubkey` clamps unclamped input; FromBase64 does the same.
TEST(X25519Test, ClampsUnclampedKeysLikeWgPubkey) {
  std::optional<PrivateKey> ones =
      PrivateKey::FromBase64("//////////////////////////////////////////8=");
  ASSERT_TRUE(ones.has_value());
  EXPECT_EQ(ones->Public().ToBase64(), "hHwNLDdSNPNl5mCVUYejc1oPdhPRYJ06ak2MU66qWiI=");
  EXPECT_EQ(ToHex(ones->secret().span()),
            "f8ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  std::optional<PrivateKey> zeros =
      PrivateKey::FromBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
  ASSERT_TRUE(zeros.has_value());
  EXPECT_EQ(zeros->Public().ToBase64(), "L+V9o0fNYkMVKNqsX7spBzD/9oSvxM/C7ZCZX1jLO3Q=");
}

TEST(X25519Test, RejectsMalformedBase64Keys) {
  EXPECT_FALSE(PrivateKey::FromBase64("").has_value());
  EXPECT_FALSE(PrivateKey::FromBase64("not base64!").has_value());
  // 31 and 33 bytes of valid base64.
  EXPECT_FALSE(PublicKey::FromBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").has_value());
  EXPECT_FALSE(
      PublicKey::FromBase64("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==").has_value());
  EXPECT_FALSE(PublicKey::FromBytes(Bytes(31)).has_value());
  EXPECT_TRUE(PublicKey::FromBytes(Bytes(32)).has_value());
}

TEST(X25519Test, GenerateIsDeterministicGivenTheRandomAndClamped) {
  testing::FakeRandom r1(7), r2(7), r3(8);
  const PrivateKey a = PrivateKey::Generate(r1);
  const PrivateKey b = PrivateKey::Generate(r2);
  const PrivateKey c = PrivateKey::Generate(r3);
  EXPECT_EQ(a.Public(), b.Public());
  EXPECT_NE(a.Public(), c.Public());
  const std::byte* s = a.secret().data();
  EXPECT_EQ(s[0] & std::byte{7}, std::byte{0});
  EXPECT_EQ(s[31] & std::byte{0xc0}, std::byte{0x40});
}

TEST(X25519Test, GeneratedPairsAgreeOnASharedSecret) {
  testing::FakeRandom random(99);
  const PrivateKey a = PrivateKey::Generate(random);
  const PrivateKey b = PrivateKey::Generate(random);
  Secret<kKeySize> ab, ba;
  ASSERT_TRUE(X25519(ab, a.secret(), b.Public()));
  ASSERT_TRUE(X25519(ba, b.secret(), a.Public()));
  EXPECT_EQ(ToHex(ab.span()), ToHex(ba.span()));
  EXPECT_FALSE(ab.IsZero());
}

TEST(X25519Test, PublicKeyIsAValueType) {
  testing::FakeRandom random(3);
  const PublicKey a = PrivateKey::Generate(random).Public();
  const PublicKey b = PrivateKey::Generate(random).Public();
  EXPECT_TRUE(PublicKey().IsZero());
  EXPECT_FALSE(a.IsZero());
  EXPECT_NE(a, b);
  EXPECT_TRUE((a < b) != (b < a));
  std::set<PublicKey> keys = {a, b, a};
  EXPECT_EQ(keys.size(), 2u);
  EXPECT_NE(PublicKeyHash{}(a), PublicKeyHash{}(b));
}

TEST(X25519Test, CloneCopiesTheKey) {
  testing::FakeRandom random(5);
  const PrivateKey a = PrivateKey::Generate(random);
  const PrivateKey b = a.Clone();
  EXPECT_EQ(a.Public(), b.Public());
  EXPECT_EQ(a.ToBase64(), b.ToBase64());
}

}  // namespace
}  // namespace plexus::crypto
