// The node's configuration file (TOML), parsed into plain values.
//
//   [interface]
//   private_key_file = "node.key"   # or private_key = "<base64>"; relative paths
//                                   # are relative to the config file's directory
//   listen_port = 51820             # optional, default 51820; 0 = ephemeral
//   tun = "plx0"                    # optional, default "plx0"
//   addresses = ["fd00:1::1/64", "10.0.0.1/24"]   # optional
//   networks = ["fd00:1::/48", "10.0.0.0/16"]     # optional: the overlay's prefixes;
//                                   # destinations inside them without a route are
//                                   # unreachable (ICMP at once, never another route)
//   mtu = 1420                      # optional, default 1420, 1280..9000
//   control_socket = "/run/plexus/plx0.sock"      # optional, default /run/plexus/<tun>.sock
//
//   [[peer]]
//   public_key = "<base64>"
//   endpoint = "192.0.2.2:51820"    # optional; IPv6 as "[2001:db8::2]:51820"
//   allowed_prefixes = ["fd00:1::2/128", "10.0.0.2/32"]   # optional
//   persistent_keepalive = 25       # optional, seconds, 0 = off
//   preshared_key = "<base64>"      # optional, as wg(8)'s PresharedKey
//
//   [babel]                         # optional; routing over mesh peers
//   hello_interval = 1.0            # seconds, 0.05..60 (RFC 8966 Hello interval)
//   update_interval = 4.0           # seconds; default 4 x hello_interval
//   link_quality = "etx"            # "etx" (measures loss) or "two-out-of-three"
//   rtt_min = 10                    # ms: RTT at and below which the RTT cost is 0
//   rtt_max = 120                   # ms: RTT at and above which it is max_rtt_penalty
//   max_rtt_penalty = 96            # 0 disables RTT-based costs
//   announce = ["fd00:1:0:5::/64"]  # extra prefixes this node originates
//   link_probe_interval = 0.15      # seconds between liveness probes on an idle mesh link
//   link_timeout = 0.6              # seconds of silence after which a mesh link is down
//   seqno_file = "/var/lib/plexus/babel-seqno-<router-id>"   # keeps the seqno of own
//                                   # routes across restarts (default shown, for `plexus node`)
//
//   [identity]                      # optional; written by `plexus join`
//   dir = "/var/lib/plexus/net"     # the state directory `plexus join` wrote (CA, node
//                                   # certificate, CRL, network config, registry address)
//   registry_interval = 10          # seconds between heartbeats / CRL and config polls
//   max_pending_links = 64          # links from unknown keys awaiting a certificate at once
//   accept_unknown = true           # accept handshakes from keys not in the config; the
//                                   # certificate over link control decides (DESIGN.md §2.3)
//
// With [identity], a mesh link carries nothing but link control (UDP 6327)
// until its peer's certificate is verified; static leaves (peers with
// allowed_prefixes) stay authorised by their key alone. Without it, every
// configured mesh peer is trusted by its key, as in plain WireGuard.
//
// A [[peer]] without allowed_prefixes is a mesh link: Babel runs over it and
// routes decide what it carries. A peer with allowed_prefixes is a static
// leaf (a plain WireGuard peer): its prefixes route to it and are announced
// into the mesh by this node.
//
// Every error names the file, the line and the key:
//   node.toml:7: [[peer]] #2 public_key: not a base64 32-byte key
// Unknown keys are errors, so a typo is never silently ignored. As in
// WireGuard, a prefix routes to one peer only: allowed_prefixes of two peers
// must not overlap.
//
// Thread: parsed once at startup; the result is an immutable value.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"

namespace plexus::node {

inline constexpr uint16_t kDefaultListenPort = 51820;
inline constexpr std::string_view kDefaultTunName = "plx0";
inline constexpr size_t kMaxTunNameLength = 15;  // IFNAMSIZ - 1
inline constexpr int kDefaultMtu = 1420;
inline constexpr int kMinMtu = 1280;  // the IPv6 minimum link MTU, RFC 8200 §5
inline constexpr int kMaxMtu = 9000;
inline constexpr std::string_view kControlSocketDir = "/run/plexus";
inline constexpr std::string_view kStateDir = "/var/lib/plexus";

struct InterfaceConfig {
  crypto::PrivateKey private_key;
  // Absolute or config-relative path the key was read from; empty when the
  // key was given inline as `private_key`.
  std::string private_key_file;
  uint16_t listen_port = kDefaultListenPort;  // 0 = let the kernel choose
  std::string tun{kDefaultTunName};
  std::vector<Prefix> addresses;  // host bits kept: "fd00:1::1/64"
  std::vector<Prefix> networks;   // stored as networks
  int mtu = kDefaultMtu;
  std::string control_socket;  // always set after parsing
};

struct PeerConfig {
  crypto::PublicKey public_key;
  std::optional<Endpoint> endpoint;
  std::vector<Prefix> allowed_prefixes;  // stored as networks (host bits cleared)
  uint16_t persistent_keepalive = 0;     // seconds; 0 = off
  std::optional<crypto::Secret<crypto::kKeySize>> preshared_key;
};

struct BabelConfig {
  double hello_interval_s = 1.0;
  std::optional<double> update_interval_s;  // default: 4 x hello_interval_s
  bool etx = true;                          // false: 2-out-of-3
  int rtt_min_ms = 10;
  int rtt_max_ms = 120;
  int max_rtt_penalty = 96;
  std::vector<Prefix> announce;  // stored as networks
  double link_probe_interval_s = 0.15;
  double link_timeout_s = 0.6;
  std::string seqno_file;  // empty: the node's default (NodeIo::state_dir)
};

struct IdentityConfig {
  std::string dir;  // absolute or config-relative, resolved
  double registry_interval_s = 10.0;
  int max_pending_links = 64;
  bool accept_unknown = true;
};

// Move-only (it holds secrets).
struct Config {
  InterfaceConfig interface;
  std::vector<PeerConfig> peers;
  BabelConfig babel;
  std::optional<IdentityConfig> identity;  // [identity]; none: no certificates
  std::string path;                        // the file it was read from, as given
};

// Reads and parses `path`. Relative key-file and socket paths are resolved
// against the directory of `path`.
Result<Config> LoadConfig(const std::string& path);

// Parses TOML `text`; `path` names the file in error messages and is the base
// for relative paths (a private_key_file is read from disk).
Result<Config> ParseConfig(std::string_view text, std::string_view path);

// "/run/plexus/<tun>.sock".
std::string DefaultControlSocket(std::string_view tun);

}  // namespace plexus::node
