// NetlinkRouteInstaller: RouteInstaller over rtnetlink. Routes go to the TUN
// device with protocol "babel" (RTPROT_BABEL, as `ip route` shows it), so an
// operator can tell them from static ones; they vanish with the device.
//
// Threading: the node's control thread.
#pragma once

#include <memory>

#include "io/netlink.h"
#include "node/route_installer.h"

namespace plexus::node {

class NetlinkRouteInstaller final : public RouteInstaller {
 public:
  NetlinkRouteInstaller(io::Netlink netlink, io::Link link)
      : netlink_(std::move(netlink)), link_(std::move(link)) {}

  Status Add(const babel::Destination& destination) override;
  Status Remove(const babel::Destination& destination) override;

 private:
  io::Route ToRoute(const babel::Destination& destination) const;

  io::Netlink netlink_;
  io::Link link_;
};

}  // namespace plexus::node
