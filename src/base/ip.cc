#include "base/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

namespace plexus {
namespace {

// Longest text inet_pton could accept for IPv6 ("ffff:...:255.255.255.255").
constexpr size_t kMaxAddressText = INET6_ADDRSTRLEN;

bool IsDecimal(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Parses a decimal number of at most `max_digits` digits; nullopt otherwise.
std::optional<int> ParseSmallDecimal(std::string_view s, size_t max_digits) {
  if (!IsDecimal(s) || s.size() > max_digits) return std::nullopt;
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

// The RFC 4291 §2.5.5.2 IPv4-mapped prefix ::ffff:0:0/96.
bool IsV4Mapped(const uint8_t* b) {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(b, kMapped, sizeof(kMapped)) == 0;
}

Result<uint16_t> ParsePort(std::string_view port, std::string_view whole) {
  if (port.empty()) return MakeError("missing port in \"{}\"", whole);
  auto v = ParseSmallDecimal(port, 5);
  if (!v || *v > 65535) return MakeError("invalid port \"{}\" in \"{}\"", port, whole);
  if (*v == 0) return MakeError("port 0 is not allowed in \"{}\"", whole);
  return static_cast<uint16_t>(*v);
}

}  // namespace

IpAddress IpAddress::V4(const std::array<uint8_t, 4>& b) {
  IpAddress a;
  a.family_ = IpFamily::kV4;
  std::memcpy(a.b_.data(), b.data(), 4);
  return a;
}

IpAddress IpAddress::V6(const std::array<uint8_t, 16>& b) {
  IpAddress a;
  a.family_ = IpFamily::kV6;
  std::memcpy(a.b_.data(), b.data(), 16);
  return a;
}

IpAddress IpAddress::FromV4Bytes(ByteSpan four) {
  std::array<uint8_t, 4> b{};
  std::memcpy(b.data(), four.data(), std::min<size_t>(four.size(), 4));
  return V4(b);
}

IpAddress IpAddress::FromV6Bytes(ByteSpan sixteen) {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), sixteen.data(), std::min<size_t>(sixteen.size(), 16));
  return V6(b);
}

Result<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.empty()) return MakeError("empty IP address");
  if (text.find('%') != std::string_view::npos) {
    return MakeError("IPv6 zone identifiers are not supported in \"{}\"", text);
  }
  if (text.size() >= kMaxAddressText) return MakeError("invalid IP address \"{}\"", text);
  std::string z(text);  // inet_pton needs a terminated string.
  std::array<uint8_t, 16> b{};
  if (z.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, z.c_str(), b.data()) == 1) return V4({b[0], b[1], b[2], b[3]});
    return MakeError("invalid IPv4 address \"{}\"", text);
  }
  if (inet_pton(AF_INET6, z.c_str(), b.data()) == 1) return V6(b);
  return MakeError("invalid IPv6 address \"{}\"", text);
}

bool IpAddress::IsLinkLocalV6() const {
  // RFC 4291 §2.5.6: fe80::/10.
  const uint8_t* b = U8(bytes());
  return is_v6() && b[0] == 0xfe && (b[1] & 0xc0) == 0x80;
}

std::string IpAddress::ToString() const {
  // inet_ntop prints the RFC 5952 §4 canonical form for IPv6.
  char buf[INET6_ADDRSTRLEN];
  inet_ntop(is_v4() ? AF_INET : AF_INET6, b_.data(), buf, sizeof(buf));
  return buf;
}

Result<Prefix> Prefix::Parse(std::string_view text) {
  size_t slash = text.find('/');
  auto address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return address.error().Wrap(fmt::format("prefix \"{}\"", text));
  if (slash == std::string_view::npos) return Prefix(*address, address->bit_length());
  std::string_view len_text = text.substr(slash + 1);
  auto length = ParseSmallDecimal(len_text, 3);
  if (!length) return MakeError("invalid prefix length \"{}\" in \"{}\"", len_text, text);
  if (*length > address->bit_length()) {
    return MakeError("prefix length {} out of range for IPv{} in \"{}\"", *length,
                     address->is_v4() ? 4 : 6, text);
  }
  return Prefix(*address, *length);
}

