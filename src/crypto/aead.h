// AEADs used by WireGuard: ChaCha20-Poly1305 (RFC 8439) with WireGuard's nonce
// (32 zero bits then a little-endian 64-bit counter), and XChaCha20-Poly1305
// (draft-irtf-cfrg-xchacha) for cookie replies.
//
// Stateless and thread-safe: the data-plane workers call these concurrently.
// Seal writes plaintext.size() + kAeadTagSize bytes; Open writes
// ciphertext.size() - kAeadTagSize bytes and returns false on a bad tag (and
// then leaves `out` unspecified). `out` may alias the input exactly (in place).
#pragma once

#include <cstdint>

#include "base/bytes.h"
#include "crypto/secret.h"

namespace plexus::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kXNonceSize = 24;

using AeadKey = Secret<kAeadKeySize>;

void ChaChaPolySeal(MutableByteSpan out, const AeadKey& key, uint64_t counter, ByteSpan plaintext,
                    ByteSpan ad);
[[nodiscard]] bool ChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, uint64_t counter,
                                  ByteSpan ciphertext, ByteSpan ad);

// RFC 8439 form with a full 12-byte nonce, for known-answer tests.
void ChaChaPolySealNonce(MutableByteSpan out, const AeadKey& key, ByteSpan nonce12,
                         ByteSpan plaintext, ByteSpan ad);

void XChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24, ByteSpan plaintext,
                     ByteSpan ad);
[[nodiscard]] bool XChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24,
                                   ByteSpan ciphertext, ByteSpan ad);

}  // namespace plexus::crypto
