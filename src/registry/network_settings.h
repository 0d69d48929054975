// RegistrySettings: the network settings the registry keeps in its database
// (RegistryStorage's `network` table, one text value per key) and turns into
// the signed network config (identity/network_config.h) and the contents of
// node certificates.
//
//   key                        settable   meaning
//   network_name               no         the CA's CN; O of every node certificate
//   network_prefix             no         IPv6 network, e.g. fd12:3456:789a::/48
//   ipv4_network               no         optional IPv4 network, e.g. 10.42.0.0/16
//   node_prefix_length         yes        default prefix length of a token (64)
//   ipv4_node_prefix_length    yes        each node's IPv4 share (32)
//   client_count               yes        backbone links a node opens (3)
//   max_clients                yes        backbone links a node accepts (16)
//   tunnel_refresh_seconds     yes        backbone refresh period (600)
//   babel_hello_interval_ms    yes        Babel Hello interval (4000)
//   grants                     yes        "node=prefix,node=prefix" (e.g. gw1=::/0), "" for none
//   domain                     yes        node certificates' SAN is <name>.<domain>
//   certificate_lifetime_days  yes        node certificate lifetime (30), 1..3650
//
// The network name and prefixes are fixed at `registry init`: the CA
// certificate's RFC 3779 blocks cover exactly them, so changing them would
// invalidate every certificate. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "identity/network_config.h"
#include "registry/storage.h"

namespace plexus {

inline constexpr int kDefaultCertificateLifetimeDays = 30;
inline constexpr int kMaxCertificateLifetimeDays = 3650;

struct RegistrySettings {
  identity::NetworkConfig network;  // crl_version is filled in when signing
  std::string domain;
  int certificate_lifetime_days = kDefaultCertificateLifetimeDays;
};

struct SettingInfo {
  std::string_view key;
  bool settable;
  std::string_view help;
};

// Every key, in the table's order.
std::vector<SettingInfo> SettingKeys();

// Parses and validates stored settings; errors name the key.
Result<RegistrySettings> SettingsFromMap(const SettingsMap& map);
SettingsMap SettingsToMap(const RegistrySettings& settings);
// Validates the whole: the network config, the domain, the lifetime.
Status ValidateSettings(const RegistrySettings& settings);

// `current` with `key` set to `value`, validated as a whole. Errors: an
// unknown key (listing the known ones), a key fixed at init, a bad value.
Result<SettingsMap> ApplySetting(const SettingsMap& current, std::string_view key,
                                 std::string_view value);

// True for dot-separated DNS labels (IsValidDnsLabel), at most 253 bytes.
bool IsValidDomain(std::string_view domain);

}  // namespace plexus
