// libFuzzer target: node::ParseConfig (node/config.h) on arbitrary text.
//
// ParseConfig must return a Config or an Error: never crash, throw or leak.
// When it returns a Config, the documented guarantees are checked (a
// violation traps): MTU and tun name in range, a control socket set, peer
// prefixes stored as networks, no peer with this node's key, no duplicate
// peer keys, no overlapping allowed_prefixes.
//
// Host names: an endpoint such as "vpn.example.com:51820" is resolved with
// getaddrinfo. So that the target is deterministic and sends nothing to the
// network, this file defines getaddrinfo/freeaddrinfo for its own binary:
// every name resolves to 192.0.2.1 (RFC 5737), except names ending in
// ".invalid" (RFC 6761), which do not resolve. A private_key_file is read
// from disk as in production (a path that does not exist is an Error).
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/log.h"
#include "node/config.h"

namespace {

// The one address every resolvable name has: 192.0.2.1.
constexpr uint32_t kResolvedAddress = 0xc0000201;

struct FakeAddrinfo {
  addrinfo info{};
  sockaddr_in address{};
};

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

// NOLINTBEGIN(readability-inconsistent-declaration-parameter-name): libc names
extern "C" int getaddrinfo(const char* node, const char* service, const addrinfo* /*hints*/,
                           addrinfo** result) {
  if (node == nullptr || service == nullptr || EndsWith(node, ".invalid")) return EAI_NONAME;
  auto* fake = new FakeAddrinfo;
  fake->address.sin_family = AF_INET;
  fake->address.sin_port = htons(static_cast<uint16_t>(std::strtoul(service, nullptr, 10)));
  fake->address.sin_addr.s_addr = htonl(kResolvedAddress);
  fake->info.ai_family = AF_INET;
  fake->info.ai_socktype = SOCK_DGRAM;
  fake->info.ai_addrlen = sizeof fake->address;
  fake->info.ai_addr = reinterpret_cast<sockaddr*>(&fake->address);
  *result = &fake->info;  // info is the first member: freeaddrinfo gets `fake` back
  return 0;
}

extern "C" void freeaddrinfo(addrinfo* list) noexcept {
  delete reinterpret_cast<FakeAddrinfo*>(list);
}
// NOLINTEND(readability-inconsistent-declaration-parameter-name)

namespace {

using plexus::Prefix;
using plexus::node::Config;
using plexus::node::PeerConfig;

bool Overlap(const PeerConfig& a, const PeerConfig& b) {
  for (const Prefix& pa : a.allowed_prefixes) {
    for (const Prefix& pb : b.allowed_prefixes) {
      if (pa.Contains(pb) || pb.Contains(pa)) return true;
    }
  }
  return false;
}

void CheckInterface(const plexus::node::InterfaceConfig& i) {
  if (i.mtu < plexus::node::kMinMtu || i.mtu > plexus::node::kMaxMtu) __builtin_trap();
  if (i.tun.empty() || i.tun.size() > plexus::node::kMaxTunNameLength) __builtin_trap();
  if (i.control_socket.empty()) __builtin_trap();
}

void CheckPeers(const Config& c) {
  const plexus::crypto::PublicKey own = c.interface.private_key.Public();
  for (size_t j = 0; j < c.peers.size(); ++j) {
    const PeerConfig& b = c.peers[j];
    if (b.public_key == own || b.public_key.IsZero()) __builtin_trap();
    if (b.endpoint && !b.endpoint->IsSet()) __builtin_trap();
    for (const Prefix& p : b.allowed_prefixes) {
      if (p != p.Network()) __builtin_trap();
    }
    for (size_t i = 0; i < j; ++i) {
      if (c.peers[i].public_key == b.public_key || Overlap(c.peers[i], b)) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int* /*argc*/, char*** /*argv*/) {
  // A key file readable by all users is reported with a warning: not per input.
  plexus::SetLogLevel(plexus::LogLevel::kError);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  plexus::Result<Config> config = plexus::node::ParseConfig(text, "fuzz.toml");
  if (!config) return 0;
  CheckInterface(config->interface);
  CheckPeers(*config);
  return 0;
}
