// Public AEAD entry points. ChaCha20-Poly1305 goes to the faster of the two
// backends as measured by aead_bench.cc (figures at kUseOpenSsl);
// XChaCha20-Poly1305 (cookie replies only, off the hot path)
// uses libsodium, which has it natively.
#include "crypto/aead.h"

#include <sodium.h>

#include <cstdlib>

#include "crypto/chacha_poly_openssl.h"
#include "crypto/chacha_poly_sodium.h"
#include "crypto/sodium_init.h"

namespace plexus::crypto {
namespace {

// aead_bench.cc, release build, 1420-byte packets, CPU time per packet on the
// development VM (2.6 GHz Xeon with AVX-512; OpenSSL 3.0.19, libsodium 1.0.18):
//   seal: OpenSSL 912 ns (12.5 Gbit/s), libsodium 1382 ns (8.2 Gbit/s)
//   open: OpenSSL 937 ns (12.1 Gbit/s), libsodium 1396 ns (8.1 Gbit/s)
// (medians of 5 runs; OpenSSL was 1239 / 1118 ns before chacha_poly_openssl.cc
// cached the key and cleared the upper vector state, and seals at 964 ns when
// every packet changes key),
// so ChaCha20-Poly1305 goes to OpenSSL. Rerun the benchmark before changing this.
constexpr bool kUseOpenSsl = true;

using Nonce = ByteArray<kChaChaNonceSize>;

// WireGuard paper §5.4.6: 32 bits of zeros, then the 64-bit little-endian counter.
Nonce WireGuardNonce(uint64_t counter) {
  Nonce n{};
  StoreLe64(n.data() + 4, counter);
  return n;
}

ChaChaNonce CheckedNonce(ByteSpan nonce12) {
  if (nonce12.size() != kChaChaNonceSize) std::abort();
  return ChaChaNonce(nonce12.data(), kChaChaNonceSize);
}

void Seal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce, ByteSpan plaintext,
          ByteSpan ad) {
  if constexpr (kUseOpenSsl) {
    OpenSslChaChaPolySeal(out, key, nonce, plaintext, ad);
  } else {
    SodiumChaChaPolySeal(out, key, nonce, plaintext, ad);
  }
}

bool Open(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce, ByteSpan ciphertext,
          ByteSpan ad) {
  if constexpr (kUseOpenSsl) {
    return OpenSslChaChaPolyOpen(out, key, nonce, ciphertext, ad);
  } else {
    return SodiumChaChaPolyOpen(out, key, nonce, ciphertext, ad);
  }
}

}  // namespace

void ChaChaPolySeal(MutableByteSpan out, const AeadKey& key, uint64_t counter, ByteSpan plaintext,
                    ByteSpan ad) {
  const Nonce nonce = WireGuardNonce(counter);
  Seal(out, key, nonce, plaintext, ad);
}

bool ChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, uint64_t counter, ByteSpan ciphertext,
                    ByteSpan ad) {
  const Nonce nonce = WireGuardNonce(counter);
  return Open(out, key, nonce, ciphertext, ad);
}

void ChaChaPolySealNonce(MutableByteSpan out, const AeadKey& key, ByteSpan nonce12,
                         ByteSpan plaintext, ByteSpan ad) {
  Seal(out, key, CheckedNonce(nonce12), plaintext, ad);
}

bool ChaChaPolyOpenNonce(MutableByteSpan out, const AeadKey& key, ByteSpan nonce12,
                         ByteSpan ciphertext, ByteSpan ad) {
  return Open(out, key, CheckedNonce(nonce12), ciphertext, ad);
}

void XChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24, ByteSpan plaintext,
                     ByteSpan ad) {
  if (nonce24.size() != kXNonceSize || out.size() < plaintext.size() + kAeadTagSize) {
    std::abort();
  }
  EnsureSodiumInitialized();
  crypto_aead_xchacha20poly1305_ietf_encrypt_detached(
      U8(out), U8(out.subspan(plaintext.size(), kAeadTagSize)), nullptr, U8(plaintext),
      plaintext.size(), U8(ad), ad.size(), nullptr, U8(nonce24), U8(key.span()));
}

bool XChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24, ByteSpan ciphertext,
                     ByteSpan ad) {
  if (nonce24.size() != kXNonceSize) std::abort();
  if (ciphertext.size() < kAeadTagSize) return false;
  const size_t text_size = ciphertext.size() - kAeadTagSize;
  if (out.size() < text_size) return false;
  EnsureSodiumInitialized();
  return crypto_aead_xchacha20poly1305_ietf_decrypt_detached(
             U8(out), nullptr, U8(ciphertext), text_size, U8(ciphertext.subspan(text_size)), U8(ad),
             ad.size(), U8(nonce24), U8(key.span())) == 0;
}

}  // namespace plexus::crypto
