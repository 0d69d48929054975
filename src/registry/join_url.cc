#include "registry/join_url.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "base/ip.h"
#include "registry/server.h"
#include "registry/token.h"

namespace plexus {
namespace {

constexpr std::string_view kFingerprintPrefix = "sha256=";
constexpr size_t kFingerprintHexSize = 64;

bool IsHostNameChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '.';
}

// Splits "HOST[:PORT]" or "[V6][:PORT]".
Status ParseAuthority(std::string_view text, JoinUrl& out) {
  std::string_view port;
  if (text.starts_with('[')) {
    size_t close = text.find(']');
    if (close == std::string_view::npos) return MakeError("host: missing ']'");
    out.host = std::string(text.substr(1, close - 1));
    Result<IpAddress> a = IpAddress::Parse(out.host);
    if (!a || !a->is_v6()) return MakeError("host: [{}] is not an IPv6 address", out.host);
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !rest.starts_with(':')) return MakeError("host: junk after ']'");
    if (!rest.empty()) port = rest.substr(1);
  } else {
    size_t colon = text.find(':');
    out.host = std::string(text.substr(0, colon));
    if (colon != std::string_view::npos) port = text.substr(colon + 1);
    if (out.host.empty() || !std::all_of(out.host.begin(), out.host.end(), IsHostNameChar)) {
      return MakeError("host: \"{}\" is not a host name or IPv4 address", out.host);
    }
  }
  out.port = kDefaultRegistryPort;
  if (port.empty() && text.ends_with(':')) return MakeError("port: empty");
  if (port.empty()) return Ok();
  unsigned v = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  if (ec != std::errc() || end != port.data() + port.size() || v == 0 || v > 65535) {
    return MakeError("port: \"{}\" is not in 1..65535", port);
  }
  out.port = static_cast<uint16_t>(v);
  return Ok();
}

Result<std::string> ParseFingerprint(std::string_view fragment) {
  if (!fragment.starts_with(kFingerprintPrefix)) {
    return MakeError("fingerprint: want #sha256=<64 hex digits>");
  }
  std::string hex(fragment.substr(kFingerprintPrefix.size()));
  std::transform(hex.begin(), hex.end(), hex.begin(), [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  });
  bool ok = hex.size() == kFingerprintHexSize &&
            std::all_of(hex.begin(), hex.end(), [](char c) { return std::isxdigit(c) != 0; });
  if (!ok) return MakeError("fingerprint: want 64 hex digits after sha256=");
  return hex;
}

}  // namespace

std::string JoinUrl::ToString() const {
  bool v6 = host.find(':') != std::string::npos;
  return fmt::format("{}{}{}{}:{}/{}#{}{}", kJoinUrlScheme, v6 ? "[" : "", host, v6 ? "]" : "",
                     port, token, kFingerprintPrefix, ca_fingerprint);
}

Result<JoinUrl> ParseJoinUrl(std::string_view text) {
  if (!text.starts_with(kJoinUrlScheme)) {
    return MakeError("join URL: must start with {}", kJoinUrlScheme);
  }
  text.remove_prefix(kJoinUrlScheme.size());
  size_t hash = text.find('#');
  if (hash == std::string_view::npos) return MakeError("join URL: no #sha256=<CA fingerprint>");
  std::string_view fragment = text.substr(hash + 1);
  text = text.substr(0, hash);
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return MakeError("join URL: no /<token> after the host");
  JoinUrl url;
  if (Status s = ParseAuthority(text.substr(0, slash), url); !s) return s.error().Wrap("join URL");
  url.token = std::string(text.substr(slash + 1));
  if (Result<TokenText> t = ParseTokenText(url.token); !t) {
    return t.error().Wrap("join URL: token");
  }
  Result<std::string> fp = ParseFingerprint(fragment);
  if (!fp) return fp.error().Wrap("join URL");
  url.ca_fingerprint = std::move(*fp);
  return url;
}

}  // namespace plexus
