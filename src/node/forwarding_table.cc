#include "node/forwarding_table.h"

#include <algorithm>
#include <cstring>

namespace plexus::node {

namespace {

// True when the network `p` contains the raw address (same family assumed).
bool Contains(const Prefix& p, const std::byte* address) {
  const ByteSpan network = p.address().bytes();
  const auto whole = static_cast<size_t>(p.length() / 8);
  if (std::memcmp(network.data(), address, whole) != 0) return false;
  const int rest = p.length() % 8;
  if (rest == 0) return true;
  const auto mask = static_cast<std::byte>(0xff << (8 - rest));
  return (network[whole] & mask) == (address[whole] & mask);
}

// More specific sources first; the entry without a source last.
bool MoreSpecific(const std::optional<Prefix>& a, const std::optional<Prefix>& b) {
  return (a ? a->length() : -1) > (b ? b->length() : -1);
}

}  // namespace

Status ForwardingTable::Insert(const ForwardingEntry& entry) {
  const Prefix destination = entry.destination.Network();
  std::optional<Prefix> source;
  if (entry.source) source = entry.source->Network();
  if (source && source->family() != destination.family()) {
    return MakeError("route {} from {}: families differ", destination.ToString(),
                     source->ToString());
  }
  auto [it, added] = group_of_.emplace(destination, static_cast<uint32_t>(groups_.size()));
  if (added) {
    if (Status s = destinations_.Insert(destination, it->second); !s) return s;
    groups_.emplace_back();
  }
  Group& group = groups_[it->second];
  if (std::any_of(group.begin(), group.end(),
                  [&](const Candidate& c) { return c.source == source; })) {
    return MakeError("route {} from {} exists already", destination.ToString(),
                     source ? source->ToString() : "any");
  }
  auto at = std::upper_bound(
      group.begin(), group.end(), source,
      [](const std::optional<Prefix>& s, const Candidate& c) { return MoreSpecific(s, c.source); });
  group.insert(at, Candidate{source, entry.target});
  ++size_;
  return Ok();
}

const ForwardingTarget* ForwardingTable::Match(const Group& group, const std::byte* source) {
  for (const Candidate& c : group) {
    if (!c.source || Contains(*c.source, source)) return &c.target;
  }
  return nullptr;
}

std::optional<ForwardingTarget> ForwardingTable::Find(IpFamily family, const std::byte* destination,
                                                      const std::byte* source) const {
  const ForwardingTarget* found = nullptr;
  destinations_.LookupIf(family, destination, [&](uint32_t group) {
    found = Match(groups_[group], source);
    return found != nullptr;
  });
  if (found == nullptr) return std::nullopt;
  return *found;
}

std::optional<ForwardingTarget> ForwardingTable::Lookup(const IpPacketView& packet) const {
  return Find(packet.version == 4 ? IpFamily::kV4 : IpFamily::kV6, packet.destination,
              packet.source);
}

std::optional<ForwardingTarget> ForwardingTable::Lookup(const IpAddress& destination,
                                                        const IpAddress& source) const {
  if (destination.family() != source.family()) return std::nullopt;
  return Find(destination.family(), destination.bytes().data(), source.bytes().data());
}

}  // namespace plexus::node
