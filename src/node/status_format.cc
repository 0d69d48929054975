#include "node/status_format.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <limits>
#include <string_view>
#include <vector>

namespace plexus::node {
namespace {

using json = nlohmann::json;

struct TimeUnit {
  int64_t seconds;
  std::string_view name;
};

constexpr std::array<TimeUnit, 5> kTimeUnits = {{
    {int64_t{365} * 24 * 3600, "year"},
    {int64_t{24} * 3600, "day"},
    {3600, "hour"},
    {60, "minute"},
    {1, "second"},
}};

constexpr std::array<std::string_view, 4> kByteUnits = {"KiB", "MiB", "GiB", "TiB"};

// Field accessors that tolerate a missing field or a wrong type.
const json& Field(const json& object, std::string_view key) {
  static const json kNull;  // immutable
  if (!object.is_object()) return kNull;
  auto it = object.find(key);
  return it == object.end() ? kNull : *it;
}

std::string String(const json& object, std::string_view key) {
  const json& v = Field(object, key);
  return v.is_string() ? v.get<std::string>() : "";
}

int64_t Integer(const json& object, std::string_view key) {
  const json& v = Field(object, key);
  if (v.is_number_unsigned()) return static_cast<int64_t>(v.get<uint64_t>());
  if (v.is_number_integer()) return v.get<int64_t>();
  // The node never sends floats; a malformed document must not make the
  // conversion undefined, so out-of-range values saturate.
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (!(d > -9.2e18)) return d < 0 ? std::numeric_limits<int64_t>::min() : 0;  // also NaN
    if (!(d < 9.2e18)) return std::numeric_limits<int64_t>::max();
    return static_cast<int64_t>(d);
  }
  return 0;
}

uint64_t Unsigned(const json& object, std::string_view key) {
  const json& v = Field(object, key);
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  return static_cast<uint64_t>(std::max<int64_t>(Integer(object, key), 0));
}

std::string JoinStrings(const json& list) {
  std::string out;
  if (!list.is_array()) return out;
  for (const json& item : list) {
    if (!item.is_string()) continue;
    out += out.empty() ? item.get<std::string>() : ", " + item.get<std::string>();
  }
  return out;
}

std::string Plural(int64_t n, std::string_view unit) {
  return fmt::format("{} {}{}", n, unit, n == 1 ? "" : "s");
}

void AppendLine(std::string& out, std::string_view label, std::string_view value) {
  if (!value.empty()) out += fmt::format("  {}: {}\n", label, value);
}

std::string FormatInterface(const json& iface) {
  std::string out = fmt::format("interface: {}\n", String(iface, "name"));
  AppendLine(out, "public key", String(iface, "public_key"));
  AppendLine(out, "listening port", fmt::format("{}", Integer(iface, "listen_port")));
  AppendLine(out, "addresses", JoinStrings(Field(iface, "addresses")));
  if (int64_t mtu = Integer(iface, "mtu"); mtu != 0) AppendLine(out, "mtu", fmt::format("{}", mtu));
  return out;
}

std::string FormatPeer(const json& peer, int64_t now_unix) {
  std::string out = fmt::format("peer: {}\n", String(peer, "public_key"));
  AppendLine(out, "state", String(peer, "state"));
  AppendLine(out, "endpoint", String(peer, "endpoint"));
  std::string prefixes = JoinStrings(Field(peer, "allowed_prefixes"));
  AppendLine(out, "allowed prefixes", prefixes.empty() ? "(none)" : prefixes);
  if (std::string link = String(peer, "link"); !link.empty()) {
    AppendLine(out, "mesh link", link + " (routed by Babel)");
  }
  if (const json& a = Field(peer, "authorisation"); a.is_object()) {
    std::string text = String(a, "state");
    if (std::string reason = String(a, "reason"); !reason.empty()) text += ": " + reason;
    if (std::string name = String(a, "name"); !name.empty()) text += " (" + name + ")";
    if (Field(peer, "admitted").is_boolean() && Field(peer, "admitted").get<bool>()) {
      text += ", connected to us";
    }
    AppendLine(out, "authorisation", text);
  }
  AppendLine(out, "latest handshake", FormatAgo(Integer(peer, "last_handshake_unix"), now_unix));
  AppendLine(out, "transfer",
             fmt::format("{} received, {} sent", FormatBytes(Unsigned(peer, "rx_bytes")),
                         FormatBytes(Unsigned(peer, "tx_bytes"))));
  if (int64_t keepalive = Integer(peer, "persistent_keepalive"); keepalive > 0) {
    AppendLine(out, "persistent keepalive", "every " + Plural(keepalive, "second"));
  }
  return out;
}

// "title:" and one "  name: count" line per nonzero integer, or "" when none.
std::string FormatNonzeroCounts(std::string_view title, const json& counts) {
  std::string lines;
  if (counts.is_object()) {
    for (const auto& [name, value] : counts.items()) {
      int64_t n = value.is_number() ? Integer(counts, name) : 0;
      if (n != 0) lines += fmt::format("  {}: {}\n", name, n);
    }
  }
  return lines.empty() ? "" : fmt::format("{}:\n{}", title, lines);
}

}  // namespace

