// BLAKE2s (RFC 7693) and the constructions WireGuard builds on it:
// HASH, MAC (keyed BLAKE2s-128), HMAC-BLAKE2s and the HKDF of the Noise spec.
#pragma once

#include <initializer_list>

#include "base/bytes.h"
#include "crypto/secret.h"

namespace plexus::crypto {

inline constexpr size_t kHashSize = 32;
inline constexpr size_t kMacSize = 16;

using Hash = ByteArray<kHashSize>;

// Incremental BLAKE2s with a 32-byte digest, unkeyed. Final returns the digest
// of everything passed to Update since construction (or the previous Final)
// and resets the object to the empty state. Does not allocate. One thread at a
// time.
class Blake2s {
 public:
  Blake2s();
  ~Blake2s();
  Blake2s(const Blake2s&) = delete;
  Blake2s& operator=(const Blake2s&) = delete;

  void Update(ByteSpan data);
  Hash Final();

 private:
  struct State;
  alignas(8) std::byte state_[128];  // opaque, sized for the implementation's state
};

// HASH(a || b || ...) = BLAKE2s-256.
Hash Blake2sHash(std::initializer_list<ByteSpan> parts);

// Keyed BLAKE2s with an `out.size()`-byte digest (1..32), key of 0..32 bytes
// (RFC 7693 §3.3; an empty key means unkeyed). WireGuard's MAC(key, input) is
// this with a 16-byte output. Sizes out of range are a programming error (abort).
void Blake2sKeyed(MutableByteSpan out, ByteSpan key, ByteSpan input);

// HMAC (RFC 2104) over BLAKE2s-256 with a 64-byte block.
Hash HmacBlake2s(ByteSpan key, std::initializer_list<ByteSpan> parts);

// The Noise/WireGuard KDF_n(key, input): T0 = HMAC(key, input); T1 = HMAC(T0, 0x1);
// Ti = HMAC(T0, T(i-1) || i). Fills each of `outputs` (1..3 of them) in order.
// `key` and `input` are consumed before any output is written, so they may
// alias an output (as in WireGuard's `Ck := KDF1(Ck, ...)`).
void Kdf(std::initializer_list<Secret<kHashSize>*> outputs, ByteSpan key, ByteSpan input);

}  // namespace plexus::crypto
