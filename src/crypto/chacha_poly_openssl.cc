#include "crypto/chacha_poly_openssl.h"

#include <openssl/evp.h>
#include <sodium.h>

#include <climits>
#include <cstdlib>
#include <memory>

namespace plexus::crypto {
namespace {

struct CtxDeleter {
  void operator()(EVP_CIPHER_CTX* ctx) const { EVP_CIPHER_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<EVP_CIPHER_CTX, CtxDeleter>;

// A context bound to ChaCha20-Poly1305 for one direction. Failure here means
// OpenSSL is out of memory or lacks the cipher; the data plane cannot run
// without it, so this aborts instead of failing silently.
CtxPtr NewContext(int encrypt) {
  CtxPtr ctx(EVP_CIPHER_CTX_new());
  if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_chacha20_poly1305(), nullptr, nullptr, nullptr,
                                encrypt) != 1) {
    std::abort();
  }
  return ctx;
}

// The calling thread's context for one direction. thread_local is the one
// piece of per-thread state here: it caches an allocation, holds no key
// material between calls that matters (each call rekeys), and is freed when
// the thread exits.
EVP_CIPHER_CTX* SealContext() {
  thread_local CtxPtr ctx = NewContext(1);
  return ctx.get();
}
EVP_CIPHER_CTX* OpenContext() {
  thread_local CtxPtr ctx = NewContext(0);
  return ctx.get();
}

// Feeds the associated data and returns false on an OpenSSL failure.
bool AddAd(EVP_CIPHER_CTX* ctx, ByteSpan ad) {
  int len = 0;
  return ad.empty() ||
         EVP_CipherUpdate(ctx, nullptr, &len, U8(ad), static_cast<int>(ad.size())) == 1;
}

}  // namespace

void OpenSslChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                           ByteSpan plaintext, ByteSpan ad) {
  if (out.size() < plaintext.size() + kAeadTagSize) std::abort();
  if (plaintext.size() > INT_MAX || ad.size() > INT_MAX) std::abort();
  EVP_CIPHER_CTX* ctx = SealContext();
  int len = 0;
  int final_len = 0;
  // ChaCha20-Poly1305 is a stream cipher: Update writes all of it, Final nothing.
  bool ok = EVP_CipherInit_ex(ctx, nullptr, nullptr, U8(key.span()), U8(nonce), 1) == 1 &&
            AddAd(ctx, ad) &&
            EVP_CipherUpdate(ctx, U8(out), &len, U8(plaintext),
                             static_cast<int>(plaintext.size())) == 1 &&
            EVP_CipherFinal_ex(ctx, U8(out) + len, &final_len) == 1 &&
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_GET_TAG, kAeadTagSize,
                                U8(out) + plaintext.size()) == 1;
  if (!ok) std::abort();  // only on memory corruption or a broken OpenSSL
}

bool OpenSslChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                           ByteSpan ciphertext, ByteSpan ad) {
  if (ciphertext.size() < kAeadTagSize || ciphertext.size() > INT_MAX || ad.size() > INT_MAX) {
    return false;
  }
  const size_t text_size = ciphertext.size() - kAeadTagSize;
  if (out.size() < text_size) return false;
  // Copy the tag first: with in-place operation, decryption overwrites nothing
  // past text_size, but keep the contract independent of that detail.
  uint8_t tag[kAeadTagSize];
  std::memcpy(tag, ciphertext.data() + text_size, kAeadTagSize);
  EVP_CIPHER_CTX* ctx = OpenContext();
  int len = 0;
  int final_len = 0;
  bool ok =
      EVP_CipherInit_ex(ctx, nullptr, nullptr, U8(key.span()), U8(nonce), 0) == 1 &&
      AddAd(ctx, ad) &&
      EVP_CipherUpdate(ctx, U8(out), &len, U8(ciphertext), static_cast<int>(text_size)) == 1 &&
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_AEAD_SET_TAG, kAeadTagSize, tag) == 1 &&
      EVP_CipherFinal_ex(ctx, U8(out) + len, &final_len) == 1;
  // Plaintext that failed authentication must never reach the caller.
  if (!ok) sodium_memzero(out.data(), text_size);
  return ok;
}

}  // namespace plexus::crypto
