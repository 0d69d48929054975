// A deterministic Random for tests and the simulator (splitmix64; not secure).
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "base/random.h"

namespace plexus::testing {

class FakeRandom final : public Random {
 public:
  explicit FakeRandom(uint64_t seed = 1) : state_(seed) {}

  void Fill(MutableByteSpan out) override {
    size_t i = 0;
    while (i < out.size()) {
      uint64_t v = Next();
      size_t n = std::min(out.size() - i, sizeof v);
      std::memcpy(out.data() + i, &v, n);
      i += n;
    }
  }

 private:
  uint64_t Next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }

  uint64_t state_;
};

}  // namespace plexus::testing
