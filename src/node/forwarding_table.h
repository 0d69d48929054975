// ForwardingTable: the node's FIB (DESIGN.md §2.6): longest-prefix match on
// the destination, IPv6 and IPv4, with source-specific entries (RFC 9079).
//
//   destination ──> AllowedIps (per-length hash maps, longest first)
//                     └─> group: the entries of that destination network,
//                         most specific source first, "any source" last
//   The first group holding an entry whose source contains the packet's
//   source wins ("destination first", RFC 9079 §3.1); when none does, the
//   next shorter destination is tried.
//
// THREADING: built by the control thread, then immutable and shared through
// the published Snapshot; workers look up without locks.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "node/allowed_ips.h"
#include "node/ip_packet.h"

namespace plexus::node {

struct ForwardingTarget {
  enum class Kind : uint8_t {
    kLocal,        // deliver to our TUN device
    kPeer,         // send on the link to Snapshot::peers[peer]
    kUnreachable,  // answer with an ICMP destination unreachable
  };
  Kind kind = Kind::kUnreachable;
  uint32_t peer = 0;  // kPeer only
  bool operator==(const ForwardingTarget&) const = default;
};

struct ForwardingEntry {
  Prefix destination;
  std::optional<Prefix> source;  // nullopt: any source
  ForwardingTarget target;
};

class ForwardingTable {
 public:
  // Adds `entry` (host bits ignored). Fails if an entry for the same
  // destination and source networks exists, or the families differ.
  Status Insert(const ForwardingEntry& entry);

  // The target for a packet, or nullopt when no entry matches.
  std::optional<ForwardingTarget> Lookup(const IpPacketView& packet) const;
  std::optional<ForwardingTarget> Lookup(const IpAddress& destination,
                                         const IpAddress& source) const;

  size_t size() const { return size_; }

 private:
  struct Candidate {
    std::optional<Prefix> source;  // a network (host bits cleared)
    ForwardingTarget target;
  };
  using Group = std::vector<Candidate>;

  static const ForwardingTarget* Match(const Group& group, const std::byte* source);
  std::optional<ForwardingTarget> Find(IpFamily family, const std::byte* destination,
                                       const std::byte* source) const;

  AllowedIps destinations_;  // destination network -> index into groups_
  std::vector<Group> groups_;
  std::map<Prefix, uint32_t> group_of_;  // destination network -> group (for Insert)
  size_t size_ = 0;
};

}  // namespace plexus::node
