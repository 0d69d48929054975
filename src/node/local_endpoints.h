// LocalEndpoints: the UDP endpoints at which this host may be reachable, for
// the endpoints of its signed peer record (DESIGN.md §2.7): every address on
// an interface that is up, with the node's listen port, except
//   - loopback interfaces and loopback addresses (127.0.0.0/8, ::1),
//   - link-local addresses (169.254.0.0/16, fe80::/10): useless off the link,
//   - addresses of the node's own TUN device and addresses inside the
//     overlay's prefixes (an overlay address is no way into the overlay).
// Duplicates are dropped; the order is the kernel's (getifaddrs(3));
// at most kMaxPeerRecordEndpoints.
//
// SelectEndpoints is the pure rule; ReadInterfaceAddresses is the OS call.
// Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"

namespace plexus::node {

// One address of one interface, as getifaddrs(3) reports it.
struct InterfaceAddress {
  std::string interface;
  IpAddress address;
  bool up = false;        // IFF_UP
  bool loopback = false;  // IFF_LOOPBACK
};

// What the endpoints exclude besides loopback and link-local addresses.
struct EndpointFilter {
  uint16_t port = 0;                   // no endpoints at all when 0
  std::span<const Prefix> exclude;     // overlay prefixes
  std::string_view exclude_interface;  // the TUN device; empty for none
};

std::vector<Endpoint> SelectEndpoints(std::span<const InterfaceAddress> addresses,
                                      const EndpointFilter& filter);

// Every IPv4 and IPv6 interface address of this host.
Result<std::vector<InterfaceAddress>> ReadInterfaceAddresses();

// ReadInterfaceAddresses filtered by SelectEndpoints.
Result<std::vector<Endpoint>> LocalEndpoints(const EndpointFilter& filter);

}  // namespace plexus::node
