// RouteInstaller: how the node puts the routes Babel selected into the
// kernel, so that packets for other nodes' prefixes reach the TUN device
// (DESIGN.md §2.6: forwarding itself is done in userspace). RunNode uses
// NetlinkRouteInstaller; unit tests run without one.
//
// Threading: called from the node's control thread only.
#pragma once

#include "babel/route_table.h"
#include "base/result.h"

namespace plexus::node {

class RouteInstaller {
 public:
  virtual ~RouteInstaller() = default;
  // Routes `destination` (prefix, and source prefix for IPv6) to the TUN.
  virtual Status Add(const babel::Destination& destination) = 0;
  virtual Status Remove(const babel::Destination& destination) = 0;
};

}  // namespace plexus::node
