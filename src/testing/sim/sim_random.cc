#include "testing/sim/sim_random.h"

#include <algorithm>
#include <cstring>

namespace plexus::sim {
namespace {

uint64_t SplitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

}  // namespace

SimRandom::SimRandom(uint64_t seed) {
  for (uint64_t& word : s_) word = SplitMix64(seed);
}

uint64_t SimRandom::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

void SimRandom::Fill(MutableByteSpan out) {
  size_t i = 0;
  while (i < out.size()) {
    const uint64_t v = Next();
    const size_t n = std::min(out.size() - i, sizeof v);
    std::memcpy(out.data() + i, &v, n);
    i += n;
  }
}

double SimRandom::UniformReal() {
  return static_cast<double>(Next() >> 11) * 0x1.0p-53;
}

bool SimRandom::Bernoulli(double p) {
  if (p <= 0) return false;
  return p >= 1 || UniformReal() < p;
}

uint64_t SimRandom::Below(uint64_t bound) {
  if (bound == 0) return 0;
  // Rejection sampling: drop the top partial range so every value is equally likely.
  const uint64_t limit = UINT64_MAX - (UINT64_MAX % bound);
  uint64_t v = Next();
  while (v >= limit) v = Next();
  return v % bound;
}

Duration SimRandom::UpTo(Duration max) {
  if (max.count() <= 0) return Duration(0);
  return Duration(static_cast<int64_t>(Below(static_cast<uint64_t>(max.count()) + 1)));
}

}  // namespace plexus::sim
