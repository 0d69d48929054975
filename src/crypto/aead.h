// AEADs used by WireGuard: ChaCha20-Poly1305 (RFC 8439 §2.8) with WireGuard's
// nonce (32 zero bits then a little-endian 64-bit counter; WireGuard paper
// §5.4.6), and XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03 §2) for cookie
// replies.
//
// Stateless and thread-safe: the data-plane workers call these concurrently,
// and they do not allocate on the packet path.
// Seal writes plaintext.size() + kAeadTagSize bytes (ciphertext then tag) to
// the front of `out`; Open writes ciphertext.size() - kAeadTagSize bytes and
// returns false on a bad tag (and then leaves `out` unspecified: it may be
// zeroed or hold the unmodified input, never plaintext). `out` may alias the
// input exactly (in place); any other overlap is a programming error.
// Preconditions (violations abort, they are programming errors): Seal's `out`
// has room for plaintext.size() + kAeadTagSize bytes; a nonce span has exactly
// its documented size. Open returns false, without aborting, when the
// ciphertext is shorter than a tag or `out` is too small.
#pragma once

#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "crypto/secret.h"

namespace plexus::crypto {

inline constexpr size_t kAeadKeySize = 32;
inline constexpr size_t kAeadTagSize = 16;
inline constexpr size_t kXNonceSize = 24;
inline constexpr size_t kChaChaNonceSize = 12;

using AeadKey = Secret<kAeadKeySize>;
using ChaChaNonce = std::span<const std::byte, kChaChaNonceSize>;

// WireGuard's transport/handshake AEAD: nonce = 0^32 || LE64(counter).
void ChaChaPolySeal(MutableByteSpan out, const AeadKey& key, uint64_t counter, ByteSpan plaintext,
                    ByteSpan ad);
[[nodiscard]] bool ChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, uint64_t counter,
                                  ByteSpan ciphertext, ByteSpan ad);

// RFC 8439 form with a full 12-byte nonce, for known-answer tests.
void ChaChaPolySealNonce(MutableByteSpan out, const AeadKey& key, ByteSpan nonce12,
                         ByteSpan plaintext, ByteSpan ad);
[[nodiscard]] bool ChaChaPolyOpenNonce(MutableByteSpan out, const AeadKey& key, ByteSpan nonce12,
                                       ByteSpan ciphertext, ByteSpan ad);

void XChaChaPolySeal(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24, ByteSpan plaintext,
                     ByteSpan ad);
[[nodiscard]] bool XChaChaPolyOpen(MutableByteSpan out, const AeadKey& key, ByteSpan nonce24,
                                   ByteSpan ciphertext, ByteSpan ad);

}  // namespace plexus::crypto
