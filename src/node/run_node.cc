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
#include "node/node.h"

namespace plexus::node {

namespace {

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
  if (Status s = ConfigureTun(config, (*tun)->name()); !s) {
    return Fail(s.error().Wrap("configuring " + (*tun)->name()));
  }
  io::UdpSocketOptions udp_options;
  udp_options.port = config.interface.listen_port;
  auto udp = io::KernelUdpSocket::Bind(udp_options);
  if (!udp) return Fail(udp.error().Wrap(fmt::format("binding UDP port {}", udp_options.port)));

  const std::string tun_name = (*tun)->name();
  const uint16_t port = (*udp)->local_port();
  auto node = Node::Create(config, {clock, random, **loop, std::move(*tun), std::move(*udp)});
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
