#include "wireguard/ratelimiter.h"

#include <algorithm>
#include <cstring>

#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

constexpr Duration kPacketCost = Duration(1s) / kHandshakesPerSecond;
constexpr Duration kTokenMax = kPacketCost * kHandshakeBurst;
constexpr Duration kIdle = 1s;

}  // namespace

HandshakeRateLimiter::Key HandshakeRateLimiter::KeyOf(const IpAddress& a) {
  Key k;
  ByteSpan b = a.bytes();
  if (a.is_v4()) {
    k.lo = LoadBe32(b.data());
    k.hi = uint64_t{4} << 56;
  } else {
    std::memcpy(&k.lo, b.data(), 8);  // the /64
    k.hi = uint64_t{6} << 56;
  }
  return k;
}

void HandshakeRateLimiter::CollectGarbage(Timestamp now) {
  if (!last_gc_.IsZero() && now - last_gc_ < kIdle) return;
  last_gc_ = now;
  std::erase_if(buckets_, [&](const auto& kv) { return now - kv.second.last > kIdle; });
}

bool HandshakeRateLimiter::Allow(const IpAddress& source, Timestamp now) {
  CollectGarbage(now);
  Key key = KeyOf(source);
  auto it = buckets_.find(key);
  if (it == buckets_.end()) {
    if (buckets_.size() >= kRateLimiterMaxEntries) return false;
    buckets_.emplace(key, Bucket{now, kTokenMax - kPacketCost});
    return true;
  }
  Bucket& b = it->second;
  b.tokens = std::min(kTokenMax, b.tokens + (now - b.last));
  b.last = now;
  if (b.tokens < kPacketCost) return false;
  b.tokens -= kPacketCost;
  return true;
}

}  // namespace plexus::wireguard
