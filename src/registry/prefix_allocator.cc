#include "registry/prefix_allocator.h"

#include <iterator>
#include <limits>

namespace plexus {

PrefixAllocator::PrefixAllocator(Prefix network)
    : network_(network.Network()), free_(network_.address().bit_length() + 1) {
  free_[network_.length()].insert(ToValue(network_.address()));
}

PrefixAllocator::U128 PrefixAllocator::ToValue(const IpAddress& a) const {
  U128 v = 0;
  for (std::byte b : a.bytes()) v = (v << 8) | static_cast<uint8_t>(b);
  return v;
}

Prefix PrefixAllocator::ToPrefix(U128 value, int length) const {
  std::array<uint8_t, 16> b{};
  int n = bits() / 8;
  for (int i = n - 1; i >= 0; --i, value >>= 8) b[i] = static_cast<uint8_t>(value & 0xff);
  IpAddress a =
      network_.address().is_v4() ? IpAddress::V4({b[0], b[1], b[2], b[3]}) : IpAddress::V6(b);
  return Prefix(a, length);
}

PrefixAllocator::U128 PrefixAllocator::Mask(U128 value, int length) const {
  int host = bits() - length;
  if (host >= 128) return 0;
  return value & ~((U128{1} << host) - 1);
}

PrefixAllocator::U128 PrefixAllocator::BlockBit(int length) const {
  return U128{1} << (bits() - length);
}

Status PrefixAllocator::CheckLength(int length) const {
  if (length < network_.length()) {
    return MakeError("length {} is shorter than the network's {}", length, network_.length());
  }
  if (length > bits()) {
    return MakeError("length {} is longer than an IPv{} address ({} bits)", length,
                     static_cast<int>(network_.family()), bits());
  }
  return Ok();
}

Status PrefixAllocator::CheckInside(const Prefix& prefix) const {
  if (prefix.family() != network_.family()) {
    return MakeError("{} is not an IPv{} prefix like the network {}", prefix.ToString(),
                     static_cast<int>(network_.family()), network_.ToString());
  }
  if (!network_.Contains(prefix)) {
    return MakeError("{} is outside the network {}", prefix.ToString(), network_.ToString());
  }
  if (prefix.address() != prefix.Network().address()) {
    return MakeError("{} has host bits set (the block is {})", prefix.ToString(),
                     prefix.Network().ToString());
  }
  return Ok();
}

// The length of the free block containing the block (value, length), if any.
std::optional<int> PrefixAllocator::FreeContaining(U128 value, int length) const {
  for (int l = length; l >= network_.length(); --l) {
    if (free_[l].contains(Mask(value, l))) return l;
  }
  return std::nullopt;
}

// An allocated block that contains, or lies inside, the block (value, length).
std::optional<Prefix> PrefixAllocator::AllocatedOverlapping(U128 value, int length) const {
  auto after = allocated_.upper_bound(value);
  if (after != allocated_.begin()) {
    auto [start, len] = *std::prev(after);
    if (Mask(value, len) == start) return ToPrefix(start, len);
  }
  auto inside = allocated_.lower_bound(value);
  if (inside != allocated_.end() && Mask(inside->first, length) == value) {
    return ToPrefix(inside->first, inside->second);
  }
  return std::nullopt;
}

// Splits the free block of `from_length` containing `target` down to the
// block (target, to_length), which is left off the free lists; each level's
// other half becomes free.
void PrefixAllocator::SplitDown(U128 target, int from_length, int to_length) {
  free_[from_length].erase(Mask(target, from_length));
  for (int l = from_length + 1; l <= to_length; ++l) {
    free_[l].insert(Mask(target, l) ^ BlockBit(l));
  }
}

// Puts a block on the free lists, merging with its buddy while that is free.
void PrefixAllocator::InsertFree(U128 value, int length) {
  while (length > network_.length() && free_[length].erase(value ^ BlockBit(length)) == 1) {
    --length;
    value = Mask(value, length);
  }
  free_[length].insert(value);
}

Result<Prefix> PrefixAllocator::Allocate(int length) {
  if (Status s = CheckLength(length); !s) return s.error();
  for (int l = length; l >= network_.length(); --l) {
    if (free_[l].empty()) continue;
    U128 start = *free_[l].begin();
    SplitDown(start, l, length);
    allocated_.emplace(start, length);
    return ToPrefix(start, length);
  }
  return MakeError("no free /{} left in {}", length, network_.ToString());
}

Status PrefixAllocator::Reserve(const Prefix& prefix) {
  if (Status s = CheckInside(prefix); !s) return s;
  U128 value = ToValue(prefix.address());
  std::optional<int> free_length = FreeContaining(value, prefix.length());
  if (!free_length) {
    std::optional<Prefix> used = AllocatedOverlapping(value, prefix.length());
    if (used && *used == prefix) return MakeError("{} is already allocated", prefix.ToString());
    return MakeError("{} overlaps the allocated {}", prefix.ToString(),
                     used ? used->ToString() : "block");
  }
  SplitDown(value, *free_length, prefix.length());
  allocated_.emplace(value, prefix.length());
  return Ok();
}

Status PrefixAllocator::Free(const Prefix& prefix) {
  if (Status s = CheckInside(prefix); !s) return s;
  U128 value = ToValue(prefix.address());
  auto it = allocated_.find(value);
  if (it != allocated_.end() && it->second == prefix.length()) {
    allocated_.erase(it);
    InsertFree(value, prefix.length());
    return Ok();
  }
  if (FreeContaining(value, prefix.length())) {
    return MakeError("{} is not allocated (it is free: double free?)", prefix.ToString());
  }
  std::optional<Prefix> used = AllocatedOverlapping(value, prefix.length());
  return MakeError("{} is not allocated (the allocated block there is {})", prefix.ToString(),
                   used ? used->ToString() : "unknown");
}

bool PrefixAllocator::IsAllocated(const Prefix& prefix) const {
  if (!CheckInside(prefix)) return false;
  auto it = allocated_.find(ToValue(prefix.address()));
  return it != allocated_.end() && it->second == prefix.length();
}

std::optional<Prefix> PrefixAllocator::FindAllocated(const IpAddress& address) const {
  if (!network_.Contains(address)) return std::nullopt;
  U128 value = ToValue(address);
  auto after = allocated_.upper_bound(value);
  if (after == allocated_.begin()) return std::nullopt;
  auto [start, len] = *std::prev(after);
  if (Mask(value, len) != start) return std::nullopt;
  return ToPrefix(start, len);
}

uint64_t PrefixAllocator::FreeCount(int length) const {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  if (!CheckLength(length)) return 0;
  U128 total = 0;
  for (int l = network_.length(); l <= length; ++l) {
    if (free_[l].empty()) continue;
    int shift = length - l;
    if (shift >= 64) return kMax;
    total += static_cast<U128>(free_[l].size()) << shift;
    if (total >= kMax) return kMax;
  }
  return static_cast<uint64_t>(total);
}

std::vector<Prefix> PrefixAllocator::AllocatedBlocks() const {
  std::vector<Prefix> out;
  out.reserve(allocated_.size());
  for (auto [start, len] : allocated_) out.push_back(ToPrefix(start, len));
  return out;
}

std::vector<Prefix> PrefixAllocator::FreeBlocks() const {
  std::vector<Prefix> out;
  for (int l = network_.length(); l <= bits(); ++l) {
    for (U128 start : free_[l]) out.push_back(ToPrefix(start, l));
  }
  return out;
}

}  // namespace plexus
