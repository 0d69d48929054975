#include "crypto/chacha_poly_sodium.h"

#include <sodium.h>

#include <cstdlib>

#include "crypto/sodium_init.h"

namespace plexus::crypto {

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kAeadKeySize);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == kChaChaNonceSize);
static_assert(crypto_aead_chacha20poly1305_ietf_ABYTES == kAeadTagSize);

void SodiumChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                          ByteSpan plaintext, ByteSpan ad) {
  if (out.size() < plaintext.size() + kAeadTagSize) std::abort();
  EnsureSodiumInitialized();
  // libsodium allows c == m exactly (in place).
  crypto_aead_chacha20poly1305_ietf_encrypt_detached(
      U8(out), U8(out.subspan(plaintext.size(), kAeadTagSize)), nullptr, U8(plaintext),
      plaintext.size(), U8(ad), ad.size(), nullptr, U8(nonce), U8(key.span()));
}

bool SodiumChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                          ByteSpan ciphertext, ByteSpan ad) {
  if (ciphertext.size() < kAeadTagSize) return false;
  const size_t text_size = ciphertext.size() - kAeadTagSize;
  if (out.size() < text_size) return false;
  EnsureSodiumInitialized();
  // Verifies the tag first and writes nothing when it does not match.
  return crypto_aead_chacha20poly1305_ietf_decrypt_detached(
             U8(out), nullptr, U8(ciphertext), text_size, U8(ciphertext.subspan(text_size)), U8(ad),
             ad.size(), U8(nonce), U8(key.span())) == 0;
}

}  // namespace plexus::crypto
