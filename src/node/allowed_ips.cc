#include "node/allowed_ips.h"

#include <algorithm>
#include <cstring>

namespace plexus::node {

namespace {
uint64_t LoadBe64(const std::byte* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | std::to_integer<uint64_t>(p[i]);
  return v;
}
}  // namespace

AllowedIps::Key AllowedIps::MaskFor(int length) {
  auto bits = [](int n) -> uint64_t {
    if (n <= 0) return 0;
    if (n >= 64) return ~uint64_t{0};
    return ~uint64_t{0} << (64 - n);
  };
  return {bits(length), bits(length - 64)};
}

// An IPv4 address occupies the top 32 bits of `hi`, so masks and lengths work
// the same for both families.
AllowedIps::Key AllowedIps::KeyOf(const std::byte* bytes, size_t n) {
  std::byte buf[16] = {};
  std::memcpy(buf, bytes, n);
  return {LoadBe64(buf), LoadBe64(buf + 8)};
}

Status AllowedIps::Insert(const Prefix& prefix, uint32_t value) {
  std::vector<Level>& levels = LevelsFor(prefix.family());
  auto it = std::find_if(levels.begin(), levels.end(),
                         [&](const Level& l) { return l.length == prefix.length(); });
  if (it == levels.end()) {
    Level level{prefix.length(), MaskFor(prefix.length()), {}};
    it = levels.insert(
        std::upper_bound(levels.begin(), levels.end(), level,
                         [](const Level& a, const Level& b) { return a.length > b.length; }),
        std::move(level));
  }
  ByteSpan b = prefix.address().bytes();
  Key key = KeyOf(b.data(), b.size());
  key = {key.hi & it->mask.hi, key.lo & it->mask.lo};
  if (!it->entries.emplace(key, value).second) {
    return MakeError("prefix {} is already allowed for another peer", prefix.Network().ToString());
  }
  ++size_;
  return Ok();
}

std::optional<uint32_t> AllowedIps::LookupV4(const std::byte* address4) const {
  return LookupIf(IpFamily::kV4, address4, [](uint32_t) { return true; });
}

std::optional<uint32_t> AllowedIps::LookupV6(const std::byte* address16) const {
  return LookupIf(IpFamily::kV6, address16, [](uint32_t) { return true; });
}

std::optional<uint32_t> AllowedIps::Lookup(const IpAddress& address) const {
  return address.is_v4() ? LookupV4(address.bytes().data()) : LookupV6(address.bytes().data());
}

}  // namespace plexus::node
