// Per-reason counts of packets the data plane dropped. Workers increment,
// the control thread reads for `plexus status`. Relaxed atomics: counts only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "io/offload.h"
#include "wireguard/drop_reason.h"

namespace plexus::node {

// Drops the WireGuard core does not name: what happens around it in the node.
enum class NodeDrop : uint8_t {
  kNotIp,                 // from TUN: not an IPv4/IPv6 packet
  kNoRoute,               // no forwarding entry for the destination, or an unreachable one
  kStagedOverflow,        // from TUN: the handshake queue of the peer was full
  kSegmentationError,     // from TUN: a GSO super-packet could not be split
  kBadInnerPacket,        // from UDP: decrypted payload is not a valid IP packet
  kSourceNotAllowed,      // from UDP: inner source outside the sending peer's allowed_prefixes
  kHandshakeBacklog,      // from UDP: handshake messages arrive faster than handled
  kLinkLocal,             // link-scoped (fe80::/10, multicast...) and not Babel/link control
  kLinkLocalRateLimited,  // from UDP: Babel/link control beyond the worker's budget
  kLocalDestination,      // from TUN: addressed to this node itself
  kHopLimitExceeded,      // forwarding: hop limit / TTL would reach 0
  kPacketTooBig,          // forwarding: larger than the link MTU (IPv6, or IPv4 with DF)
  kIcmpRateLimited,       // an ICMP error was due but the worker's budget was spent
  kUnauthorisedLink,      // to or from a mesh link not (yet) authorised by certificate
};
inline constexpr size_t kNodeDropCount = static_cast<size_t>(NodeDrop::kUnauthorisedLink) + 1;

std::string_view ToString(NodeDrop d);

class DropCounters {
 public:
  void Count(wireguard::DropReason r) {
    wg_[static_cast<size_t>(r)].fetch_add(1, std::memory_order_relaxed);
  }
  void Count(NodeDrop d) { node_[static_cast<size_t>(d)].fetch_add(1, std::memory_order_relaxed); }
  uint64_t Get(wireguard::DropReason r) const {
    return wg_[static_cast<size_t>(r)].load(std::memory_order_relaxed);
  }
  uint64_t Get(NodeDrop d) const {
    return node_[static_cast<size_t>(d)].load(std::memory_order_relaxed);
  }

 private:
  std::array<std::atomic<uint64_t>, wireguard::kDropReasonCount> wg_{};
  std::array<std::atomic<uint64_t>, kNodeDropCount> node_{};
};

}  // namespace plexus::node
