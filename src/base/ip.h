// IP addresses, prefixes and UDP endpoints as value types (STYLE.md rule 14).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"

namespace plexus {

enum class IpFamily : uint8_t { kV4 = 4, kV6 = 6 };

// An IPv4 or IPv6 address. IPv4 is stored in the first 4 bytes.
class IpAddress {
 public:
  IpAddress() = default;
  static IpAddress V4(const std::array<uint8_t, 4>& b);
  static IpAddress V6(const std::array<uint8_t, 16>& b);
  static IpAddress FromV4Bytes(ByteSpan four);
  static IpAddress FromV6Bytes(ByteSpan sixteen);
  // "192.0.2.1" or "fd00::1" (no brackets, no zone).
  static Result<IpAddress> Parse(std::string_view text);

  IpFamily family() const { return family_; }
  bool is_v4() const { return family_ == IpFamily::kV4; }
  bool is_v6() const { return family_ == IpFamily::kV6; }
  // 4 or 16 bytes.
  ByteSpan bytes() const { return ByteSpan(b_).first(is_v4() ? 4 : 16); }
  int bit_length() const { return is_v4() ? 32 : 128; }
  bool IsLinkLocalV6() const;
  std::string ToString() const;
  // Family first (IPv4 before IPv6), then the 16 stored bytes in
  // lexicographic order: the defaulted order, without a call to memcmp
  // (addresses are map keys on the routing hot path).
  std::strong_ordering operator<=>(const IpAddress& other) const {
    if (const auto by_family = family_ <=> other.family_; std::is_neq(by_family)) return by_family;
    if (const auto high = Half(0) <=> other.Half(0); std::is_neq(high)) return high;
    return Half(1) <=> other.Half(1);
  }
  bool operator==(const IpAddress&) const = default;

 private:
  // Bytes [8 * i, 8 * i + 8) as a big-endian number.
  uint64_t Half(size_t i) const {
    uint64_t v = 0;
    std::memcpy(&v, b_.data() + sizeof(v) * i, sizeof(v));
    if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
    return v;
  }

  IpFamily family_ = IpFamily::kV4;
  ByteArray<16> b_{};
};

// An address with a prefix length; the host bits are kept as given (so
// "fd00::1/64" names both the interface address and its network).
class Prefix {
 public:
  Prefix() = default;
  Prefix(IpAddress address, int length) : address_(address), length_(length) {}
  // "fd00::/64", "10.0.0.1/24"; a bare address means /32 or /128.
  static Result<Prefix> Parse(std::string_view text);

  const IpAddress& address() const { return address_; }
  int length() const { return length_; }
  IpFamily family() const { return address_.family(); }
  // This prefix with host bits cleared.
  Prefix Network() const;
  bool Contains(const IpAddress& a) const;
  bool Contains(const Prefix& p) const;
  std::string ToString() const;
  auto operator<=>(const Prefix&) const = default;

 private:
  IpAddress address_;
  int length_ = 0;
};

// A UDP endpoint: address and port.
class Endpoint {
 public:
  Endpoint() = default;
  Endpoint(IpAddress address, uint16_t port) : address_(address), port_(port) {}
  // "192.0.2.1:51820" or "[2001:db8::1]:51820". Host names are not resolved here.
  static Result<Endpoint> Parse(std::string_view text);
  static std::optional<Endpoint> FromSockaddr(const sockaddr* sa, socklen_t len);

  const IpAddress& address() const { return address_; }
  uint16_t port() const { return port_; }
  bool IsSet() const { return port_ != 0; }
  // Fills `out` (a sockaddr_in or sockaddr_in6; v4 as-is, never v4-mapped) and returns its length.
  socklen_t ToSockaddr(sockaddr_storage& out) const;
  std::string ToString() const;
  auto operator<=>(const Endpoint&) const = default;

 private:
  IpAddress address_;
  uint16_t port_ = 0;
};

}  // namespace plexus
