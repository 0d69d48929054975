#include "registry/network_settings.h"

#include <fmt/format.h>

#include <charconv>
#include <functional>
#include <optional>

#include "identity/certificate_authority.h"

namespace plexus {
namespace {

using identity::PrefixGrant;

Result<int64_t> ParseInteger(std::string_view text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return MakeError("\"{}\" is not an integer", text);
  }
  if (v < min || v > max) return MakeError("{} is not in [{}, {}]", v, min, max);
  return v;
}

Result<Prefix> ParseNetwork(std::string_view text, IpFamily family) {
  Result<Prefix> p = Prefix::Parse(text);
  if (!p) return p.error();
  if (p->family() != family) {
    return MakeError("{} is not an {} prefix", text, family == IpFamily::kV6 ? "IPv6" : "IPv4");
  }
  if (p->Network() != *p) return MakeError("{} has host bits set", text);
  return p;
}

Result<std::vector<PrefixGrant>> ParseGrants(std::string_view text) {
  std::vector<PrefixGrant> out;
  while (!text.empty()) {
    size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos) return MakeError("\"{}\" is not node=prefix", item);
    Result<Prefix> p = Prefix::Parse(item.substr(eq + 1));
    if (!p) return p.error().Wrap(item);
    out.push_back({.node_name = std::string(item.substr(0, eq)), .prefix = *p});
  }
  return out;
}

std::string FormatGrants(const std::vector<PrefixGrant>& grants) {
  std::string out;
  for (const PrefixGrant& g : grants) {
    if (!out.empty()) out += ',';
    out += fmt::format("{}={}", g.node_name, g.prefix.ToString());
  }
  return out;
}

using Setter = std::function<Status(RegistrySettings&, std::string_view)>;
using Getter = std::function<std::optional<std::string>(const RegistrySettings&)>;

struct Field {
  SettingInfo info;
  Setter set;
  Getter get;
};

// An integer field stored in `member` of the settings (via `at`).
template <typename T>
Field IntField(SettingInfo info, int64_t min, int64_t max,
               std::function<T&(RegistrySettings&)> at) {
  Setter set = [=](RegistrySettings& s, std::string_view v) -> Status {
    Result<int64_t> n = ParseInteger(v, min, max);
    if (!n) return n.error();
    at(s) = static_cast<T>(*n);
    return Ok();
  };
  Getter get = [=](const RegistrySettings& s) -> std::optional<std::string> {
    return fmt::format("{}", at(const_cast<RegistrySettings&>(s)));  // NOLINT: read only
  };
  return Field{info, set, get};
}

std::vector<Field> MakeNetworkFields() {
  std::vector<Field> f;
  f.push_back({{"network_name", false, "the network's name (CA CN, node certificate O)"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 s.network.network_name = std::string(v);
                 return Ok();
               },
               [](const RegistrySettings& s) { return std::optional(s.network.network_name); }});
  f.push_back({{"network_prefix", false, "the IPv6 network prefix"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 Result<Prefix> p = ParseNetwork(v, IpFamily::kV6);
                 if (!p) return p.error();
                 s.network.network_prefix = *p;
                 return Ok();
               },
               [](const RegistrySettings& s) {
                 return std::optional(s.network.network_prefix.ToString());
               }});
  f.push_back({{"ipv4_network", false, "the optional IPv4 network"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 Result<Prefix> p = ParseNetwork(v, IpFamily::kV4);
                 if (!p) return p.error();
                 s.network.ipv4_network = *p;
                 return Ok();
               },
               [](const RegistrySettings& s) -> std::optional<std::string> {
                 if (!s.network.ipv4_network) return std::nullopt;
                 return s.network.ipv4_network->ToString();
               }});
  return f;
}

