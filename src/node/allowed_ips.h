// AllowedIps: WireGuard's cryptokey routing table (whitepaper §2): a longest-
// prefix-match map from IPv4/IPv6 prefixes to a value (a peer slot).
//
// Built once by the control thread and then read-only: the data-plane workers
// look up destinations (outbound) and check sources (inbound) on an immutable
// instance inside the published snapshot, so lookups take no lock.
//
// Layout: per family, one hash map per distinct prefix length, longest first.
// A lookup masks the address to each length in turn and probes that map, so it
// costs one hash probe per distinct length in use (typically 1-3), independent
// of the number of prefixes.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace plexus::node {

class AllowedIps {
 public:
  // Adds `prefix` (host bits ignored) mapped to `value`. Fails if the same
  // network is already mapped (one prefix belongs to one peer).
  Status Insert(const Prefix& prefix, uint32_t value);

  // The value of the longest prefix containing `address`, if any.
  std::optional<uint32_t> Lookup(const IpAddress& address) const;
  // The same for a raw 4- or 16-byte address in packet order (the data-plane form).
  std::optional<uint32_t> LookupV4(const std::byte* address4) const;
  std::optional<uint32_t> LookupV6(const std::byte* address16) const;
  // The value of the longest prefix containing `address` (4 or 16 bytes in
  // packet order, by `family`) that `accept(value)` approves; shorter
  // prefixes are tried while it refuses (the forwarding table's source step).
  template <typename Accept>
  std::optional<uint32_t> LookupIf(IpFamily family, const std::byte* address,
                                   Accept&& accept) const {
    const bool v4 = family == IpFamily::kV4;
    const Key key = KeyOf(address, v4 ? 4 : 16);
    for (const Level& level : v4 ? v4_ : v6_) {
      auto it = level.entries.find({key.hi & level.mask.hi, key.lo & level.mask.lo});
      if (it != level.entries.end() && accept(it->second)) return it->second;
    }
    return std::nullopt;
  }

  size_t size() const { return size_; }

 private:
  struct Key {
    uint64_t hi = 0;
    uint64_t lo = 0;
    bool operator==(const Key&) const = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.hi * 0x9e3779b97f4a7c15ULL ^ k.lo; }
  };
  struct Level {
    int length;
    Key mask;
    std::unordered_map<Key, uint32_t, KeyHash> entries;
  };

  static Key MaskFor(int length);
  static Key KeyOf(const std::byte* bytes, size_t n);
  std::vector<Level>& LevelsFor(IpFamily f) { return f == IpFamily::kV4 ? v4_ : v6_; }

  std::vector<Level> v4_;  // sorted by length, longest first
  std::vector<Level> v6_;
  size_t size_ = 0;
};

}  // namespace plexus::node
