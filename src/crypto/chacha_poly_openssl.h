// ChaCha20-Poly1305 (RFC 8439 §2.8) with a 12-byte nonce, over OpenSSL 3's
// EVP_chacha20_poly1305. One of the two backends behind aead.h (see aead.cc for
// which one is used and why); kept callable for the cross-check tests and for
// aead_bench.cc.
//
// Thread-safe: each thread keeps one EVP_CIPHER_CTX per direction
// (thread_local, created on first use, freed at thread exit), so the packet
// path does not allocate. Each context also keeps a copy of the last key it was
// given (a Secret, wiped at thread exit) and skips key set-up while a call's key
// equals it (compared in constant time); so a thread holds its most recent keys
// until its next call with another key or its exit. Contracts as in aead.h:
// `out` may alias the input exactly; Seal needs out.size() >= plaintext.size() +
// 16. OpenSSL decrypts while it authenticates, so on a bad tag Open zeroes the
// plaintext it wrote and returns false.
#pragma once

#include "base/bytes.h"
#include "crypto/aead.h"

namespace plexus::crypto {

void OpenSslChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                           ByteSpan plaintext, ByteSpan ad);
[[nodiscard]] bool OpenSslChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                                         ByteSpan ciphertext, ByteSpan ad);

}  // namespace plexus::crypto