std::vector<Field> MakeFields() {
  std::vector<Field> f = MakeNetworkFields();
  f.push_back(
      IntField<int>({"node_prefix_length", true, "default prefix length of new tokens"}, 1, 128,
                    [](RegistrySettings& s) -> int& { return s.network.node_prefix_length; }));
  f.push_back(
      IntField<int>({"ipv4_node_prefix_length", true, "each node's IPv4 prefix length"}, 1, 32,
                    [](RegistrySettings& s) -> int& { return s.network.ipv4_node_prefix_length; }));
  f.push_back(
      IntField<uint32_t>({"client_count", true, "backbone links each node opens"}, 1, 1000,
                         [](RegistrySettings& s) -> uint32_t& { return s.network.client_count; }));
  f.push_back(
      IntField<uint32_t>({"max_clients", true, "backbone links each node accepts"}, 1, 10000,
                         [](RegistrySettings& s) -> uint32_t& { return s.network.max_clients; }));
  f.push_back({{"tunnel_refresh_seconds", true, "seconds between backbone refreshes"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 Result<int64_t> n = ParseInteger(v, 1, 86400);
                 if (!n) return n.error();
                 s.network.tunnel_refresh = std::chrono::seconds(*n);
                 return Ok();
               },
               [](const RegistrySettings& s) {
                 return std::optional(fmt::format("{}", s.network.tunnel_refresh.count()));
               }});
  f.push_back({{"babel_hello_interval_ms", true, "Babel Hello interval, a multiple of 10 ms"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 Result<int64_t> n = ParseInteger(v, 10, identity::kMaxBabelHelloInterval.count());
                 if (!n) return n.error();
                 s.network.babel_hello_interval = std::chrono::milliseconds(*n);
                 return Ok();
               },
               [](const RegistrySettings& s) {
                 return std::optional(fmt::format("{}", s.network.babel_hello_interval.count()));
               }});
  f.push_back(
      {{"grants", true, "extra prefixes per node: node=prefix,... (e.g. gw1=::/0)"},
       [](RegistrySettings& s, std::string_view v) -> Status {
         Result<std::vector<PrefixGrant>> g = ParseGrants(v);
         if (!g) return g.error();
         s.network.grants = std::move(*g);
         return Ok();
       },
       [](const RegistrySettings& s) { return std::optional(FormatGrants(s.network.grants)); }});
  f.push_back({{"domain", true, "node certificates name <node>.<domain>"},
               [](RegistrySettings& s, std::string_view v) -> Status {
                 s.domain = std::string(v);
                 return Ok();
               },
               [](const RegistrySettings& s) { return std::optional(s.domain); }});
  f.push_back(IntField<int>({"certificate_lifetime_days", true, "node certificate lifetime"}, 1,
                            kMaxCertificateLifetimeDays, [](RegistrySettings& s) -> int& {
                              return s.certificate_lifetime_days;
                            }));
  return f;
}

// Built on each use (a few microseconds) rather than kept in a static.
std::vector<Field> Fields() {
  return MakeFields();
}

std::optional<Field> FindField(std::string_view key) {
  for (Field& f : Fields()) {
    if (f.info.key == key) return std::move(f);
  }
  return std::nullopt;
}

std::string KnownKeys(bool settable_only) {
  std::string out;
  for (const Field& f : Fields()) {
    if (settable_only && !f.info.settable) continue;
    if (!out.empty()) out += ", ";
    out += f.info.key;
  }
  return out;
}

}  // namespace

std::vector<SettingInfo> SettingKeys() {
  std::vector<SettingInfo> out;
  for (const Field& f : Fields()) out.push_back(f.info);
  return out;
}

bool IsValidDomain(std::string_view domain) {
  if (domain.empty() || domain.size() > 253) return false;
  while (true) {
    size_t dot = domain.find('.');
    if (!identity::IsValidDnsLabel(domain.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    domain = domain.substr(dot + 1);
  }
}

Status ValidateSettings(const RegistrySettings& settings) {
  if (Status s = identity::ValidateNetworkConfig(settings.network); !s) return s;
  if (!IsValidDomain(settings.domain)) {
    return MakeError("domain: \"{}\" is not a DNS name (labels of a-z, 0-9, -)", settings.domain);
  }
  if (settings.certificate_lifetime_days < 1 ||
      settings.certificate_lifetime_days > kMaxCertificateLifetimeDays) {
    return MakeError("certificate_lifetime_days: not in [1, {}]", kMaxCertificateLifetimeDays);
  }
  return Ok();
}

Result<RegistrySettings> SettingsFromMap(const SettingsMap& map) {
  RegistrySettings settings;
  for (const auto& [key, value] : map) {
    std::optional<Field> f = FindField(key);
    if (!f) return MakeError("setting {}: unknown key", key);
    if (Status s = f->set(settings, value); !s) return s.error().Wrap(key);
  }
  for (std::string_view required : {"network_name", "network_prefix", "domain"}) {
    if (!map.contains(required)) return MakeError("setting {}: missing", required);
  }
  if (Status s = ValidateSettings(settings); !s) return s.error();
  return settings;
}

SettingsMap SettingsToMap(const RegistrySettings& settings) {
  SettingsMap out;
  for (const Field& f : Fields()) {
    if (std::optional<std::string> v = f.get(settings)) out.emplace(f.info.key, std::move(*v));
  }
  return out;
}

Result<SettingsMap> ApplySetting(const SettingsMap& current, std::string_view key,
                                 std::string_view value) {
  std::optional<Field> f = FindField(key);
  if (!f) return MakeError("{}: unknown key (settable: {})", key, KnownKeys(true));
  if (!f->info.settable) {
    return MakeError("{}: fixed at `registry init` (the CA certificate is made for it)", key);
  }
  Result<RegistrySettings> settings = SettingsFromMap(current);
  if (!settings) return settings.error();
  if (Status s = f->set(*settings, value); !s) return s.error().Wrap(key);
  if (Status s = ValidateSettings(*settings); !s) return s.error();
  return SettingsToMap(*settings);
}

}  // namespace plexus
