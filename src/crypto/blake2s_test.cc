// BLAKE2s, HMAC-BLAKE2s and the Noise KDF against published vectors and
// against OpenSSL 3 as an independent implementation.
#include "crypto/blake2s.h"

#include <gtest/gtest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include <string>

#include "testing/hex.h"

namespace plexus::crypto {
namespace {

using testing::Unhex;

Bytes Sequence(size_t n) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(i);
  return b;
}

// OpenSSL's BLAKE2s-256 (EVP_blake2s256), unkeyed.
Bytes OpenSslBlake2s(ByteSpan data) {
  Bytes out(32);
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), U8(MutableByteSpan(out)), &len, EVP_blake2s256(),
                       nullptr),
            1);
  return out;
}

// OpenSSL's keyed BLAKE2s (EVP_MAC "BLAKE2SMAC") with an `out_size`-byte digest.
Bytes OpenSslBlake2sMac(ByteSpan key, ByteSpan data, size_t out_size) {
  EVP_MAC* mac = EVP_MAC_fetch(nullptr, "BLAKE2SMAC", nullptr);
  EVP_MAC_CTX* ctx = EVP_MAC_CTX_new(mac);
  OSSL_PARAM params[] = {OSSL_PARAM_construct_size_t(OSSL_MAC_PARAM_SIZE, &out_size),
                         OSSL_PARAM_construct_end()};
  Bytes out(out_size);
  size_t len = 0;
  EXPECT_EQ(EVP_MAC_init(ctx, U8(key), key.size(), params), 1);
  EXPECT_EQ(EVP_MAC_update(ctx, U8(data), data.size()), 1);
  EXPECT_EQ(EVP_MAC_final(ctx, U8(MutableByteSpan(out)), &len, out.size()), 1);
  EXPECT_EQ(len, out_size);
  EVP_MAC_CTX_free(ctx);
  EVP_MAC_free(mac);
  return out;
}

// OpenSSL's HMAC over BLAKE2s-256.
Bytes OpenSslHmac(ByteSpan key, ByteSpan data) {
  Bytes out(32);
  unsigned int len = 0;
  EXPECT_NE(HMAC(EVP_blake2s256(), key.data(), static_cast<int>(key.size()), U8(data), data.size(),
                 U8(MutableByteSpan(out)), &len),
            nullptr);
  return out;
}

Bytes ToBytes(ByteSpan b) {
  return Bytes(b.begin(), b.end());
}

TEST(Blake2sTest, HashesAbcAsRfc7693AppendixB) {
  EXPECT_EQ(ToHex(Blake2sHash({AsBytes("abc")})),
            "508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982");
}

// The empty-string digest from the BLAKE2 reference test vectors
// (blake2.net, blake2s-kat.txt / blake2-kat.json, unkeyed, in = "").
TEST(Blake2sTest, HashesEmptyInput) {
  EXPECT_EQ(ToHex(Blake2sHash({})),
            "69217a3079908094e11121d042354a7c1f55b6482ca1a51e1b250dfd1ed0eef9");
}

// Keyed vectors from the BLAKE2 reference KAT (blake2.net blake2s-kat.txt,
// also in the reference repository's testvectors/blake2-kat.json): key =
// 00 01 .. 1f, in = 00 01 .. (n-1), 32-byte output.
TEST(Blake2sTest, KeyedMatchesReferenceKat) {
  const Bytes key = Sequence(32);
  const struct {
    size_t n;
    std::string_view digest;
  } kCases[] = {
      {0, "48a8997da407876b3d79c0d92325ad3b89cbb754d86ab71aee047ad345fd2c49"},
      {1, "40d15fee7c328830166ac3f918650f807e7e01e177258cdc0a39b11f598066f1"},
      {2, "6bb71300644cd3991b26ccd4d274acd1adeab8b1d7914546c1198bbe9fc9d803"},
      {63, "c65382513f07460da39833cb666c5ed82e61b9e998f4b0c4287cee56c3cc9bcd"},
  };
  for (const auto& c : kCases) {
    Hash out;
    Blake2sKeyed(out, key, Sequence(c.n));
    EXPECT_EQ(ToHex(out), c.digest) << "n=" << c.n;
  }
}

