// SimRandom: the simulator's one seeded, deterministic Random (xoshiro256**,
// state expanded from the seed by splitmix64; not secure). The simulator
// draws link jitter and loss from it, and hands it to every engine for theirs,
// so one seed fixes a whole run (STYLE.md rule 6).
//
// Threading: not thread-safe; owned by one sim::Network.
#pragma once

#include <array>
#include <cstdint>

#include "base/random.h"
#include "base/time.h"

namespace plexus::sim {

class SimRandom final : public Random {
 public:
  explicit SimRandom(uint64_t seed);

  void Fill(MutableByteSpan out) override;

  uint64_t Next();
  // Uniform in [0, 1).
  double UniformReal();
  // True with probability p (p <= 0: never, p >= 1: always).
  bool Bernoulli(double p);
  // Uniform in [0, bound) for bound > 0; 0 otherwise.
  uint64_t Below(uint64_t bound);
  // Uniform in [0, max]; zero when max <= 0.
  Duration UpTo(Duration max);

 private:
  std::array<uint64_t, 4> s_{};
};

}  // namespace plexus::sim
