// Injected randomness (STYLE.md rule 6). Cores take a Random&; the node passes
// SystemRandom (libsodium's CSPRNG), tests pass testing::FakeRandom (seeded).
#pragma once

#include <cstdint>

#include "base/bytes.h"

namespace plexus {

class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(MutableByteSpan out) = 0;

  uint32_t NextU32() {
    uint32_t v;
    Fill(MutableByteSpan(reinterpret_cast<std::byte*>(&v), sizeof v));
    return v;
  }
  uint64_t NextU64() {
    uint64_t v;
    Fill(MutableByteSpan(reinterpret_cast<std::byte*>(&v), sizeof v));
    return v;
  }
  // Uniform in [0, bound); bound > 0.
  uint32_t Uniform(uint32_t bound);
};

// Cryptographically secure; thread-safe.
class SystemRandom final : public Random {
 public:
  void Fill(MutableByteSpan out) override;
};

}  // namespace plexus