TEST(Blake2sTest, MatchesOpenSslForLengthsAcrossBlockBoundaries) {
  const Bytes data = Sequence(300);
  for (size_t n = 0; n <= data.size(); ++n) {
    ByteSpan in = ByteSpan(data).first(n);
    Hash ours = Blake2sHash({in});
    EXPECT_EQ(ToBytes(ours), OpenSslBlake2s(in)) << "n=" << n;
  }
}

TEST(Blake2sTest, KeyedMatchesOpenSslForEveryKeyAndOutputSize) {
  const Bytes data = Sequence(200);
  for (size_t key_size = 1; key_size <= 32; ++key_size) {
    for (size_t out_size : {1, 16, 20, 31, 32}) {
      for (size_t n : {0, 1, 64, 65, 128, 200}) {
        const Bytes key = ToBytes(ByteSpan(data).subspan(100, key_size));
        ByteSpan in = ByteSpan(data).first(n);
        Bytes ours(out_size);
        Blake2sKeyed(ours, key, in);
        EXPECT_EQ(ours, OpenSslBlake2sMac(key, in, out_size))
            << "key " << key_size << " out " << out_size << " n " << n;
      }
    }
  }
}

TEST(Blake2sTest, SixteenByteMacIsNotATruncatedThirtyTwoByteMac) {
  // The output length is part of the parameter block (RFC 7693 §2.5), so
  // WireGuard's MAC (16 bytes) differs from a truncated 32-byte keyed hash.
  const Bytes key = Sequence(32);
  Bytes mac16(16);
  Hash mac32;
  Blake2sKeyed(mac16, key, AsBytes("mac1"));
  Blake2sKeyed(mac32, key, AsBytes("mac1"));
  EXPECT_NE(mac16, ToBytes(ByteSpan(mac32).first(16)));
}

TEST(Blake2sTest, IncrementalEqualsOneShotForEverySplit) {
  const Bytes data = Sequence(193);
  const Hash expected = Blake2sHash({data});
  Blake2s h;
  for (size_t split = 0; split <= data.size(); ++split) {
    h.Update(ByteSpan(data).first(split));
    h.Update(ByteSpan(data).subspan(split));
    ASSERT_EQ(h.Final(), expected) << "split " << split;  // Final also resets
  }
  for (size_t chunk : {1, 3, 63, 64, 65}) {
    for (size_t i = 0; i < data.size(); i += chunk) {
      h.Update(ByteSpan(data).subspan(i, std::min(chunk, data.size() - i)));
    }
    EXPECT_EQ(h.Final(), expected) << "chunk " << chunk;
  }
}

TEST(Blake2sTest, HashOfPartsEqualsHashOfConcatenation) {
  EXPECT_EQ(Blake2sHash({AsBytes("a"), AsBytes(""), AsBytes("bc")}), Blake2sHash({AsBytes("abc")}));
  EXPECT_NE(Blake2sHash({AsBytes("abd")}), Blake2sHash({AsBytes("abc")}));
}

