// Hashing of the routing tables' keys (prefixes, router-ids), for the tables
// that need no order: a lookup then costs one hash and one comparison instead
// of a walk down a tree comparing 16-byte addresses.
//
// The hash is fixed (no per-process seed): a peer announcing many prefixes
// chosen to collide could lengthen the probes of FlatHashMap. Accepted
// because Babel neighbours are authenticated mesh members whose Updates pass
// EngineParams::import_filter, and such a peer can already grow the tables
// by announcing prefixes at all.
//
// Threading: pure functions; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

#include "babel/router_id.h"
#include "base/ip.h"

namespace plexus::babel {

// Mixes `value` into `seed` (a multiply-xorshift step; good enough to spread
// addresses that differ in a few bits across a hash table's buckets).
constexpr uint64_t HashMix(uint64_t seed, uint64_t value) {
  uint64_t h = (seed ^ value) * 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

inline uint64_t HashPrefix(uint64_t seed, const Prefix& prefix) {
  const ByteSpan bytes = prefix.address().bytes();
  uint64_t half[2] = {0, 0};
  std::memcpy(half, bytes.data(), bytes.size());
  seed = HashMix(seed, half[0]);
  seed = HashMix(seed, half[1]);
  return HashMix(
      seed, static_cast<uint64_t>(prefix.length()) << 8 | static_cast<uint64_t>(prefix.family()));
}

inline uint64_t HashPrefix(uint64_t seed, const std::optional<Prefix>& prefix) {
  return prefix ? HashPrefix(HashMix(seed, 1), *prefix) : HashMix(seed, 0);
}

inline uint64_t HashRouterId(uint64_t seed, const RouterId& id) {
  static_assert(RouterId::kSize == sizeof(uint64_t));
  uint64_t value = 0;
  std::memcpy(&value, id.bytes().data(), sizeof(value));
  return HashMix(seed, value);
}

}  // namespace plexus::babel
