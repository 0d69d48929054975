#include "base/random.h"

#include <sodium.h>

namespace plexus {

uint32_t Random::Uniform(uint32_t bound) {
  // Rejection sampling: discard the top partial range so every value is equally likely.
  const uint32_t limit = UINT32_MAX - (UINT32_MAX % bound);
  uint32_t v;
  do {
    v = NextU32();
  } while (v >= limit);
  return v % bound;
}

void SystemRandom::Fill(MutableByteSpan out) {
  randombytes_buf(out.data(), out.size());
}

}  // namespace plexus
