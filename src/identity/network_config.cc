#include "identity/network_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "identity/certificate_authority.h"

namespace plexus::identity {
namespace {

using nlohmann::json;

bool IsPrintable(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool HasHostBits(const Prefix& p) {
  return p.Network() != p;
}

Status ValidateIpv6Part(const NetworkConfig& c) {
  if (!c.network_prefix.address().is_v6()) return MakeError("network_prefix: not IPv6");
  if (HasHostBits(c.network_prefix)) return MakeError("network_prefix: host bits set");
  if (c.node_prefix_length <= c.network_prefix.length() || c.node_prefix_length > 128) {
    return MakeError("node_prefix_length: {} not in ({}, 128]", c.node_prefix_length,
                     c.network_prefix.length());
  }
  return Ok();
}

Status ValidateIpv4Part(const NetworkConfig& c) {
  if (!c.ipv4_network) return Ok();
  if (!c.ipv4_network->address().is_v4()) return MakeError("ipv4_network: not IPv4");
  if (HasHostBits(*c.ipv4_network)) return MakeError("ipv4_network: host bits set");
  if (c.ipv4_node_prefix_length <= c.ipv4_network->length() || c.ipv4_node_prefix_length > 32) {
    return MakeError("ipv4_node_prefix_length: {} not in ({}, 32]", c.ipv4_node_prefix_length,
                     c.ipv4_network->length());
  }
  return Ok();
}

Status ValidateLinks(const NetworkConfig& c) {
  if (c.client_count < 1) return MakeError("client_count: must be at least 1");
  if (c.max_clients < c.client_count) {
    return MakeError("max_clients: {} is below client_count {}", c.max_clients, c.client_count);
  }
  if (c.tunnel_refresh.count() <= 0) return MakeError("tunnel_refresh_seconds: must be positive");
  const auto hello = c.babel_hello_interval;
  if (hello.count() <= 0 || hello > kMaxBabelHelloInterval || hello.count() % 10 != 0) {
    return MakeError("babel_hello_interval_ms: {} is not a multiple of 10 in (0, {}]",
                     hello.count(), kMaxBabelHelloInterval.count());
  }
  return Ok();
}

Status ValidateGrants(const NetworkConfig& c) {
  for (size_t i = 0; i < c.grants.size(); ++i) {
    const PrefixGrant& g = c.grants[i];
    if (!IsValidDnsLabel(g.node_name)) {
      return MakeError("grants[{}].node: \"{}\" is not a DNS label", i, g.node_name);
    }
    if (HasHostBits(g.prefix)) return MakeError("grants[{}].prefix: host bits set", i);
  }
  return Ok();
}

json GrantsToJson(const std::vector<PrefixGrant>& grants) {
  json out = json::array();
  for (const PrefixGrant& g : grants) {
    out.push_back({{"node", g.node_name}, {"prefix", g.prefix.ToString()}});
  }
  return out;
}

Result<Prefix> GetPrefix(const json& j, std::string_view field) {
  Result<std::string> text = document_json::GetString(j, field);
  if (!text) return text.error();
  Result<Prefix> p = Prefix::Parse(*text);
  if (!p) return p.error().Wrap(field);
  return p;
}

Result<uint64_t> GetUintAtMost(const json& j, std::string_view field, uint64_t max) {
  Result<uint64_t> v = document_json::GetUint(j, field);
  if (!v) return v.error();
  if (*v > max) return MakeError("{}: {} is larger than {}", field, *v, max);
  return v;
}

Result<std::vector<PrefixGrant>> GrantsFromJson(const json& j) {
  Result<const json*> array = document_json::GetArray(j, "grants");
  if (!array) return array.error();
  std::vector<PrefixGrant> grants;
  for (const json& item : **array) {
    std::string where = fmt::format("grants[{}]", grants.size());
    if (!item.is_object()) return MakeError("{}: not an object", where);
    if (Status s = document_json::OnlyFields(item, {"node", "prefix"}); !s) {
      return s.error().Wrap(where);
    }
    Result<std::string> node = document_json::GetString(item, "node");
    if (!node) return node.error().Wrap(where);
    Result<Prefix> prefix = GetPrefix(item, "prefix");
    if (!prefix) return prefix.error().Wrap(where);
    grants.push_back({.node_name = std::move(*node), .prefix = *prefix});
  }
  return grants;
}

Status ParseIpv4(const json& j, NetworkConfig& c) {
  bool has_net = j.contains("ipv4_network");
  bool has_len = j.contains("ipv4_node_prefix_length");
  if (has_net != has_len) {
    return MakeError("{}: missing (ipv4_network and ipv4_node_prefix_length go together)",
                     has_net ? "ipv4_node_prefix_length" : "ipv4_network");
  }
  if (!has_net) return Ok();
  Result<Prefix> net = GetPrefix(j, "ipv4_network");
  if (!net) return net.error();
  Result<uint64_t> len = GetUintAtMost(j, "ipv4_node_prefix_length", 32);
  if (!len) return len.error();
  c.ipv4_network = *net;
  c.ipv4_node_prefix_length = static_cast<int>(*len);
  return Ok();
}

// Fills the scalar fields; ParseIpv4 and GrantsFromJson do the rest.
Status ParseScalars(const json& j, NetworkConfig& c) {
  constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
  Result<std::string> name = document_json::GetString(j, "network_name");
  if (!name) return name.error();
  Result<Prefix> prefix = GetPrefix(j, "network_prefix");
  if (!prefix) return prefix.error();
  Result<uint64_t> node_len = GetUintAtMost(j, "node_prefix_length", 128);
  if (!node_len) return node_len.error();
  Result<uint64_t> clients = GetUintAtMost(j, "client_count", kU32);
  if (!clients) return clients.error();
  Result<uint64_t> max_clients = GetUintAtMost(j, "max_clients", kU32);
  if (!max_clients) return max_clients.error();
  Result<uint64_t> refresh = GetUintAtMost(j, "tunnel_refresh_seconds", kU32);
  if (!refresh) return refresh.error();
  Result<uint64_t> hello = GetUintAtMost(j, "babel_hello_interval_ms", kU32);
  if (!hello) return hello.error();
  Result<uint64_t> crl_version = document_json::GetUint(j, "crl_version");
  if (!crl_version) return crl_version.error();
  c.network_name = std::move(*name);
  c.network_prefix = *prefix;
  c.node_prefix_length = static_cast<int>(*node_len);
  c.client_count = static_cast<uint32_t>(*clients);
  c.max_clients = static_cast<uint32_t>(*max_clients);
  c.tunnel_refresh = std::chrono::seconds(*refresh);
  c.babel_hello_interval = std::chrono::milliseconds(*hello);
  c.crl_version = *crl_version;
  return Ok();
}

Result<NetworkConfig> ParseConfigObject(const json& j) {
  if (Status s = document_json::OnlyFields(
          j, {"network_name", "network_prefix", "node_prefix_length", "ipv4_network",
              "ipv4_node_prefix_length", "client_count", "max_clients", "tunnel_refresh_seconds",
              "babel_hello_interval_ms", "crl_version", "grants"});
      !s) {
    return s.error();
  }
  NetworkConfig c;
  if (Status s = ParseScalars(j, c); !s) return s.error();
  if (Status s = ParseIpv4(j, c); !s) return s.error();
  Result<std::vector<PrefixGrant>> grants = GrantsFromJson(j);
  if (!grants) return grants.error();
  c.grants = std::move(*grants);
  if (Status s = ValidateNetworkConfig(c); !s) return s.error();
  return c;
}

}  // namespace

Status ValidateNetworkConfig(const NetworkConfig& c) {
  if (c.network_name.empty() || c.network_name.size() > kMaxNetworkNameSize ||
      !IsPrintable(c.network_name)) {
    return MakeError("network_name: must be 1..{} printable ASCII bytes", kMaxNetworkNameSize);
  }
  if (Status s = ValidateIpv6Part(c); !s) return s;
  if (Status s = ValidateIpv4Part(c); !s) return s;
  if (Status s = ValidateLinks(c); !s) return s;
  return ValidateGrants(c);
}

std::vector<Prefix> GrantedPrefixes(const NetworkConfig& config, std::string_view node_name) {
  std::vector<Prefix> out;
  for (const PrefixGrant& g : config.grants) {
    if (g.node_name == node_name) out.push_back(g.prefix);
  }
  return out;
}

Result<Bytes> NetworkConfigToPayload(const NetworkConfig& c) {
  if (Status s = ValidateNetworkConfig(c); !s) return s.error().Wrap("network config");
  json j = {{"network_name", c.network_name},
            {"network_prefix", c.network_prefix.ToString()},
            {"node_prefix_length", c.node_prefix_length},
            {"client_count", c.client_count},
            {"max_clients", c.max_clients},
            {"tunnel_refresh_seconds", c.tunnel_refresh.count()},
            {"babel_hello_interval_ms", c.babel_hello_interval.count()},
            {"crl_version", c.crl_version},
            {"grants", GrantsToJson(c.grants)}};
  if (c.ipv4_network) {
    j["ipv4_network"] = c.ipv4_network->ToString();
    j["ipv4_node_prefix_length"] = c.ipv4_node_prefix_length;
  }
  return document_json::CanonicalJson(j);
}

Result<NetworkConfig> NetworkConfigFromPayload(ByteSpan payload) {
  Result<json> j = document_json::ParseCanonicalObject(payload);
  if (!j) return j.error().Wrap("network config");
  Result<NetworkConfig> c = ParseConfigObject(*j);
  if (!c) return c.error().Wrap("network config");
  return c;
}

Result<SignedDocument> SignNetworkConfig(const NetworkConfig& config, uint64_t version,
                                         int64_t issued_at, const IdentityKey& ca_key) {
  Result<Bytes> payload = NetworkConfigToPayload(config);
  if (!payload) return payload.error();
  return SignDocument(kNetworkConfigKind, version, issued_at, *payload, ca_key);
}

VerifiedNetworkConfig VerifyNetworkConfig(const SignedDocument& doc,
                                          const IdentityPublicKey& ca_key, uint64_t held_version) {
  DocumentVerdict verdict = VerifySignedDocument(doc, ca_key, kNetworkConfigKind, held_version);
  VerifiedNetworkConfig out;
  if (!verdict) {
    out.verdict = std::move(verdict);
    return out;
  }
  Result<NetworkConfig> config = NetworkConfigFromPayload(doc.payload);
  if (!config) {
    out.verdict = Reject(DocumentRejection::kMalformed, config.error().message());
    return out;
  }
  out.version = doc.version;
  out.config = std::move(*config);
  return out;
}

}  // namespace plexus::identity
