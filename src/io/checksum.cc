#include "io/checksum.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace plexus::io {
namespace {

// Four native 32-bit lanes (a GCC/Clang vector extension: SSE2 on x86-64,
// NEON on aarch64, scalar code elsewhere).
using U32x4 = uint32_t __attribute__((vector_size(16)));

constexpr size_t kVector = sizeof(U32x4);
// Two vectors per iteration keep two independent dependency chains busy.
constexpr size_t kStride = 2 * kVector;
// Iterations between flushes of the 32-bit lanes; see Lanes.
constexpr size_t kMaxIterations = 32768;

U32x4 LoadVector(const std::byte* p) {
  U32x4 v;
  std::memcpy(&v, p, kVector);
  return v;
}

// Sums of 32-bit words split into 16-bit halves with two operations per
// vector: `all` accumulates whole words (mod 2^32), `high` their upper halves
// (exactly, while below 2^32), so the sum of the lower halves is
// all - (high << 16) mod 2^32, exact while it is below 2^32. Each lane gains
// at most 0xffff per half and iteration, so kMaxIterations keeps both exact.
struct Lanes {
  U32x4 all{};
  U32x4 high{};

  void Add(U32x4 v) {
    all += v;
    high += v >> 16;
  }
  uint64_t Total() const {
    const U32x4 low = all - (high << 16);
    uint64_t sum = 0;
    for (size_t i = 0; i < 4; ++i) sum += uint64_t{low[i]} + high[i];
    return sum;
  }
};

// Adds the native-order 16-bit words of src[0, n) (an odd last byte as the
// low byte of a word) to `sum`, copying them to `dst` if kCopy. Returns the
// unfolded sum.
template <bool kCopy>
uint64_t SumWords(const std::byte* src, std::byte* dst, size_t n, uint64_t sum) {
  while (n >= kStride) {
    Lanes a, b;
    const size_t iterations = std::min(n / kStride, kMaxIterations);
    for (size_t i = 0; i < iterations; ++i, src += kStride, dst += kCopy ? kStride : 0) {
      if constexpr (kCopy) std::memcpy(dst, src, kStride);
      a.Add(LoadVector(src));
      b.Add(LoadVector(src + kVector));
    }
    n -= iterations * kStride;
    sum += a.Total() + b.Total();
  }
  for (size_t width : {8, 8, 8, 4, 2, 1}) {
    if (n < width) continue;
    uint64_t v = 0;
    std::memcpy(&v, src, width);
    if constexpr (kCopy) std::memcpy(dst, src, width);
    sum += (v & 0xffffffff) + (v >> 32);
    src += width, dst += kCopy ? width : 0, n -= width;
  }
  return sum;
}

uint16_t Fold(uint64_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(sum);
}

// Summing native little-endian words and swapping the folded result equals
// summing big-endian words (RFC 1071 §2(B), byte order independence).
uint16_t FromNative(uint64_t sum) {
  return __builtin_bswap16(Fold(sum));
}
uint64_t ToNative(uint16_t sum) {
  return __builtin_bswap16(sum);
}

}  // namespace

uint16_t OnesComplementSum(ByteSpan data, uint16_t initial) {
  return FromNative(SumWords<false>(data.data(), nullptr, data.size(), ToNative(initial)));
}

uint16_t CopyAndSum(MutableByteSpan destination, ByteSpan source, uint16_t initial) {
  return FromNative(
      SumWords<true>(source.data(), destination.data(), source.size(), ToNative(initial)));
}

uint16_t AddOnesComplement(uint16_t a, uint16_t b) {
  return Fold(uint32_t{a} + b);
}

uint16_t UpdateChecksum16(uint16_t checksum, uint16_t old_word, uint16_t new_word) {
  const uint32_t sum = uint32_t{static_cast<uint16_t>(~checksum)} +
                       uint32_t{static_cast<uint16_t>(~old_word)} + new_word;
  return static_cast<uint16_t>(~Fold(sum));
}

uint16_t UpdateChecksum32(uint16_t checksum, uint32_t old_value, uint32_t new_value) {
  checksum = UpdateChecksum16(checksum, static_cast<uint16_t>(old_value >> 16),
                              static_cast<uint16_t>(new_value >> 16));
  return UpdateChecksum16(checksum, static_cast<uint16_t>(old_value & 0xffff),
                          static_cast<uint16_t>(new_value & 0xffff));
}

uint16_t PseudoHeaderSum(ByteSpan source, ByteSpan destination, uint8_t protocol, uint32_t length) {
  // The IPv6 layout (32-bit length, three zero bytes, next header) has the same
  // ones'-complement sum as the IPv4 one (zero, protocol, 16-bit length)
  // whenever the length fits 16 bits, so one layout serves both.
  std::array<std::byte, 8> tail{};
  StoreBe32(tail.data(), length);
  tail[7] = static_cast<std::byte>(protocol);
  return OnesComplementSum(tail, OnesComplementSum(destination, OnesComplementSum(source)));
}

}  // namespace plexus::io