// The WireGuard handshake's starting point (WireGuard paper §5.4.2):
// Ci = HASH(CONSTRUCTION), Hi = HASH(Ci || IDENTIFIER). Expected values are
// the precomputed constants other WireGuard implementations (e.g. boringtun's
// INITIAL_CHAIN_KEY / INITIAL_CHAIN_HASH) carry.
TEST(Blake2sTest, ComputesWireGuardInitialChainKeyAndHash) {
  const Hash ck = Blake2sHash({AsBytes("Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s")});
  EXPECT_EQ(ToHex(ck), "60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  const Hash h = Blake2sHash({ck, AsBytes("WireGuard v1 zx2c4 Jason@zx2c4.com")});
  EXPECT_EQ(ToHex(h), "2211b361081ac566691243db458ad5322d9c6c662293e8b70ee19c65ba079ef3");
}

TEST(HmacBlake2sTest, MatchesOpenSslHmacForShortBlockAndLongKeys) {
  const Bytes data = Sequence(300);
  for (size_t key_size : {0, 1, 32, 63, 64, 65, 100}) {
    const Bytes key = ToBytes(ByteSpan(data).subspan(7, key_size));
    for (size_t n : {0, 1, 33, 64, 65, 300}) {
      ByteSpan in = ByteSpan(data).first(n);
      EXPECT_EQ(ToBytes(HmacBlake2s(key, {in})), OpenSslHmac(key, in))
          << "key " << key_size << " n " << n;
    }
  }
}

TEST(HmacBlake2sTest, PartsAreConcatenated) {
  const Bytes key = Sequence(32);
  EXPECT_EQ(HmacBlake2s(key, {AsBytes("hello "), AsBytes("world")}),
            HmacBlake2s(key, {AsBytes("hello world")}));
}

// Kdf against the definition (Noise spec §4.3 HKDF, WireGuard paper §5.4)
// evaluated with OpenSSL's HMAC: T0 = HMAC(key, input), T1 = HMAC(T0, 0x01),
// T2 = HMAC(T0, T1 || 0x02), T3 = HMAC(T0, T2 || 0x03).
TEST(KdfTest, MatchesHkdfDefinitionEvaluatedWithOpenSsl) {
  const Bytes key = Unhex("60e26daef327efc02ec335e2a025d2d016eb4206f87277f52d38d1988b78cd36");
  const Bytes input = Sequence(32);
  const Bytes t0 = OpenSslHmac(key, input);
  const Bytes t1 = OpenSslHmac(t0, Unhex("01"));
  Bytes t1_2 = t1;
  t1_2.push_back(std::byte{2});
  const Bytes t2 = OpenSslHmac(t0, t1_2);
  Bytes t2_3 = t2;
  t2_3.push_back(std::byte{3});
  const Bytes t3 = OpenSslHmac(t0, t2_3);

  Secret<kHashSize> a, b, c;
  Kdf({&a, &b, &c}, key, input);
  EXPECT_EQ(ToBytes(a.span()), t1);
  EXPECT_EQ(ToBytes(b.span()), t2);
  EXPECT_EQ(ToBytes(c.span()), t3);

  Secret<kHashSize> only;
  Kdf({&only}, key, input);
  EXPECT_EQ(ToBytes(only.span()), t1);
  Secret<kHashSize> x, y;
  Kdf({&x, &y}, key, input);
  EXPECT_EQ(ToBytes(x.span()), t1);
  EXPECT_EQ(ToBytes(y.span()), t2);
}

TEST(KdfTest, OutputsMayAliasKeyAndInput) {
  Secret<kHashSize> ck(Sequence(32));
  Secret<kHashSize> k(Unhex("ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00ff00"));
  Secret<kHashSize> expected_ck, expected_k;
  Kdf({&expected_ck, &expected_k}, ck.span(), k.span());
  Kdf({&ck, &k}, ck.span(), k.span());
  EXPECT_EQ(ToBytes(ck.span()), ToBytes(expected_ck.span()));
  EXPECT_EQ(ToBytes(k.span()), ToBytes(expected_k.span()));
}

TEST(KdfTest, EmptyInputAndDifferentKeysGiveDifferentOutputs) {
  Secret<kHashSize> a, b;
  Kdf({&a}, Sequence(32), {});
  Kdf({&b}, Sequence(31), {});
  EXPECT_FALSE(a.IsZero());
  EXPECT_NE(ToBytes(a.span()), ToBytes(b.span()));
}

}  // namespace
}  // namespace plexus::crypto