std::string FormatDuration(int64_t seconds) {
  std::string out;
  for (const TimeUnit& unit : kTimeUnits) {
    int64_t n = seconds / unit.seconds;
    seconds %= unit.seconds;
    if (n == 0) continue;
    out += (out.empty() ? "" : ", ") + Plural(n, unit.name);
  }
  return out.empty() ? "0 seconds" : out;
}

std::string FormatAgo(int64_t then_unix, int64_t now_unix) {
  if (then_unix <= 0) return "never";
  if (then_unix == now_unix) return "just now";
  if (then_unix > now_unix) {
    return fmt::format("{} in the future (is the system clock right?)",
                       FormatDuration(then_unix - now_unix));
  }
  return FormatDuration(now_unix - then_unix) + " ago";
}

std::string FormatBytes(uint64_t bytes) {
  if (bytes < 1024) return fmt::format("{} B", bytes);
  double value = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (value >= 1024 && unit + 1 < kByteUnits.size()) {
    value /= 1024;
    ++unit;
  }
  return fmt::format("{:.2f} {}", value, kByteUnits[unit]);
}

// The node's identity: who it is, what it holds, when it must renew.
std::string FormatIdentity(const json& id, int64_t now_unix) {
  std::string out =
      fmt::format("identity: {} of network {}\n", String(id, "name"), String(id, "network"));
  AppendLine(out, "state directory", String(id, "dir"));
  AppendLine(out, "certificate", String(id, "serial"));
  if (int64_t not_after = Integer(id, "certificate_not_after"); not_after > 0) {
    AppendLine(out, "expires",
               not_after > now_unix ? "in " + FormatDuration(not_after - now_unix)
                                    : FormatDuration(now_unix - not_after) + " ago (expired)");
  }
  AppendLine(out, "crl version", fmt::format("{}", Unsigned(id, "crl_version")));
  AppendLine(out, "network config version", fmt::format("{}", Unsigned(id, "config_version")));
  if (const json& refused = Field(id, "refused"); refused.is_array()) {
    for (const json& r : refused) {
      AppendLine(out, "refused",
                 fmt::format("{} ({})", String(r, "public_key"), String(r, "reason")));
    }
  }
  return out;
}

std::string FormatStatus(const json& status, int64_t now_unix) {
  std::string out = FormatInterface(Field(status, "interface"));
  if (const json& id = Field(status, "identity"); id.is_object()) {
    out += "\n" + FormatIdentity(id, now_unix);
  }
  const json& peers = Field(status, "peers");
  if (peers.is_array()) {
    for (const json& peer : peers) out += "\n" + FormatPeer(peer, now_unix);
  }
  for (std::string_view key : {"drops", "counters"}) {
    std::string section = FormatNonzeroCounts(key, Field(status, key));
    if (!section.empty()) out += "\n" + section;
  }
  return out;
}

}  // namespace plexus::node
