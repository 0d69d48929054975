// ChaCha20-Poly1305 (RFC 8439 §2.8) with a 12-byte nonce, over libsodium's
// crypto_aead_chacha20poly1305_ietf_*_detached. One of the two backends behind
// aead.h (see aead.cc for which one is used and why); kept callable for the
// cross-check tests and for aead_bench.cc.
//
// Thread-safe, no allocation. Contracts as in aead.h: `out` may alias the input
// exactly; Seal needs out.size() >= plaintext.size() + 16; Open verifies the
// tag before it decrypts, so on false `out` is untouched.
#pragma once

#include "base/bytes.h"
#include "crypto/aead.h"

namespace plexus::crypto {

void SodiumChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                          ByteSpan plaintext, ByteSpan ad);
[[nodiscard]] bool SodiumChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ChaChaNonce nonce,
                                        ByteSpan ciphertext, ByteSpan ad);

}  // namespace plexus::crypto
