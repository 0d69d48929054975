// BLAKE2s (RFC 7693) written from the RFC's description, and the WireGuard
// constructions over it (HMAC per RFC 2104, the Noise KDF).
//
// The state lives inside the caller's object: nothing here allocates.
#include "crypto/blake2s.h"

#include <sodium.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>
#include <new>

namespace plexus::crypto {
namespace {

constexpr size_t kBlockSize = 64;

// RFC 7693 §2.6: the IV is the SHA-256 IV.
constexpr uint32_t kIv[8] = {0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                             0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19};

// RFC 7693 §2.7: message word permutations; BLAKE2s uses rounds 0..9.
constexpr uint8_t kSigma[10][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
};

// The running state of one BLAKE2s computation.
struct Core {
  uint32_t h[8];
  uint32_t t[2];  // byte counter, low word first
  uint8_t buf[kBlockSize];
  uint32_t buf_len;
  uint32_t out_len;
};

// RFC 7693 §3.1: the mixing function G with BLAKE2s rotations (16, 12, 8, 7).
inline void G(uint32_t* v, int a, int b, int c, int d, uint32_t x, uint32_t y) {
  v[a] = v[a] + v[b] + x;
  v[d] = std::rotr(v[d] ^ v[a], 16);
  v[c] = v[c] + v[d];
  v[b] = std::rotr(v[b] ^ v[c], 12);
  v[a] = v[a] + v[b] + y;
  v[d] = std::rotr(v[d] ^ v[a], 8);
  v[c] = v[c] + v[d];
  v[b] = std::rotr(v[b] ^ v[c], 7);
}

// RFC 7693 §3.2: the compression function F.
void Compress(Core& s, const uint8_t* block, bool last) {
  uint32_t m[16];
  std::memcpy(m, block, sizeof m);  // little-endian host (see base/bytes.cc)
  uint32_t v[16];
  std::memcpy(v, s.h, sizeof s.h);
  std::memcpy(v + 8, kIv, sizeof kIv);
  v[12] ^= s.t[0];
  v[13] ^= s.t[1];
  if (last) v[14] = ~v[14];
  for (const auto& sg : kSigma) {
    G(v, 0, 4, 8, 12, m[sg[0]], m[sg[1]]);
    G(v, 1, 5, 9, 13, m[sg[2]], m[sg[3]]);
    G(v, 2, 6, 10, 14, m[sg[4]], m[sg[5]]);
    G(v, 3, 7, 11, 15, m[sg[6]], m[sg[7]]);
    G(v, 0, 5, 10, 15, m[sg[8]], m[sg[9]]);
    G(v, 1, 6, 11, 12, m[sg[10]], m[sg[11]]);
    G(v, 2, 7, 8, 13, m[sg[12]], m[sg[13]]);
    G(v, 3, 4, 9, 14, m[sg[14]], m[sg[15]]);
  }
  for (int i = 0; i < 8; ++i) s.h[i] ^= v[i] ^ v[i + 8];
}

void AddToCounter(Core& s, uint32_t n) {
  s.t[0] += n;
  if (s.t[0] < n) ++s.t[1];
}

void Update(Core& s, const uint8_t* in, size_t n);

// RFC 7693 §3.3: parameter block word 0 = 0x0101kknn; a key is padded to one block.
void Init(Core& s, size_t out_len, ByteSpan key) {
  std::memcpy(s.h, kIv, sizeof kIv);
  s.h[0] ^= 0x01010000u ^ (static_cast<uint32_t>(key.size()) << 8) ^ static_cast<uint32_t>(out_len);
  s.t[0] = s.t[1] = 0;
  s.buf_len = 0;
  s.out_len = static_cast<uint32_t>(out_len);
  if (!key.empty()) {
    uint8_t block[kBlockSize] = {};
    std::memcpy(block, key.data(), key.size());
    Update(s, block, kBlockSize);
    sodium_memzero(block, sizeof block);
  }
}

// Buffers input so that the final block (possibly a full one) is compressed
// by Final with the last-block flag set.
void Update(Core& s, const uint8_t* in, size_t n) {
  if (n == 0) return;
  size_t fill = kBlockSize - s.buf_len;
  if (n > fill) {
    std::memcpy(s.buf + s.buf_len, in, fill);
    AddToCounter(s, kBlockSize);
    Compress(s, s.buf, false);
    s.buf_len = 0;
    in += fill;
    n -= fill;
    for (; n > kBlockSize; in += kBlockSize, n -= kBlockSize) {
      AddToCounter(s, kBlockSize);
      Compress(s, in, false);
    }
  }
  std::memcpy(s.buf + s.buf_len, in, n);
  s.buf_len += static_cast<uint32_t>(n);
}

// Writes s.out_len bytes to `out` and wipes the state.
void Final(Core& s, uint8_t* out) {
  AddToCounter(s, s.buf_len);
  std::memset(s.buf + s.buf_len, 0, kBlockSize - s.buf_len);
  Compress(s, s.buf, true);
  uint8_t digest[kHashSize];
  std::memcpy(digest, s.h, sizeof digest);  // little-endian host
  std::memcpy(out, digest, s.out_len);
  sodium_memzero(digest, sizeof digest);
  sodium_memzero(&s, sizeof s);
}

void Update(Core& s, ByteSpan data) {
  Update(s, U8(data), data.size());
}

}  // namespace

struct Blake2s::State {
  Core core;
};
Blake2s::Blake2s() : state_{} {
  static_assert(sizeof(State) <= sizeof(state_) && alignof(State) <= 8);
  Init((new (state_) State)->core, kHashSize, {});
}

Blake2s::~Blake2s() {
  sodium_memzero(state_, sizeof state_);
}

void Blake2s::Update(ByteSpan data) {
  crypto::Update(std::launder(reinterpret_cast<State*>(state_))->core, data);
}

Hash Blake2s::Final() {
  Core& core = std::launder(reinterpret_cast<State*>(state_))->core;
  Hash out;
  crypto::Final(core, U8(MutableByteSpan(out)));
  Init(core, kHashSize, {});
  return out;
}

Hash Blake2sHash(std::initializer_list<ByteSpan> parts) {
  Core s{};
  Init(s, kHashSize, {});
  for (ByteSpan p : parts) Update(s, p);
  Hash out;
  Final(s, U8(MutableByteSpan(out)));
  return out;
}

void Blake2sKeyed(MutableByteSpan out, ByteSpan key, ByteSpan input) {
  if (out.empty() || out.size() > kHashSize || key.size() > kHashSize) std::abort();
  Core s{};
  Init(s, out.size(), key);
  Update(s, input);
  Final(s, U8(out));
}

Hash HmacBlake2s(ByteSpan key, std::initializer_list<ByteSpan> parts) {
  // RFC 2104 §2: keys longer than the block are hashed first, then zero-padded.
  uint8_t pad[kBlockSize] = {};
  if (key.size() > kBlockSize) {
    Hash k = Blake2sHash({key});
    std::memcpy(pad, k.data(), k.size());
    sodium_memzero(k.data(), k.size());
  } else if (!key.empty()) {
    std::memcpy(pad, key.data(), key.size());
  }
  for (uint8_t& b : pad) b ^= 0x36;
  Core s{};
  Init(s, kHashSize, {});
  Update(s, pad, sizeof pad);
  for (ByteSpan p : parts) Update(s, p);
  uint8_t inner[kHashSize];
  Final(s, inner);

  for (uint8_t& b : pad) b ^= 0x36 ^ 0x5c;
  Init(s, kHashSize, {});
  Update(s, pad, sizeof pad);
  Update(s, inner, sizeof inner);
  Hash out;
  Final(s, U8(MutableByteSpan(out)));
  sodium_memzero(pad, sizeof pad);
  sodium_memzero(inner, sizeof inner);
  return out;
}

void Kdf(std::initializer_list<Secret<kHashSize>*> outputs, ByteSpan key, ByteSpan input) {
  Hash t0 = HmacBlake2s(key, {input});
  Hash previous{};
  size_t previous_len = 0;  // T0 feeds no previous output into T1
  uint8_t index = 1;
  for (Secret<kHashSize>* out : outputs) {
    const std::byte counter[1] = {std::byte{index++}};
    previous = HmacBlake2s(t0, {ByteSpan(previous).first(previous_len), counter});
    previous_len = kHashSize;
    std::memcpy(out->data(), previous.data(), kHashSize);
  }
  sodium_memzero(t0.data(), t0.size());
  sodium_memzero(previous.data(), previous.size());
}

}  // namespace plexus::crypto
