// PrefixAllocator: hands out sub-prefixes of the network prefix to nodes
// (DESIGN.md §2.4) as a binary buddy system.
//
//   fd12:3456:789a::/48                       Allocate(64) on a fresh /48:
//     ├── fd12:3456:789a::/49      split ┐       /48 is split into /49 + /49,
//     │     ├── .../50             split │       the low half again, and so on
//     │     │    ...                     │       down to /64; every upper half
//     │     │     ├── ::/64   ← allocated│       stays on its length's free list.
//     │     │     └── 0:1::/64  free     │
//     │     └── 4000::/50       free     │     Free() puts a block back and
//     └── 8000::/49             free     ┘     merges it with its buddy while
//                                               the buddy is free too.
//
// Contracts:
// - Free blocks are maximal: two free buddies are always merged, so "some
//   free block contains X" is equivalent to "every address of X is free".
// - Allocate(L) takes the smallest free block whose length is <= L (the
//   longest free length that fits) and, among those, the lowest address; it
//   then splits it keeping the lower half each time. The choice depends only
//   on the current state, so replaying the same calls gives the same prefixes.
// - Nothing is reserved implicitly: with lowest-first allocation the first
//   Allocate(64) of a /48 returns the network's first /64, which the registry
//   may take for its own node. Callers that want to keep a block out of
//   circulation (e.g. the IPv4 network and broadcast addresses, or blocks
//   rebuilt from storage at startup) call Reserve().
// - Only the free lists (one ordered set per length) and the allocated set
//   are stored, never the leaves: memory is O(allocated * depth).
//
// Not thread-safe: owned and used by the registry's single thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace plexus {

class PrefixAllocator {
 public:
  // `network` may be IPv6 or IPv4; its host bits are ignored (cleared).
  explicit PrefixAllocator(Prefix network);

  const Prefix& network() const { return network_; }

  // A free block of `length`, or an error such as
  // "no free /64 left in fd12:3456:789a::/48".
  [[nodiscard]] Result<Prefix> Allocate(int length);
  // Marks exactly `prefix` as allocated, splitting the free block around it.
  // Fails if any part of it is already allocated.
  [[nodiscard]] Status Reserve(const Prefix& prefix);
  // Returns an allocated (or reserved) block; merges it with free buddies.
  [[nodiscard]] Status Free(const Prefix& prefix);

  // True if `prefix` is exactly an allocated block (not merely inside one).
  bool IsAllocated(const Prefix& prefix) const;
  // The allocated block that contains `address`, if any.
  std::optional<Prefix> FindAllocated(const IpAddress& address) const;
  // How many blocks of `length` could still be allocated, saturating at
  // UINT64_MAX (a free /48 holds 2^80 /128s). 0 for an invalid length.
  uint64_t FreeCount(int length) const;
  size_t AllocatedCount() const { return allocated_.size(); }

  // Allocated blocks in ascending address order.
  std::vector<Prefix> AllocatedBlocks() const;
  // Free blocks, by ascending length then ascending address.
  std::vector<Prefix> FreeBlocks() const;

 private:
  using U128 = unsigned __int128;

  int bits() const { return network_.address().bit_length(); }
  U128 ToValue(const IpAddress& a) const;
  Prefix ToPrefix(U128 value, int length) const;
  U128 Mask(U128 value, int length) const;
  U128 BlockBit(int length) const;  // the bit that tells a block of `length` from its buddy
  Status CheckLength(int length) const;
  Status CheckInside(const Prefix& prefix) const;
  std::optional<int> FreeContaining(U128 value, int length) const;
  std::optional<Prefix> AllocatedOverlapping(U128 value, int length) const;
  void SplitDown(U128 value, int from_length, int to_length);
  void InsertFree(U128 value, int length);

  Prefix network_;
  // free_[l]: start values of free blocks of length l (indices 0..bits()).
  std::vector<std::set<U128>> free_;
  // Allocated blocks: start value -> length. Blocks never overlap, so the
  // start value is a unique key.
  std::map<U128, int> allocated_;
};

}  // namespace plexus
