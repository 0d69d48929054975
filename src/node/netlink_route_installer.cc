#include "node/netlink_route_installer.h"

#include <linux/rtnetlink.h>

namespace plexus::node {

io::Route NetlinkRouteInstaller::ToRoute(const babel::Destination& destination) const {
  io::Route route;
  route.destination = destination.prefix;
  route.source = destination.source_prefix;
  route.link = link_;
  route.protocol = RTPROT_BABEL;
  return route;
}

Status NetlinkRouteInstaller::Add(const babel::Destination& destination) {
  if (destination.source_prefix && destination.prefix.family() != IpFamily::kV6) {
    return MakeError("{} from {}: the kernel has no source-specific IPv4 routes",
                     destination.prefix.ToString(), destination.source_prefix->ToString());
  }
  return netlink_.ReplaceRoute(ToRoute(destination));
}

Status NetlinkRouteInstaller::Remove(const babel::Destination& destination) {
  return netlink_.DeleteRoute(ToRoute(destination));
}

}  // namespace plexus::node
