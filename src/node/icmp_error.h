// ICMPv6 (RFC 4443) and ICMP (RFC 792) error messages a forwarding node
// sends about a packet it cannot deliver, and the budget that limits them.
//
//   BuildIcmpError(out, offending, kind, our address, mtu)
//     offending may not be answered? (an ICMP error itself, a non-first IPv4
//     fragment, from/to multicast, broadcast or unspecified) ──> 0
//     else out = [IP header: us -> offending source][ICMP type code checksum
//                 parameter][as much of offending as fits in 1280 / 576 bytes]
//
// THREADING: BuildIcmpError is pure and reentrant; a RateLimiter and an
// IcmpErrors belong to one thread (each worker keeps its own).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/time.h"
#include "node/drop_counters.h"
#include "node/snapshot.h"

namespace plexus::node {

// The largest error each family sends: the IPv6 minimum MTU (RFC 4443
// §2.4(c)) and the IPv4 minimum reassembly size (RFC 1812 §4.3.2.3).
inline constexpr size_t kMaxIcmpv6Error = 1280;
inline constexpr size_t kMaxIcmpv4Error = 576;

enum class IcmpError : uint8_t {
  kNoRoute,       // ICMPv6 1/0 no route to destination; ICMP 3/0 net unreachable
  kUnreachable,   // an unreachable route: ICMPv6 1/0; ICMP 3/1 host unreachable
  kTimeExceeded,  // hop limit / TTL exceeded in transit: ICMPv6 3/0; ICMP 11/0
  kPacketTooBig,  // ICMPv6 2/0 with the MTU; ICMP 3/4 (DF set) with the next-hop MTU
};

// Writes into `out` the error `kind` about `offending` (a whole IPv4 or IPv6
// packet), from `source` to the offending packet's source, and returns its
// length. `mtu` is reported by kPacketTooBig. Returns 0 when no error may be
// sent (RFC 4443 §2.4(e), RFC 1812 §4.3.2.7): `offending` does not parse, is
// an ICMP error itself, a non-first IPv4 fragment, comes from an unspecified,
// multicast or broadcast address or goes to a multicast or broadcast one
// (except IPv6 Packet Too Big); or `source` is of the other family, or `out`
// is shorter than kMaxIcmpv6Error / kMaxIcmpv4Error. `out` and `offending`
// must not overlap.
size_t BuildIcmpError(MutableByteSpan out, ByteSpan offending, IcmpError kind,
                      const IpAddress& source, uint32_t mtu = 0);

// A token bucket (RFC 4443 §2.4(f) asks for one on ICMPv6 errors): `burst`
// events at once, refilled at `per_second`.
class RateLimiter {
 public:
  struct Config {
    int64_t per_second;
    int64_t burst;
  };
  explicit RateLimiter(Config config);
  // True, spending one token, when an event may happen at `now`.
  bool Take(Timestamp now);

 private:
  int64_t cost_ns_;      // time to earn one token
  int64_t capacity_ns_;  // burst * cost_ns_
  int64_t credit_ns_;
  int64_t last_ns_ = 0;
};

// The ICMP errors of one worker: built into its own buffer, from the node's
// address of the offending packet's family, within the budget kBudget.
class IcmpErrors {
 public:
  static constexpr RateLimiter::Config kBudget{.per_second = 100, .burst = 20};

  explicit IcmpErrors(DropCounters& drops);
  // The error about `offending` (BuildIcmpError), valid until the next call;
  // empty when none may be sent, the node has no address of that family, or
  // the budget is spent (counted as kIcmpRateLimited).
  MutableByteSpan Build(const Snapshot& snapshot, ByteSpan offending, IcmpError kind, uint32_t mtu,
                        Timestamp now);

 private:
  DropCounters& drops_;
  RateLimiter budget_;
  std::vector<std::byte> buffer_;
};

}  // namespace plexus::node
