// Tests of the public AEAD API (aead.h) against published vectors and its
// contracts: WireGuard nonce layout, tamper detection, in-place operation.
#include "crypto/aead.h"

#include <gtest/gtest.h>

#include <string>

#include "testing/hex.h"

namespace plexus::crypto {
namespace {

using testing::Unhex;

AeadKey KeyFromHex(std::string_view hex) {
  return AeadKey(Unhex(hex));
}

Bytes Concat(ByteSpan a, ByteSpan b) {
  Bytes out(a.begin(), a.end());
  out.insert(out.end(), b.begin(), b.end());
  return out;
}

// RFC 8439 §2.8.2 "Example and Test Vector for AEAD_CHACHA20_POLY1305"
// (identical to RFC 7539 §2.8.2); the draft-irtf-cfrg-xchacha-03 A.3.1 vector
// reuses its key, AAD and plaintext.
constexpr std::string_view kSunscreen =
    "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the "
    "future, sunscreen would be it.";
constexpr std::string_view kKey8082 =
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f";
constexpr std::string_view kAd5051 = "50515253c0c1c2c3c4c5c6c7";
constexpr std::string_view kNonce282 = "070000004041424344454647";
constexpr std::string_view kCiphertext282 =
    "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
    "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
    "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
    "3ff4def08e4b7a9de576d26586cec64b6116";
constexpr std::string_view kTag282 = "1ae10b594f09e26a7e902ecbd0600691";

// RFC 8439 Appendix A.5 "ChaCha20-Poly1305 AEAD Decryption". Its nonce
// 00000000 0102030405060708 is exactly WireGuard's nonce for the counter
// 0x0807060504030201 (32 zero bits, then the counter little-endian).
constexpr std::string_view kKeyA5 =
    "1c9240a5eb55d38af333888604f6b5f0473917c1402b80099dca5cbc207075c0";
constexpr std::string_view kNonceA5 = "000000000102030405060708";
constexpr uint64_t kCounterA5 = 0x0807060504030201;
constexpr std::string_view kAdA5 = "f33388860000000000004e91";
constexpr std::string_view kCiphertextA5 =
    "64a0861575861af460f062c79be643bd5e805cfd345cf389f108670ac76c8cb2"
    "4c6cfc18755d43eea09ee94e382d26b0bdb7b73c321b0100d4f03b7f355894cf"
    "332f830e710b97ce98c8a84abd0b948114ad176e008d33bd60f982b1ff37c855"
    "9797a06ef4f0ef61c186324e2b3506383606907b6a7c02b0f9f6157b53c867e4"
    "b9166c767b804d46a59b5216cde7a4e99040c5a40433225ee282a1b0a06c523e"
    "af4534d7f83fa1155b0047718cbc546a0d072b04b3564eea1b422273f548271a"
    "0bb2316053fa76991955ebd63159434ecebb4e466dae5a1073a6727627097a10"
    "49e617d91d361094fa68f0ff77987130305beaba2eda04df997b714d6c6f2c29"
    "a6ad5cb4022b02709b";
constexpr std::string_view kTagA5 = "eead9d67890cbb22392336fea1851f38";
constexpr std::string_view kPlaintextA5 =
    "Internet-Drafts are draft documents valid for a maximum of six months and may be "
    "updated, replaced, or obsoleted by other documents at any time. It is inappropriate to "
    "use Internet-Drafts as reference material or to cite them other than as "
    "/\xe2\x80\x9cwork in progress./\xe2\x80\x9d";

// draft-irtf-cfrg-xchacha-03 Appendix A.3.1. (The draft's markdown source
// prints IV byte 11 as "fb" while its ASCII column reads "K"; 0x4b is the
// value every implementation, libsodium included, reproduces the result with.)
constexpr std::string_view kXNonce = "404142434445464748494a4b4c4d4e4f5051525354555657";
constexpr std::string_view kXCiphertext =
    "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb"
    "731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452"
    "2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff9"
    "21f9664c97637da9768812f615c68b13b52e";
constexpr std::string_view kXTag = "c0875924c1c7987947deafd8780acf49";

TEST(ChaChaPolyTest, SealsRfc8439Section282Vector) {
  const AeadKey key = KeyFromHex(kKey8082);
  Bytes out(kSunscreen.size() + kAeadTagSize);
  ChaChaPolySealNonce(out, key, Unhex(kNonce282), AsBytes(kSunscreen), Unhex(kAd5051));
  EXPECT_EQ(ToHex(out), std::string(kCiphertext282) + std::string(kTag282));
}

TEST(ChaChaPolyTest, OpensRfc8439AppendixA5WithNonceAndWithWireGuardCounter) {
  const AeadKey key = KeyFromHex(kKeyA5);
  const Bytes sealed = Concat(Unhex(kCiphertextA5), Unhex(kTagA5));
  Bytes out(sealed.size() - kAeadTagSize);
  ASSERT_TRUE(ChaChaPolyOpenNonce(out, key, Unhex(kNonceA5), sealed, Unhex(kAdA5)));
  EXPECT_EQ(AsChars(out), kPlaintextA5);

  Bytes out2(out.size());
  ASSERT_TRUE(ChaChaPolyOpen(out2, key, kCounterA5, sealed, Unhex(kAdA5)));
  EXPECT_EQ(AsChars(out2), kPlaintextA5);
}

TEST(ChaChaPolyTest, SealWithCounterEqualsSealWithWireGuardNonce) {
  const AeadKey key = KeyFromHex(kKeyA5);
  Bytes a(kPlaintextA5.size() + kAeadTagSize);
  Bytes b(a.size());
  ChaChaPolySeal(a, key, kCounterA5, AsBytes(kPlaintextA5), Unhex(kAdA5));
  ChaChaPolySealNonce(b, key, Unhex(kNonceA5), AsBytes(kPlaintextA5), Unhex(kAdA5));
  EXPECT_EQ(a, b);
  EXPECT_EQ(ToHex(a), std::string(kCiphertextA5) + std::string(kTagA5));
}

TEST(ChaChaPolyTest, RejectsWrongCounter) {
  const AeadKey key = KeyFromHex(kKeyA5);
  const Bytes sealed = Concat(Unhex(kCiphertextA5), Unhex(kTagA5));
  Bytes out(sealed.size() - kAeadTagSize);
  EXPECT_FALSE(ChaChaPolyOpen(out, key, kCounterA5 + 1, sealed, Unhex(kAdA5)));
  EXPECT_FALSE(ChaChaPolyOpen(out, key, 0, sealed, Unhex(kAdA5)));
}

// Flips each bit position class (ciphertext, tag, AD) and expects rejection.
TEST(ChaChaPolyTest, RejectsAnyFlippedBitInCiphertextTagOrAd) {
  const AeadKey key = KeyFromHex(kKey8082);
  const Bytes ad = Unhex(kAd5051);
  Bytes sealed(kSunscreen.size() + kAeadTagSize);
  ChaChaPolySeal(sealed, key, 42, AsBytes(kSunscreen), ad);
  Bytes out(kSunscreen.size());
  ASSERT_TRUE(ChaChaPolyOpen(out, key, 42, sealed, ad));
  for (size_t i = 0; i < sealed.size(); ++i) {
    Bytes bad = sealed;
    bad[i] ^= std::byte{1} << (i % 8);
    EXPECT_FALSE(ChaChaPolyOpen(out, key, 42, bad, ad)) << "byte " << i;
    EXPECT_NE(AsChars(out), kSunscreen) << "plaintext released for byte " << i;
  }
  for (size_t i = 0; i < ad.size(); ++i) {
    Bytes bad_ad = ad;
    bad_ad[i] ^= std::byte{0x80};
    EXPECT_FALSE(ChaChaPolyOpen(out, key, 42, sealed, bad_ad)) << "ad byte " << i;
  }
}

TEST(ChaChaPolyTest, RejectsWrongKeyAndTruncatedInput) {
  const AeadKey key = KeyFromHex(kKey8082);
  Bytes sealed(kSunscreen.size() + kAeadTagSize);
  ChaChaPolySeal(sealed, key, 7, AsBytes(kSunscreen), {});
  Bytes out(kSunscreen.size());
  EXPECT_FALSE(ChaChaPolyOpen(out, KeyFromHex(kKeyA5), 7, sealed, {}));
  EXPECT_FALSE(ChaChaPolyOpen(out, key, 7, ByteSpan(sealed).first(sealed.size() - 1), {}));
  EXPECT_FALSE(ChaChaPolyOpen(out, key, 7, ByteSpan(sealed).first(kAeadTagSize - 1), {}));
  Bytes small(kSunscreen.size() - 1);
  EXPECT_FALSE(ChaChaPolyOpen(small, key, 7, sealed, {}));
}

TEST(ChaChaPolyTest, RoundTripsInPlace) {
  const AeadKey key = KeyFromHex(kKeyA5);
  for (size_t size : {0, 1, 63, 64, 65, 1420}) {
    Bytes buffer(size + kAeadTagSize);
    for (size_t i = 0; i < size; ++i) buffer[i] = static_cast<std::byte>(i * 7);
    const Bytes original(buffer.begin(), buffer.begin() + size);
    MutableByteSpan all(buffer);
    ChaChaPolySeal(all, key, size, all.first(size), {});
    Bytes separate(size + kAeadTagSize);
    ChaChaPolySeal(separate, key, size, original, {});
    EXPECT_EQ(buffer, separate) << size;
    ASSERT_TRUE(ChaChaPolyOpen(all, key, size, all, {})) << size;
    EXPECT_EQ(Bytes(buffer.begin(), buffer.begin() + size), original) << size;
  }
}

TEST(ChaChaPolyTest, EmptyPlaintextProducesOnlyATag) {
  const AeadKey key = KeyFromHex(kKeyA5);
  Bytes sealed(kAeadTagSize);
  ChaChaPolySeal(sealed, key, 0, {}, {});
  Bytes nothing;
  EXPECT_TRUE(ChaChaPolyOpen(nothing, key, 0, sealed, {}));
  sealed[0] ^= std::byte{1};
  EXPECT_FALSE(ChaChaPolyOpen(nothing, key, 0, sealed, {}));
}

TEST(XChaChaPolyTest, SealsAndOpensDraftXChachaA31Vector) {
  const AeadKey key = KeyFromHex(kKey8082);
  Bytes out(kSunscreen.size() + kAeadTagSize);
  XChaChaPolySeal(out, key, Unhex(kXNonce), AsBytes(kSunscreen), Unhex(kAd5051));
  EXPECT_EQ(ToHex(out), std::string(kXCiphertext) + std::string(kXTag));

  Bytes plain(kSunscreen.size());
  ASSERT_TRUE(XChaChaPolyOpen(plain, key, Unhex(kXNonce), out, Unhex(kAd5051)));
  EXPECT_EQ(AsChars(plain), kSunscreen);
}

TEST(XChaChaPolyTest, RejectsTamperingAndWorksInPlace) {
  const AeadKey key = KeyFromHex(kKey8082);
  const Bytes nonce = Unhex(kXNonce);
  Bytes buffer(kSunscreen.size() + kAeadTagSize);
  std::memcpy(buffer.data(), kSunscreen.data(), kSunscreen.size());
  MutableByteSpan all(buffer);
  XChaChaPolySeal(all, key, nonce, all.first(kSunscreen.size()), {});
  Bytes separate(buffer.size());
  XChaChaPolySeal(separate, key, nonce, AsBytes(kSunscreen), {});
  EXPECT_EQ(buffer, separate);
  Bytes bad = buffer;
  bad.back() ^= std::byte{0x40};
  Bytes out(kSunscreen.size());
  EXPECT_FALSE(XChaChaPolyOpen(out, key, nonce, bad, {}));
  Bytes other_nonce = nonce;
  other_nonce[23] ^= std::byte{1};
  EXPECT_FALSE(XChaChaPolyOpen(out, key, other_nonce, buffer, {}));
  ASSERT_TRUE(XChaChaPolyOpen(all, key, nonce, all, {}));
  EXPECT_EQ(AsChars(all.first(kSunscreen.size())), kSunscreen);
}

}  // namespace
}  // namespace plexus::crypto
