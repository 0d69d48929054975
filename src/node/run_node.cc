// RunNode: the kernel-backed node behind `plexus node`.
//
//   open TUN (offloads) -> configure it (MTU, addresses, up, peer routes)
//   -> bind UDP -> Node::Create -> Start -> EventLoop::Run until a signal
//   -> Stop; closing the TUN removes it with its addresses and routes.
#include <csignal>
#include <cstdio>

#include "base/log.h"
#include "io/kernel_tun_device.h"
#include "io/kernel_udp_socket.h"
#include "io/netlink.h"
#include "node/netlink_route_installer.h"
#include "node/node.h"

namespace plexus::node {

namespace {

io::Route UnreachableRoute(const Prefix& network) {
  io::Route route;
  route.destination = network;
  route.type = io::RouteType::kUnreachable;
  return route;
}

// The unreachable routes outlive the TUN device: remove them on the way out.
void RemoveNetworkRoutes(const Config& config) {
  Result<io::Netlink> netlink = io::Netlink::Open();
  if (!netlink) return;
  for (const Prefix& network : config.interface.networks) {
    (void)netlink->DeleteRoute(UnreachableRoute(network));
  }
}

// Removes the unreachable routes when RunNode returns, whatever the path.
class NetworkRoutesGuard {
 public:
  explicit NetworkRoutesGuard(const Config& config) : config_(config) {}
  ~NetworkRoutesGuard() { RemoveNetworkRoutes(config_); }
  NetworkRoutesGuard(const NetworkRoutesGuard&) = delete;
  NetworkRoutesGuard& operator=(const NetworkRoutesGuard&) = delete;

 private:
  const Config& config_;
};

Status ConfigureTun(const Config& config, const std::string& name) {
  Result<io::Netlink> netlink = io::Netlink::Open();
  if (!netlink) return netlink.error();
  Result<io::Link> link = netlink->FindLink(name);
  if (!link) return link.error();
  if (Status s = netlink->SetMtu(*link, static_cast<uint32_t>(config.interface.mtu)); !s) return s;
  for (const Prefix& address : config.interface.addresses) {
    if (Status s = netlink->AddAddress(*link, address); !s) return s;
  }
  if (Status s = netlink->SetLinkUp(*link, true); !s) return s;
  // DESIGN.md §2.4: unknown overlay destinations fail at once; the routes
  // Babel selects are more specific and go to the TUN.
  for (const Prefix& network : config.interface.networks) {
    if (Status s = netlink->ReplaceRoute(UnreachableRoute(network)); !s) return s;
  }
  for (const PeerConfig& peer : config.peers) {
    for (const Prefix& prefix : peer.allowed_prefixes) {
      io::Route route;
      route.destination = prefix.Network();
      route.link = *link;
      if (Status s = netlink->ReplaceRoute(route); !s) return s;
    }
  }
  return Ok();
}

// Babel's selected routes go to the kernel through their own netlink socket.
Result<std::unique_ptr<RouteInstaller>> MakeRouteInstaller(const std::string& tun) {
  Result<io::Netlink> netlink = io::Netlink::Open();
  if (!netlink) return netlink.error();
  Result<io::Link> link = netlink->FindLink(tun);
  if (!link) return link.error();
  return std::unique_ptr<RouteInstaller>(
      std::make_unique<NetlinkRouteInstaller>(std::move(*netlink), std::move(*link)));
}

int Fail(const Error& error) {
  std::fprintf(stderr, "plexus node: %s\n", error.message().c_str());
  return 1;
}

}  // namespace

int RunNode(const Config& config) {
  SystemClock clock;
  SystemRandom random;
  auto loop = io::EventLoop::Create(clock);
  if (!loop) return Fail(loop.error());
  // Before any thread exists, so every thread inherits the blocked mask.
  if (Status s = (*loop)->StopOnSignals({SIGINT, SIGTERM}); !s) return Fail(s.error());

  io::TunOptions tun_options;
  tun_options.name = config.interface.tun;
  auto tun = io::KernelTunDevice::Open(tun_options);
  if (!tun) return Fail(tun.error().Wrap("opening TUN " + config.interface.tun));
  NetworkRoutesGuard network_routes(config);
  if (Status s = ConfigureTun(config, (*tun)->name()); !s) {
    return Fail(s.error().Wrap("configuring " + (*tun)->name()));
  }
  io::UdpSocketOptions udp_options;
  udp_options.port = config.interface.listen_port;
  auto udp = io::KernelUdpSocket::Bind(udp_options);
  if (!udp) return Fail(udp.error().Wrap(fmt::format("binding UDP port {}", udp_options.port)));

  const std::string tun_name = (*tun)->name();
  const uint16_t port = (*udp)->local_port();
  auto routes = MakeRouteInstaller(tun_name);
  if (!routes) return Fail(routes.error().Wrap("opening netlink for routes"));
  auto node = Node::Create(config, {clock, random, **loop, std::move(*tun), std::move(*udp),
                                    std::move(*routes), std::string(kStateDir), true});
  if (!node) return Fail(node.error());
  if (Status s = (*node)->Start(); !s) return Fail(s.error());
  PLEXUS_LOG_INFO("plexus node up: {} listening on UDP port {} with {} peer(s)", tun_name, port,
                  config.peers.size());
  Status ran = (*loop)->Run();
  PLEXUS_LOG_INFO("plexus node stopping");
  (*node)->Stop();
  node->reset();
  if (!ran) return Fail(ran.error());
  return 0;
}

}  // namespace plexus::node
