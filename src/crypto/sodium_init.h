// One-time libsodium initialisation.
#pragma once

namespace plexus::crypto {

// Calls sodium_init() exactly once per process (thread-safe, cheap after the
// first call). libsodium works without it but then uses its portable code
// instead of the CPU-specific (AVX2, SSE) implementations it selects here.
// Every crypto/ function that calls libsodium's primitives calls this first.
void EnsureSodiumInitialized();

}  // namespace plexus::crypto
