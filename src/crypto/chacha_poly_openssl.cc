// Per packet, OpenSSL 3's EVP layer costs more than the cipher's set-up: every
// EVP_CipherInit_ex that carries a key asks the provider for the key and IV
// lengths through OSSL_PARAM look-ups, and EVP_CIPHER_CTX_ctrl for the tag
// builds another parameter list. So each direction keeps, per thread:
//
//   ThreadContext { EVP_CIPHER_CTX (ChaCha20-Poly1305, one direction),
//                   Secret copy of the key it holds }
//
//   call --key differs (constant-time compare)?--> Init(key, nonce), remember key
//        \--same key-----------------------------> Init(nonce only)
//   then AD, text, Final, and the tag through get/set_params (no ctrl).
//
// Only the nonce changes between a peer's packets, so the common case skips
// the key set-up. Skipping it is sound because the context keeps the ChaCha20
// key and each nonce re-derives the Poly1305 key (RFC 8439 §2.6). After Final,
// the upper vector state is cleared (ClearUpperVectorState): the largest win.
#include "crypto/chacha_poly_openssl.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <climits>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

// One thread's context for one direction and a copy of the key it was last
// initialised with (`keyed` is false until the first call). Used by its
// thread only; at thread exit the context is freed (OpenSSL cleanses it) and
// the key copy wipes itself.
struct ThreadContext {
  explicit ThreadContext(int encrypt) : ctx(NewContext(encrypt)), encrypt(encrypt) {}
  CtxPtr ctx;
  AeadKey key;
  bool keyed = false;
  int encrypt;
};

ThreadContext& SealContext() {
  thread_local ThreadContext tc(1);
  return tc;
}
ThreadContext& OpenContext() {
  thread_local ThreadContext tc(0);
  return tc;
}

// Starts a message under `nonce`, setting the key only when it differs from
// the context's (compared in constant time, so timing does not reveal how
// much of a key matched). Returns false on an OpenSSL failure.
bool StartMessage(ThreadContext& tc, const AeadKey& key, ChaChaNonce nonce) {
  const uint8_t* key_bytes = nullptr;
  if (!tc.keyed || CRYPTO_memcmp(tc.key.data(), key.data(), kAeadKeySize) != 0) {
    // Forget the old key first: if Init fails, the cache must not claim it.
    tc.keyed = false;
    key_bytes = U8(key.span());
  }
  if (EVP_CipherInit_ex(tc.ctx.get(), nullptr, nullptr, key_bytes, U8(nonce), tc.encrypt) != 1) {
    return false;
  }
  if (key_bytes != nullptr) {
    std::memcpy(tc.key.data(), key.data(), kAeadKeySize);
    tc.keyed = true;
  }
  return true;
}

// After EVP_CipherFinal_ex, OpenSSL 3.0's ChaCha20-Poly1305 leaves the upper
// halves of the vector registers dirty on this AVX-512 machine (measured, not
// documented: a VZEROUPPER after Final saved about 150 ns per 1420-byte packet,
// one after Update nothing). While they are dirty every legacy-SSE instruction
// (OpenSSL's own C code on the next call, and ours) pays to merge them. This
// clears them when the CPU has AVX; without AVX nothing could have dirtied them.
// The low halves (xmm registers) survive, so callers lose nothing.
#if defined(__x86_64__)
__attribute__((target("avx"))) void ZeroUpperAvx() {
  _mm256_zeroupper();
}
void ClearUpperVectorState() {
  static const bool has_avx = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx") != 0;
  }();
  if (has_avx) ZeroUpperAvx();
}
#else
void ClearUpperVectorState() {}
#endif

// Ends the message (computing the tag, or checking it when opening) and
// returns false on a bad tag or an OpenSSL failure.
bool Finish(EVP_CIPHER_CTX* ctx, uint8_t* out) {
  int len = 0;  // a stream cipher: Final writes nothing
  const bool ok = EVP_CipherFinal_ex(ctx, out, &len) == 1;
  ClearUpperVectorState();
  return ok;
}

// Feeds the associated data and returns false on an OpenSSL failure.
bool AddAd(EVP_CIPHER_CTX* ctx, ByteSpan ad) {
  int len = 0;
  return ad.empty() ||
         EVP_CipherUpdate(ctx, nullptr, &len, U8(ad), static_cast<int>(ad.size())) == 1;
}

// The tag as a one-entry parameter list: get/set_params with it skips the
// translation EVP_CIPHER_CTX_ctrl does on every call.
// Built inline, as OSSL_PARAM_construct_octet_string would build it.
struct TagParams {
  explicit TagParams(uint8_t* tag)
      : params{{OSSL_CIPHER_PARAM_AEAD_TAG, OSSL_PARAM_OCTET_STRING, tag, kAeadTagSize,
                OSSL_PARAM_UNMODIFIED},
               OSSL_PARAM_END} {}
  OSSL_PARAM params[2];
};

}  // namespace

void OpenSslChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                           ByteSpan plaintext, ByteSpan ad) {
  if (out.size() < plaintext.size() + kAeadTagSize) std::abort();
  if (plaintext.size() > INT_MAX || ad.size() > INT_MAX) std::abort();
  ThreadContext& tc = SealContext();
  EVP_CIPHER_CTX* ctx = tc.ctx.get();
  TagParams tag(U8(out) + plaintext.size());
  int len = 0;
  bool ok = StartMessage(tc, key, nonce) && AddAd(ctx, ad) &&
            EVP_CipherUpdate(ctx, U8(out), &len, U8(plaintext),
                             static_cast<int>(plaintext.size())) == 1 &&
            Finish(ctx, U8(out) + len) && EVP_CIPHER_CTX_get_params(ctx, tag.params) == 1;
  if (!ok) std::abort();  // only on memory corruption or a broken OpenSSL
}

bool OpenSslChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                           ByteSpan ciphertext, ByteSpan ad) {
  if (ciphertext.size() < kAeadTagSize || ciphertext.size() > INT_MAX || ad.size() > INT_MAX) {
    return false;
  }
  const size_t text_size = ciphertext.size() - kAeadTagSize;
  if (out.size() < text_size) return false;
  ThreadContext& tc = OpenContext();
  EVP_CIPHER_CTX* ctx = tc.ctx.get();
  // set_params copies the expected tag into the context before anything is
  // decrypted, so in-place operation cannot disturb it. OpenSSL takes a
  // non-const pointer but only reads it.
  TagParams tag(const_cast<uint8_t*>(U8(ciphertext)) + text_size);
  int len = 0;
  bool ok =
      StartMessage(tc, key, nonce) && EVP_CIPHER_CTX_set_params(ctx, tag.params) == 1 &&
      AddAd(ctx, ad) &&
      EVP_CipherUpdate(ctx, U8(out), &len, U8(ciphertext), static_cast<int>(text_size)) == 1 &&
      Finish(ctx, U8(out) + len);
  // Plaintext that failed authentication must never reach the caller.
  if (!ok) sodium_memzero(out.data(), text_size);
  return ok;
}

}  // namespace plexus::crypto
