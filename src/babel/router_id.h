// RouterId: the 8-byte Babel router-id (RFC 8966 §3.2.2, §4.6.7).
#pragma once

#include <algorithm>
#include <compare>
#include <cstdint>
#include <string>

#include "base/bytes.h"

namespace plexus::babel {

// All zeros and all ones are reserved and invalid (RFC 8966 §4.6.7); a
// default-constructed RouterId is all zeros and so invalid.
class RouterId {
 public:
  static constexpr size_t kSize = 8;

  RouterId() = default;
  explicit RouterId(const ByteArray<kSize>& bytes) : bytes_(bytes) {}
  // The first 8 bytes of `eight`; it must hold at least 8 bytes.
  static RouterId FromBytes(ByteSpan eight) {
    RouterId id;
    std::copy_n(eight.begin(), kSize, id.bytes_.begin());
    return id;
  }
  static RouterId FromUint64(uint64_t v) {
    RouterId id;
    for (size_t i = 0; i < kSize; ++i)
      id.bytes_[i] = static_cast<std::byte>(v >> (8 * (kSize - 1 - i)));
    return id;
  }

  const ByteArray<kSize>& bytes() const { return bytes_; }
  bool IsValid() const { return !AllAre(std::byte{0}) && !AllAre(std::byte{0xff}); }
  // Printed as babeld does: eight hex pairs separated by colons.
  std::string ToString() const {
    std::string hex = ToHex(bytes_), out;
    for (size_t i = 0; i < hex.size(); i += 2) out += (i ? ":" : "") + hex.substr(i, 2);
    return out;
  }

  auto operator<=>(const RouterId&) const = default;

 private:
  bool AllAre(std::byte b) const {
    return std::all_of(bytes_.begin(), bytes_.end(), [b](std::byte x) { return x == b; });
  }

  ByteArray<kSize> bytes_{};
};

}  // namespace plexus::babel
