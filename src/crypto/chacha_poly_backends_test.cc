// Both ChaCha20-Poly1305 backends (chacha_poly_openssl.h, chacha_poly_sodium.h)
// meet the same contract: RFC 8439 vectors, agreement with each other on
// every size, tamper rejection without releasing plaintext, in-place use, and
// concurrent use from several threads.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "crypto/chacha_poly_openssl.h"
#include "crypto/chacha_poly_sodium.h"

namespace plexus::crypto {
namespace {

struct Backend {
  const char* name;
  void (*seal)(MutableByteSpan, const AeadKey&, ChaChaNonce, ByteSpan, ByteSpan);
  bool (*open)(MutableByteSpan, const AeadKey&, ChaChaNonce, ByteSpan, ByteSpan);
};

const Backend kOpenSsl{"OpenSsl", OpenSslChaChaPolySeal, OpenSslChaChaPolyOpen};
const Backend kSodium{"Sodium", SodiumChaChaPolySeal, SodiumChaChaPolyOpen};

Bytes Unhex(std::string_view hex) {
  std::optional<Bytes> b = FromHex(hex);
  EXPECT_TRUE(b.has_value()) << hex;
  return b.value_or(Bytes{});
}

ByteArray<kChaChaNonceSize> NonceFromHex(std::string_view hex) {
  ByteArray<kChaChaNonceSize> n{};
  Bytes b = Unhex(hex);
  std::memcpy(n.data(), b.data(), std::min(b.size(), n.size()));
  return n;
}

Bytes Pattern(size_t n, uint8_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = static_cast<std::byte>(i * 31 + seed);
  return b;
}

class ChaChaPolyBackendTest : public ::testing::TestWithParam<Backend> {};

// RFC 8439 §2.8.2 (values as in aead_test.cc).
TEST_P(ChaChaPolyBackendTest, SealsRfc8439Section282Vector) {
  const std::string_view plaintext =
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
      "future, sunscreen would be it.";
  const AeadKey key(Unhex("808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"));
  const auto nonce = NonceFromHex("070000004041424344454647");
  Bytes out(plaintext.size() + kAeadTagSize);
  GetParam().seal(out, key, nonce, AsBytes(plaintext), Unhex("50515253c0c1c2c3c4c5c6c7"));
  EXPECT_EQ(ToHex(out),
            "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
            "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
            "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
            "3ff4def08e4b7a9de576d26586cec64b6116"
            "1ae10b594f09e26a7e902ecbd0600691");
}

TEST_P(ChaChaPolyBackendTest, AgreesWithTheOtherBackendOnEverySize) {
  const Backend& other = std::string(GetParam().name) == "Sodium" ? kOpenSsl : kSodium;
  const AeadKey key(Pattern(32, 1));
  const auto nonce = NonceFromHex("000000000102030405060708");
  for (size_t size = 0; size <= 1500; size += (size < 130 ? 1 : 97)) {
    const Bytes plain = Pattern(size, 5);
    const Bytes ad = Pattern(size % 40, 9);
    Bytes ours(size + kAeadTagSize), theirs(size + kAeadTagSize);
    GetParam().seal(ours, key, nonce, plain, ad);
    other.seal(theirs, key, nonce, plain, ad);
    ASSERT_EQ(ours, theirs) << "size " << size;
    Bytes opened(size);
    ASSERT_TRUE(GetParam().open(opened, key, nonce, theirs, ad)) << "size " << size;
    ASSERT_EQ(opened, plain) << "size " << size;
  }
}

TEST_P(ChaChaPolyBackendTest, FailedOpenNeverLeavesPlaintextInOutput) {
  const AeadKey key(Pattern(32, 2));
  const auto nonce = NonceFromHex("000000000000000000000001");
  const Bytes plain = Pattern(1420, 3);
  Bytes sealed(plain.size() + kAeadTagSize);
  GetParam().seal(sealed, key, nonce, plain, {});
  sealed.back() ^= std::byte{1};
  Bytes out(plain.size());
  EXPECT_FALSE(GetParam().open(out, key, nonce, sealed, {}));
  EXPECT_NE(out, plain);
  // In place: the buffer must not turn into the plaintext either.
  EXPECT_FALSE(GetParam().open(sealed, key, nonce, sealed, {}));
  EXPECT_NE(Bytes(sealed.begin(), sealed.begin() + plain.size()), plain);
}

TEST_P(ChaChaPolyBackendTest, RoundTripsInPlace) {
  const AeadKey key(Pattern(32, 4));
  const auto nonce = NonceFromHex("000000000000000000000002");
  const Bytes plain = Pattern(1420, 6);
  Bytes buffer = plain;
  buffer.resize(plain.size() + kAeadTagSize);
  MutableByteSpan all(buffer);
  GetParam().seal(all, key, nonce, all.first(plain.size()), Pattern(16, 1));
  EXPECT_NE(Bytes(buffer.begin(), buffer.begin() + plain.size()), plain);
  ASSERT_TRUE(GetParam().open(all, key, nonce, all, Pattern(16, 1)));
  EXPECT_EQ(Bytes(buffer.begin(), buffer.begin() + plain.size()), plain);
}

// The OpenSSL backend skips key set-up while a thread keeps using one key; a
// change of key, even in one byte, must take effect on the very next call.
TEST_P(ChaChaPolyBackendTest, UsesEachCallsKeyWhenKeysAlternate) {
  const Backend& other = std::string(GetParam().name) == "Sodium" ? kOpenSsl : kSodium;
  const AeadKey a(Pattern(32, 10));
  Bytes b_bytes = Pattern(32, 10);
  b_bytes[31] ^= std::byte{1};
  const AeadKey b(b_bytes);
  const auto nonce = NonceFromHex("000000000000000000000003");
  const Bytes plain = Pattern(200, 11);
  for (const AeadKey* key : {&a, &b, &b, &a, &b}) {
    Bytes ours(plain.size() + kAeadTagSize), theirs(plain.size() + kAeadTagSize);
    GetParam().seal(ours, *key, nonce, plain, {});
    other.seal(theirs, *key, nonce, plain, {});
    ASSERT_EQ(ours, theirs);
    Bytes opened(plain.size());
    ASSERT_TRUE(GetParam().open(opened, *key, nonce, theirs, {}));
    ASSERT_EQ(opened, plain);
    const AeadKey& wrong = key == &a ? b : a;
    ASSERT_FALSE(GetParam().open(opened, wrong, nonce, theirs, {}));
  }
}

TEST_P(ChaChaPolyBackendTest, OpensAgainAfterARejectedPacket) {
  const AeadKey key(Pattern(32, 12));
  const auto nonce = NonceFromHex("000000000000000000000004");
  const Bytes plain = Pattern(1420, 13);
  Bytes sealed(plain.size() + kAeadTagSize);
  GetParam().seal(sealed, key, nonce, plain, Pattern(32, 1));
  Bytes tampered = sealed;
  tampered[7] ^= std::byte{0x80};
  Bytes out(plain.size());
  EXPECT_FALSE(GetParam().open(out, key, nonce, tampered, Pattern(32, 1)));
  EXPECT_FALSE(GetParam().open(out, key, nonce, sealed, Pattern(32, 2)));
  ASSERT_TRUE(GetParam().open(out, key, nonce, sealed, Pattern(32, 1)));
  EXPECT_EQ(out, plain);
}

// Two threads (as the data-plane workers) sealing and opening with different
// keys at once; every result must equal the single-threaded one.
TEST_P(ChaChaPolyBackendTest, IsSafeToUseFromSeveralThreads) {
  const Bytes plain = Pattern(1420, 8);
  auto worker = [&](uint8_t seed, bool* ok) {
    const AeadKey key(Pattern(32, seed));
    Bytes expected(plain.size() + kAeadTagSize);
    GetParam().seal(expected, key, NonceFromHex("000000000000000000000000"), plain, {});
    *ok = true;
    for (int i = 0; i < 2000 && *ok; ++i) {
      Bytes sealed(expected.size());
      GetParam().seal(sealed, key, NonceFromHex("000000000000000000000000"), plain, {});
      Bytes opened(plain.size());
      *ok = sealed == expected &&
            GetParam().open(opened, key, NonceFromHex("000000000000000000000000"), sealed, {}) &&
            opened == plain;
    }
  };
  bool ok1 = false, ok2 = false;
  std::thread t1(worker, 1, &ok1);
  std::thread t2(worker, 2, &ok2);
  t1.join();
  t2.join();
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
}

INSTANTIATE_TEST_SUITE_P(Backends, ChaChaPolyBackendTest, ::testing::Values(kOpenSsl, kSodium),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param.name);
                         });

}  // namespace
}  // namespace plexus::crypto
