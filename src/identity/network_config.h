// NetworkConfig: the network configuration document (DESIGN.md §2.3, §2.4,
// §2.7), kind kNetworkConfigKind, signed by the CA key. The version is the
// envelope's; the payload is canonical JSON (keys sorted, no whitespace):
//
//   {"babel_hello_interval_ms":4000,"client_count":3,"crl_version":7,
//    "grants":[{"node":"gw1","prefix":"::/0"}],
//    "ipv4_network":"10.42.0.0/16","ipv4_node_prefix_length":32,   (both or neither)
//    "max_clients":16,"network_name":"meshnet",
//    "network_prefix":"fd12:3456:789a::/48","node_prefix_length":64,
//    "tunnel_refresh_seconds":600}
//
// Every error names the field. A value type; thread-safe when const.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "identity/identity_key.h"
#include "identity/signed_document.h"

namespace plexus::identity {

inline constexpr std::string_view kNetworkConfigKind = "network-config";
inline constexpr int kDefaultNetworkPrefixLength = 48;  // DESIGN.md §2.4
inline constexpr int kDefaultNodePrefixLength = 64;
inline constexpr int kDefaultIpv4NodePrefixLength = 32;
// RFC 8966 §4.6.5: intervals are 16-bit centiseconds on the wire.
inline constexpr std::chrono::milliseconds kMaxBabelHelloInterval{655350};
inline constexpr size_t kMaxNetworkNameSize = 64;

// A prefix the network config lets a node originate beyond its certificate
// blocks, e.g. ::/0 for a gateway (DESIGN.md §2.3).
struct PrefixGrant {
  std::string node_name;  // a DNS label (IsValidDnsLabel)
  Prefix prefix;          // host bits zero
  bool operator==(const PrefixGrant&) const = default;
};

struct NetworkConfig {
  std::string network_name;  // printable ASCII, 1..kMaxNetworkNameSize bytes
  Prefix network_prefix;     // IPv6, host bits zero
  int node_prefix_length = kDefaultNodePrefixLength;  // (network length, 128]
  // Optional IPv4 network carried over IPv6 next hops (RFC 9229), host bits
  // zero, with each node's share: (network length, 32].
  std::optional<Prefix> ipv4_network;
  int ipv4_node_prefix_length = kDefaultIpv4NodePrefixLength;
  uint32_t client_count = 3;                             // outgoing backbone links, >= 1
  uint32_t max_clients = 16;                             // accepted links, >= client_count
  std::chrono::seconds tunnel_refresh{600};              // > 0
  std::chrono::milliseconds babel_hello_interval{4000};  // 10 ms steps, (0, max]
  uint64_t crl_version = 0;                              // the CRL this config goes with
  std::vector<PrefixGrant> grants;

  bool operator==(const NetworkConfig&) const = default;
};

// Ok, or an error naming the first bad field.
Status ValidateNetworkConfig(const NetworkConfig& config);
// Grants for `node_name`, in document order.
std::vector<Prefix> GrantedPrefixes(const NetworkConfig& config, std::string_view node_name);

// Canonical payload; errors when the config does not validate.
Result<Bytes> NetworkConfigToPayload(const NetworkConfig& config);
// Parses and validates; unknown fields are errors.
Result<NetworkConfig> NetworkConfigFromPayload(ByteSpan payload);

Result<SignedDocument> SignNetworkConfig(const NetworkConfig& config, uint64_t version,
                                         int64_t issued_at, const IdentityKey& ca_key);

struct [[nodiscard]] VerifiedNetworkConfig {
  DocumentVerdict verdict;
  uint64_t version = 0;
  NetworkConfig config;  // meaningful only when verdict.ok()
};

// VerifySignedDocument against the CA key, kind kNetworkConfigKind, newer
// than `held_version`; then the payload must parse and validate (else kMalformed).
VerifiedNetworkConfig VerifyNetworkConfig(const SignedDocument& doc,
                                          const IdentityPublicKey& ca_key, uint64_t held_version);

}  // namespace plexus::identity
