// Per-source handshake rate limit, applied under load after mac2 is valid
// (whitepaper §5.3; the kernel module's ratelimiter.c): a token bucket per
// IPv4 address or IPv6 /64, kHandshakesPerSecond refill, kHandshakeBurst deep.
//
// Pure: `now` is an argument. Threading: control thread only.
#pragma once

#include <cstdint>
#include <unordered_map>

#include "base/ip.h"
#include "base/time.h"

namespace plexus::wireguard {

class HandshakeRateLimiter {
 public:
  // True when one more handshake message from `source` may be processed.
  [[nodiscard]] bool Allow(const IpAddress& source, Timestamp now);

  size_t entries() const { return buckets_.size(); }

 private:
  struct Bucket {
    Timestamp last;
    Duration tokens;  // tokens are measured in time: one packet costs kPacketCost
  };
  // IPv4 address, or the /64 of an IPv6 address, with the family in the top byte.
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.hi * 0x9e3779b97f4a7c15ULL ^ k.lo; }
  };
  static Key KeyOf(const IpAddress& a);
  // Drops buckets idle for over a second (they would be full again anyway).
  void CollectGarbage(Timestamp now);

  std::unordered_map<Key, Bucket, KeyHash> buckets_;
  Timestamp last_gc_;
};

}  // namespace plexus::wireguard
