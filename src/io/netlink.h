// Netlink: interface, address and route configuration over rtnetlink
// (NETLINK_ROUTE, rtnetlink(7)); no shelling out to ip(8).
//
//   Result<Netlink> nl = Netlink::Open();
//   Result<Link> plx0 = nl->FindLink("plx0");
//   nl->SetMtu(*plx0, 1420);  nl->SetLinkUp(*plx0, true);
//   nl->AddAddress(*plx0, *Prefix::Parse("fd00:1::1/64"));
//   nl->AddRoute({.destination = *Prefix::Parse("fd00:2::/64"), .link = *plx0});
//
// Every failure names the operation and object, e.g. "adding route
// fd00:1::2/128 dev plx0: File exists", plus the kernel's extended ack text
// when it gives one.
//
// Threads: a Netlink is used by one thread at a time (the control thread);
// each request waits for the kernel's answer.
#pragma once

#include <linux/rtnetlink.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "base/time.h"
#include "io/unique_fd.h"

namespace plexus::io {

// A network interface as the kernel reports it.
struct Link {
  int index = 0;
  std::string name;
  uint32_t mtu = 0;
  bool up = false;  // IFF_UP (administratively up)
};

enum class RouteType : uint8_t {
  kUnicast,      // via `link`
  kUnreachable,  // fails at once (DESIGN.md §2.4: unreachable <network prefix>)
};

struct Route {
  Prefix destination;
  // The outgoing interface for kUnicast (index used; name only for messages).
  std::optional<Link> link;
  RouteType type = RouteType::kUnicast;
  // Source-specific routing (RFC 9079); the kernel supports it for IPv6 only.
  std::optional<Prefix> source;
  uint32_t metric = 0;  // RTA_PRIORITY
  uint32_t table = RT_TABLE_MAIN;
  uint8_t protocol = RTPROT_STATIC;

  std::string ToString() const;  // "fd00:1::2/128 dev plx0"
};

class Netlink {
 public:
  static Result<Netlink> Open();

  Result<Link> FindLink(std::string_view name);
  Status SetMtu(const Link& link, uint32_t mtu);
  Status SetLinkUp(const Link& link, bool up);

  // IPv6 addresses are added with IFA_F_NODAD (no duplicate detection
  // delay; see WaitForAddress). Adding an address that exists fails
  // ("File exists").
  Status AddAddress(const Link& link, const Prefix& address);
  Status DeleteAddress(const Link& link, const Prefix& address);
  // Global and link-local addresses of `link`, both families.
  Result<std::vector<Prefix>> ListAddresses(const Link& link);
  // Blocks (polling, for at most `timeout`) until `address` is on `link` and
  // no longer tentative. Even with IFA_F_NODAD the kernel finishes an IPv6
  // address in deferred work, and a tentative address does not accept
  // packets yet. For startup, not for the event loop's hot path.
  Status WaitForAddress(const Link& link, const Prefix& address, Duration timeout);

  // Fails if the route exists.
  Status AddRoute(const Route& route);
  // Adds or overwrites the route to route.destination (same table/metric).
  Status ReplaceRoute(const Route& route);
  Status DeleteRoute(const Route& route);
  // Routes of `family` in `table` (link names filled in when known).
  Result<std::vector<Route>> ListRoutes(IpFamily family, uint32_t table = RT_TABLE_MAIN);

 private:
  explicit Netlink(UniqueFd fd) : fd_(std::move(fd)) {}
  // Sends one request and waits for its acknowledgement; returns the kernel's
  // error as text ("File exists (kernel message)") on failure.
  Status Request(std::span<const std::byte> message);
  // Sends a dump request and collects every reply message's bytes.
  Result<std::vector<std::vector<std::byte>>> Dump(std::span<const std::byte> message);
  Status SendRaw(std::span<const std::byte> message);
  Status ChangeRoute(const Route& route, uint16_t type, uint16_t flags);
  Status ChangeAddress(const Link& link, const Prefix& address, uint16_t type, uint16_t flags);
  // Addresses of `link` with their IFA_F_* flags.
  Result<std::vector<std::pair<Prefix, uint32_t>>> DumpAddresses(const Link& link);
  Status ChangeLink(const Link& link, uint32_t flags, uint32_t change, std::optional<uint32_t> mtu);

  UniqueFd fd_;
  uint32_t next_sequence_ = 1;
};

}  // namespace plexus::io
