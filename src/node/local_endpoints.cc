#include "node/local_endpoints.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

#include "identity/peer_record.h"

namespace plexus::node {
namespace {

// Addresses that never reach this host from another machine.
bool IsUnusable(const IpAddress& a) {
  static const Prefix kV4Loopback = *Prefix::Parse("127.0.0.0/8");
  static const Prefix kV4LinkLocal = *Prefix::Parse("169.254.0.0/16");
  static const Prefix kV4Unspecified = *Prefix::Parse("0.0.0.0/32");
  static const Prefix kV6Loopback = *Prefix::Parse("::1/128");
  static const Prefix kV6Unspecified = *Prefix::Parse("::/128");
  if (a.is_v4()) {
    return kV4Loopback.Contains(a) || kV4LinkLocal.Contains(a) || kV4Unspecified.Contains(a);
  }
  return a.IsLinkLocalV6() || kV6Loopback.Contains(a) || kV6Unspecified.Contains(a);
}

bool IsExcluded(const InterfaceAddress& ia, const EndpointFilter& filter) {
  if (!ia.up || ia.loopback || IsUnusable(ia.address)) return true;
  if (!filter.exclude_interface.empty() && ia.interface == filter.exclude_interface) return true;
  return std::ranges::any_of(filter.exclude,
                             [&](const Prefix& p) { return p.Contains(ia.address); });
}

// The address of an AF_INET or AF_INET6 sockaddr; nullopt for other families.
std::optional<IpAddress> AddressOf(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  socklen_t len = sa->sa_family == AF_INET    ? sizeof(sockaddr_in)
                  : sa->sa_family == AF_INET6 ? sizeof(sockaddr_in6)
                                              : 0;
  std::optional<Endpoint> e = Endpoint::FromSockaddr(sa, len);
  if (!e) return std::nullopt;
  return e->address();
}

}  // namespace

std::vector<Endpoint> SelectEndpoints(std::span<const InterfaceAddress> addresses,
                                      const EndpointFilter& filter) {
  std::vector<Endpoint> out;
  if (filter.port == 0) return out;
  for (const InterfaceAddress& ia : addresses) {
    if (out.size() == identity::kMaxPeerRecordEndpoints) break;
    if (IsExcluded(ia, filter)) continue;
    Endpoint e(ia.address, filter.port);
    if (std::ranges::find(out, e) == out.end()) out.push_back(e);
  }
  return out;
}

Result<std::vector<InterfaceAddress>> ReadInterfaceAddresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) {
    return MakeError("getifaddrs: {}", std::strerror(errno));
  }
  std::vector<InterfaceAddress> out;
  for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
    std::optional<IpAddress> a = AddressOf(i->ifa_addr);
    if (!a) continue;
    out.push_back(InterfaceAddress{.interface = i->ifa_name != nullptr ? i->ifa_name : "",
                                   .address = *a,
                                   .up = (i->ifa_flags & IFF_UP) != 0,
                                   .loopback = (i->ifa_flags & IFF_LOOPBACK) != 0});
  }
  ::freeifaddrs(list);
  return out;
}

Result<std::vector<Endpoint>> LocalEndpoints(const EndpointFilter& filter) {
  Result<std::vector<InterfaceAddress>> addresses = ReadInterfaceAddresses();
  if (!addresses) return addresses.error();
  return SelectEndpoints(*addresses, filter);
}

}  // namespace plexus::node
