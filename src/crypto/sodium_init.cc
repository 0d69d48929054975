#include "crypto/sodium_init.h"

#include <sodium.h>

#include <cstdlib>

namespace plexus::crypto {

void EnsureSodiumInitialized() {
  // A function-local static: C++ guarantees one initialisation, then each call
  // is a single load. sodium_init() fails only when it cannot open the system
  // randomness source, and nothing here can run safely without it.
  static const bool initialized = [] {
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)initialized;
}

}  // namespace plexus::crypto