Prefix Prefix::Network() const {
  std::array<uint8_t, 16> b{};
  std::memcpy(b.data(), address_.bytes().data(), address_.bytes().size());
  for (int i = 0; i < address_.bit_length() / 8; ++i) {
    int keep = std::clamp(length_ - i * 8, 0, 8);
    b[i] &= static_cast<uint8_t>(0xff00 >> keep);
  }
  IpAddress net = address_.is_v4() ? IpAddress::V4({b[0], b[1], b[2], b[3]}) : IpAddress::V6(b);
  return Prefix(net, length_);
}

bool Prefix::Contains(const IpAddress& a) const {
  if (a.family() != family()) return false;
  return Prefix(a, length_).Network().address() == Network().address();
}

bool Prefix::Contains(const Prefix& p) const {
  return p.family() == family() && p.length() >= length_ && Contains(p.address());
}

std::string Prefix::ToString() const {
  return fmt::format("{}/{}", address_.ToString(), length_);
}

Result<Endpoint> Endpoint::Parse(std::string_view text) {
  if (text.empty()) return MakeError("empty endpoint");
  std::string_view host, port;
  if (text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return MakeError("missing ']' in \"{}\"", text);
    host = text.substr(1, close - 1);
    std::string_view rest = text.substr(close + 1);
    if (rest.empty() || rest.front() != ':') return MakeError("missing port in \"{}\"", text);
    port = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return MakeError("missing port in \"{}\"", text);
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string_view::npos) {
      return MakeError("IPv6 endpoint needs brackets, as in \"[2001:db8::1]:51820\", in \"{}\"",
                       text);
    }
  }
  auto address = IpAddress::Parse(host);
  if (!address) {
    return MakeError("\"{}\" in \"{}\" is not an IP address (host names are not resolved here)",
                     host, text);
  }
  if (text.front() == '[' && address->is_v4()) {
    return MakeError("brackets are only for IPv6 addresses in \"{}\"", text);
  }
  auto p = ParsePort(port, text);
  if (!p) return p.error();
  return Endpoint(*address, *p);
}

std::optional<Endpoint> Endpoint::FromSockaddr(const sockaddr* sa, socklen_t len) {
  if (sa == nullptr || len < static_cast<socklen_t>(sizeof(sa_family_t))) return std::nullopt;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in in{};
    std::memcpy(&in, sa, sizeof(in));
    return Endpoint(
        IpAddress::FromV4Bytes(ByteSpan(reinterpret_cast<const std::byte*>(&in.sin_addr), 4)),
        ntohs(in.sin_port));
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 in6{};
    std::memcpy(&in6, sa, sizeof(in6));
    const auto* b = reinterpret_cast<const std::byte*>(&in6.sin6_addr);
    IpAddress a = IsV4Mapped(reinterpret_cast<const uint8_t*>(b))
                      ? IpAddress::FromV4Bytes(ByteSpan(b + 12, 4))
                      : IpAddress::FromV6Bytes(ByteSpan(b, 16));
    return Endpoint(a, ntohs(in6.sin6_port));
  }
  return std::nullopt;
}

socklen_t Endpoint::ToSockaddr(sockaddr_storage& out) const {
  std::memset(&out, 0, sizeof(out));
  if (address_.is_v4()) {
    auto* in = reinterpret_cast<sockaddr_in*>(&out);
    in->sin_family = AF_INET;
    in->sin_port = htons(port_);
    std::memcpy(&in->sin_addr, address_.bytes().data(), 4);
    return sizeof(sockaddr_in);
  }
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port_);
  std::memcpy(&in6->sin6_addr, address_.bytes().data(), 16);
  return sizeof(sockaddr_in6);
}

std::string Endpoint::ToString() const {
  if (address_.is_v4()) return fmt::format("{}:{}", address_.ToString(), port_);
  return fmt::format("[{}]:{}", address_.ToString(), port_);
}

}  // namespace plexus
