#include "node/config.h"

#include <fcntl.h>
#include <netdb.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <utility>

#include "base/base64.h"
#include "base/log.h"

namespace plexus::node {
namespace {

constexpr std::array<std::string_view, 8> kInterfaceKeys = {
    "private_key", "private_key_file", "listen_port",    "tun",
    "addresses",   "networks",         "control_socket", "mtu"};
constexpr std::array<std::string_view, 5> kPeerKeys = {"public_key", "endpoint", "allowed_prefixes",
                                                       "persistent_keepalive", "preshared_key"};
constexpr std::array<std::string_view, 10> kBabelKeys = {
    "hello_interval",  "update_interval", "link_quality",        "rtt_min",      "rtt_max",
    "max_rtt_penalty", "announce",        "link_probe_interval", "link_timeout", "seqno_file"};
constexpr std::array<std::string_view, 4> kIdentityKeys = {"dir", "registry_interval",
                                                           "max_pending_links", "accept_unknown"};
constexpr size_t kMaxSocketPath = sizeof(sockaddr_un::sun_path) - 1;
constexpr size_t kMaxKeyFileBytes = 4096;

std::string_view TypeName(const toml::node& n) {
  switch (n.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a floating-point number";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::date:
      return "a date";
    case toml::node_type::time:
      return "a time";
    case toml::node_type::date_time:
      return "a date-time";
    default:
      return "nothing";
  }
}

uint32_t LineOf(const toml::node& n) {
  return n.source().begin.line;
}

std::string JoinKeys(std::span<const std::string_view> keys) {
  std::string out;
  for (std::string_view k : keys) out += out.empty() ? std::string(k) : fmt::format(", {}", k);
  return out;
}

bool IsValidTunName(std::string_view name) {
  if (name.empty() || name.size() > kMaxTunNameLength || name == "." || name == "..") return false;
  for (char c : name) {
    if (c == '/' || c == ':' || std::isspace(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// A DNS name, not a (mistyped) address literal: letters, digits, '-' and '.',
// with at least one letter.
bool IsHostName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  bool has_letter = false;
  for (char c : host) {
    has_letter |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
  }
  return has_letter;
}

// "host:port" with a DNS name, resolved once (as wg(8) does at configuration time).
Result<Endpoint> ResolveEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  std::string host(text.substr(0, colon));
  std::string port(text.substr(colon + 1));
  addrinfo hints{};
  hints.ai_socktype = SOCK_DGRAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    return MakeError("cannot resolve \"{}\": {}", host, gai_strerror(rc));
  }
  auto endpoint = Endpoint::FromSockaddr(found->ai_addr, found->ai_addrlen);
  freeaddrinfo(found);
  if (!endpoint || !endpoint->IsSet()) return MakeError("cannot resolve \"{}\"", text);
  return *endpoint;
}

Result<Endpoint> ParseEndpoint(std::string_view text) {
  auto literal = Endpoint::Parse(text);
  if (literal) return literal;
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos || !IsHostName(text.substr(0, colon))) return literal;
  std::string_view port = text.substr(colon + 1);
  int value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (ec != std::errc() || end != port.data() + port.size() || value < 1 || value > 65535) {
    return MakeError("invalid port \"{}\" in \"{}\"", port, text);  // before any DNS lookup
  }
  return ResolveEndpoint(text);
}

// Reads a key file, warning when other users may read it.
Result<std::string> ReadKeyFile(const std::string& file) {
  int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return MakeError("cannot read {}: {}", file, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) == 0 && (st.st_mode & (S_IROTH | S_IWOTH)) != 0) {
    PLEXUS_LOG_WARNING("private key file {} is accessible to all users (mode {:04o}); chmod 600 it",
                       file, st.st_mode & 07777);
  }
  std::string text(kMaxKeyFileBytes, '\0');
  ssize_t n = read(fd, text.data(), text.size());
  int read_errno = errno;
  close(fd);
  if (n < 0) return MakeError("cannot read {}: {}", file, std::strerror(read_errno));
  text.resize(static_cast<size_t>(n));
  return text;
}

// A TOML table being read and its name in messages: "[interface]", "[[peer]] #2".
struct Section {
  const toml::table& table;
  std::string name;
};

// A parsed peer and the table it came from (for the line numbers of
// cross-peer errors).
struct ParsedPeer {
  PeerConfig config;
  Section section;
};

class ConfigParser {
 public:
  explicit ConfigParser(std::string_view path) : path_(path) {}

  Result<Config> Parse(std::string_view text) const;

 private:
  Error At(uint32_t line, const Section& s, std::string_view key, std::string_view msg) const;
  Error AtKey(const Section& s, std::string_view key, std::string_view msg) const;
  Status CheckRoot(const toml::table& root) const;
  Status CheckKnownKeys(const Section& s, std::span<const std::string_view> known) const;
  Result<std::optional<int64_t>> Integer(const Section& s, std::string_view key, int64_t lo,
                                         int64_t hi) const;
  Result<std::optional<std::string>> String(const Section& s, std::string_view key) const;
  Result<std::vector<Prefix>> Prefixes(const Section& s, std::string_view key) const;
  Result<std::optional<double>> Seconds(const Section& s, std::string_view key, double lo,
                                        double hi) const;
  std::string Resolve(std::string_view file) const;

  Result<InterfaceConfig> Interface(const toml::table& root) const;
  Status PrivateKey(const Section& s, InterfaceConfig& out) const;
  Status TunAndSocket(const Section& s, InterfaceConfig& out) const;
  Status Numbers(const Section& s, InterfaceConfig& out) const;

  Result<std::vector<ParsedPeer>> Peers(const toml::table& root) const;
  Result<PeerConfig> Peer(const Section& s) const;
  Status PeerKeys(const Section& s, PeerConfig& out) const;
  Status PeerEndpoint(const Section& s, PeerConfig& out) const;
  Status CheckPeerSet(const std::vector<ParsedPeer>& peers, const crypto::PublicKey& own) const;
  Status CheckOverlap(const ParsedPeer& a, const ParsedPeer& b) const;

  Result<BabelConfig> Babel(const toml::table& root) const;
  Status BabelIntervals(const Section& s, BabelConfig& out) const;
  Status BabelCosts(const Section& s, BabelConfig& out) const;

  Result<std::optional<IdentityConfig>> Identity(const toml::table& root) const;

  std::string path_;
};

Error ConfigParser::At(uint32_t line, const Section& s, std::string_view key,
                       std::string_view msg) const {
  return MakeError("{}:{}: {} {}: {}", path_, line, s.name, key, msg);
}

Error ConfigParser::AtKey(const Section& s, std::string_view key, std::string_view msg) const {
  const toml::node* n = s.table.get(key);
  return At(LineOf(n != nullptr ? *n : s.table), s, key, msg);
}

Status ConfigParser::CheckRoot(const toml::table& root) const {
  for (const auto& [key, value] : root) {
    uint32_t line = LineOf(value);
    if (key == "interface" && !value.is_table()) {
      return MakeError("{}:{}: interface: must be a table, written [interface]", path_, line);
    }
    if (key == "peer" && !value.is_array_of_tables()) {
      return MakeError("{}:{}: peer: must be an array of tables, written [[peer]]", path_, line);
    }
    if ((key == "babel" || key == "identity") && !value.is_table()) {
      return MakeError("{}:{}: {}: must be a table, written [{}]", path_, line, key.str(),
                       key.str());
    }
    if (key != "interface" && key != "peer" && key != "babel" && key != "identity") {
      return MakeError(
          "{}:{}: {}: unknown key (expected [interface], [[peer]], [babel] or [identity])", path_,
          line, key.str());
    }
  }
  return Ok();
}

Status ConfigParser::CheckKnownKeys(const Section& s,
                                    std::span<const std::string_view> known) const {
  for (const auto& [key, value] : s.table) {
    if (std::find(known.begin(), known.end(), key.str()) != known.end()) continue;
    return At(LineOf(value), s, key.str(),
              fmt::format("unknown key (expected one of: {})", JoinKeys(known)));
  }
  return Ok();
}

Result<std::optional<int64_t>> ConfigParser::Integer(const Section& s, std::string_view key,
                                                     int64_t lo, int64_t hi) const {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) return std::optional<int64_t>();
  const auto* v = n->as_integer();
  if (v == nullptr) return AtKey(s, key, fmt::format("expected an integer, got {}", TypeName(*n)));
  int64_t value = v->get();
  if (value < lo || value > hi) {
    return AtKey(s, key, fmt::format("{} is out of range {}..{}", value, lo, hi));
  }
  return std::optional<int64_t>(value);
}

Result<std::optional<std::string>> ConfigParser::String(const Section& s,
                                                        std::string_view key) const {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) return std::optional<std::string>();
  const auto* v = n->as_string();
  if (v == nullptr) return AtKey(s, key, fmt::format("expected a string, got {}", TypeName(*n)));
  return std::optional<std::string>(v->get());
}

Result<std::vector<Prefix>> ConfigParser::Prefixes(const Section& s, std::string_view key) const {
  std::vector<Prefix> out;
  const toml::node* n = s.table.get(key);
  if (n == nullptr) return out;
  const toml::array* list = n->as_array();
  if (list == nullptr) {
    return AtKey(s, key, fmt::format("expected an array of strings, got {}", TypeName(*n)));
  }
  for (const toml::node& element : *list) {
    const auto* text = element.as_string();
    if (text == nullptr) {
      return At(LineOf(element), s, key,
                fmt::format("expected a string like \"fd00::1/64\", got {}", TypeName(element)));
    }
    auto prefix = Prefix::Parse(text->get());
    if (!prefix) return At(LineOf(element), s, key, prefix.error().message());
    out.push_back(*prefix);
  }
  return out;
}

Result<std::optional<double>> ConfigParser::Seconds(const Section& s, std::string_view key,
                                                    double lo, double hi) const {
  const toml::node* n = s.table.get(key);
  if (n == nullptr) return std::optional<double>();
  std::optional<double> value;
  if (const auto* i = n->as_integer()) value = static_cast<double>(i->get());
  if (const auto* f = n->as_floating_point()) value = f->get();
  if (!value)
    return AtKey(s, key, fmt::format("expected a number of seconds, got {}", TypeName(*n)));
  if (!(*value >= lo && *value <= hi)) {
    return AtKey(s, key, fmt::format("{} is out of range {}..{} seconds", *value, lo, hi));
  }
  return value;
}

std::string ConfigParser::Resolve(std::string_view file) const {
  std::filesystem::path p(file);
  if (p.is_absolute()) return p.string();
  return (std::filesystem::path(path_).parent_path() / p).string();
}

Result<InterfaceConfig> ConfigParser::Interface(const toml::table& root) const {
  const toml::table* table = root["interface"].as_table();
  if (table == nullptr) {
    return MakeError("{}: missing [interface] table (with private_key or private_key_file)", path_);
  }
  Section s{*table, "[interface]"};
  InterfaceConfig out;
  if (Status st = CheckKnownKeys(s, kInterfaceKeys); !st) return st.error();
  if (Status st = PrivateKey(s, out); !st) return st.error();
  if (Status st = TunAndSocket(s, out); !st) return st.error();
  if (Status st = Numbers(s, out); !st) return st.error();
  auto addresses = Prefixes(s, "addresses");
  if (!addresses) return addresses.error();
  out.addresses = std::move(*addresses);
  auto networks = Prefixes(s, "networks");
  if (!networks) return networks.error();
  for (const Prefix& p : *networks) out.networks.push_back(p.Network());
  return out;
}

Status ConfigParser::PrivateKey(const Section& s, InterfaceConfig& out) const {
  auto inline_key = String(s, "private_key");
  if (!inline_key) return inline_key.error();
  auto file = String(s, "private_key_file");
  if (!file) return file.error();
  if (*inline_key && *file) {
    return AtKey(s, "private_key", "give either private_key or private_key_file, not both");
  }
  if (!*inline_key && !*file) {
    return AtKey(s, "private_key", "missing (give private_key or private_key_file)");
  }
  std::string text;
  if (*inline_key) {
    text = **inline_key;
  } else {
    out.private_key_file = Resolve(**file);
    auto read = ReadKeyFile(out.private_key_file);
    if (!read) return AtKey(s, "private_key_file", read.error().message());
    text = std::move(*read);
  }
  auto key = crypto::PrivateKey::FromBase64(text);
  std::string_view key_name = *inline_key ? "private_key" : "private_key_file";
  if (!key) return AtKey(s, key_name, "not a base64 32-byte private key");
  out.private_key = std::move(*key);
  return Ok();
}

Status ConfigParser::TunAndSocket(const Section& s, InterfaceConfig& out) const {
  auto tun = String(s, "tun");
  if (!tun) return tun.error();
  if (*tun) out.tun = **tun;
  if (!IsValidTunName(out.tun)) {
    return AtKey(s, "tun",
                 fmt::format("\"{}\" is not a valid interface name (1..{} characters, no '/', ':' "
                             "or whitespace)",
                             out.tun, kMaxTunNameLength));
  }
  auto socket = String(s, "control_socket");
  if (!socket) return socket.error();
  out.control_socket = *socket ? Resolve(**socket) : DefaultControlSocket(out.tun);
  if (*socket && (*socket)->empty()) return AtKey(s, "control_socket", "must not be empty");
  if (out.control_socket.size() > kMaxSocketPath) {
    return AtKey(s, "control_socket",
                 fmt::format("{} is longer than {} bytes", out.control_socket, kMaxSocketPath));
  }
  return Ok();
}

Status ConfigParser::Numbers(const Section& s, InterfaceConfig& out) const {
  auto port = Integer(s, "listen_port", 0, 65535);
  if (!port) return port.error();
  if (*port) out.listen_port = static_cast<uint16_t>(**port);
  auto mtu = Integer(s, "mtu", kMinMtu, kMaxMtu);
  if (!mtu) return mtu.error();
  if (*mtu) out.mtu = static_cast<int>(**mtu);
  return Ok();
}

Result<std::vector<ParsedPeer>> ConfigParser::Peers(const toml::table& root) const {
  std::vector<ParsedPeer> out;
  const toml::array* list = root["peer"].as_array();
  if (list == nullptr) return out;
  for (size_t i = 0; i < list->size(); ++i) {
    Section s{*list->get(i)->as_table(), fmt::format("[[peer]] #{}", i + 1)};
    auto peer = Peer(s);
    if (!peer) return peer.error();
    out.push_back(ParsedPeer{std::move(*peer), s});
  }
  return out;
}

Result<PeerConfig> ConfigParser::Peer(const Section& s) const {
  PeerConfig out;
  if (Status st = CheckKnownKeys(s, kPeerKeys); !st) return st.error();
  if (Status st = PeerKeys(s, out); !st) return st.error();
  if (Status st = PeerEndpoint(s, out); !st) return st.error();
  auto prefixes = Prefixes(s, "allowed_prefixes");
  if (!prefixes) return prefixes.error();
  for (const Prefix& p : *prefixes) out.allowed_prefixes.push_back(p.Network());
  auto keepalive = Integer(s, "persistent_keepalive", 0, 65535);
  if (!keepalive) return keepalive.error();
  if (*keepalive) out.persistent_keepalive = static_cast<uint16_t>(**keepalive);
  return out;
}

Status ConfigParser::PeerKeys(const Section& s, PeerConfig& out) const {
  auto public_key = String(s, "public_key");
  if (!public_key) return public_key.error();
  if (!*public_key) return AtKey(s, "public_key", "missing");
  auto key = crypto::PublicKey::FromBase64(**public_key);
  if (!key) return AtKey(s, "public_key", "not a base64 32-byte key");
  if (key->IsZero()) return AtKey(s, "public_key", "is all zeros");
  out.public_key = *key;
  auto psk = String(s, "preshared_key");
  if (!psk) return psk.error();
  if (!*psk) return Ok();
  auto raw = Base64Decode(**psk);
  if (!raw || raw->size() != crypto::kKeySize) {
    return AtKey(s, "preshared_key", "not a base64 32-byte key");
  }
  out.preshared_key.emplace(*raw);
  std::fill(raw->begin(), raw->end(), std::byte{0});
  return Ok();
}

Status ConfigParser::PeerEndpoint(const Section& s, PeerConfig& out) const {
  auto text = String(s, "endpoint");
  if (!text) return text.error();
  if (!*text) return Ok();
  auto endpoint = ParseEndpoint(**text);
  if (!endpoint) return AtKey(s, "endpoint", endpoint.error().message());
  out.endpoint = *endpoint;
  return Ok();
}

Status ConfigParser::CheckPeerSet(const std::vector<ParsedPeer>& peers,
                                  const crypto::PublicKey& own) const {
  for (size_t j = 0; j < peers.size(); ++j) {
    const ParsedPeer& b = peers[j];
    if (b.config.public_key == own) {
      return AtKey(b.section, "public_key", "is this node's own public key");
    }
    for (size_t i = 0; i < j; ++i) {
      const ParsedPeer& a = peers[i];
      if (a.config.public_key == b.config.public_key) {
        return AtKey(b.section, "public_key",
                     fmt::format("duplicates the public key of {}", a.section.name));
      }
      if (Status st = CheckOverlap(a, b); !st) return st;
    }
  }
  return Ok();
}

Status ConfigParser::CheckOverlap(const ParsedPeer& a, const ParsedPeer& b) const {
  for (const Prefix& pb : b.config.allowed_prefixes) {
    for (const Prefix& pa : a.config.allowed_prefixes) {
      if (!pa.Contains(pb) && !pb.Contains(pa)) continue;
      return AtKey(b.section, "allowed_prefixes",
                   fmt::format("{} overlaps {} of {} (a prefix routes to one peer only)",
                               pb.ToString(), pa.ToString(), a.section.name));
    }
  }
  return Ok();
}

Result<BabelConfig> ConfigParser::Babel(const toml::table& root) const {
  BabelConfig out;
  const toml::table* table = root["babel"].as_table();
  if (table == nullptr) return out;
  Section s{*table, "[babel]"};
  if (Status st = CheckKnownKeys(s, kBabelKeys); !st) return st.error();
  if (Status st = BabelIntervals(s, out); !st) return st.error();
  if (Status st = BabelCosts(s, out); !st) return st.error();
  auto announce = Prefixes(s, "announce");
  if (!announce) return announce.error();
  for (const Prefix& p : *announce) out.announce.push_back(p.Network());
  auto seqno_file = String(s, "seqno_file");
  if (!seqno_file) return seqno_file.error();
  if (*seqno_file && (*seqno_file)->empty()) return AtKey(s, "seqno_file", "must not be empty");
  if (*seqno_file) out.seqno_file = Resolve(**seqno_file);
  return out;
}

Status ConfigParser::BabelIntervals(const Section& s, BabelConfig& out) const {
  auto hello = Seconds(s, "hello_interval", 0.05, 60);
  if (!hello) return hello.error();
  if (*hello) out.hello_interval_s = **hello;
  auto update = Seconds(s, "update_interval", 0.05, 600);
  if (!update) return update.error();
  out.update_interval_s = *update;
  auto probe = Seconds(s, "link_probe_interval", 0.01, 60);
  if (!probe) return probe.error();
  if (*probe) out.link_probe_interval_s = **probe;
  auto timeout = Seconds(s, "link_timeout", 0.02, 600);
  if (!timeout) return timeout.error();
  if (*timeout) out.link_timeout_s = **timeout;
  if (out.link_timeout_s <= out.link_probe_interval_s) {
    return AtKey(s, "link_timeout",
                 fmt::format("{} s must be longer than link_probe_interval ({} s)",
                             out.link_timeout_s, out.link_probe_interval_s));
  }
  return Ok();
}

Status ConfigParser::BabelCosts(const Section& s, BabelConfig& out) const {
  auto quality = String(s, "link_quality");
  if (!quality) return quality.error();
  if (*quality && **quality != "etx" && **quality != "two-out-of-three") {
    return AtKey(s, "link_quality",
                 fmt::format("\"{}\": expected \"etx\" or \"two-out-of-three\"", **quality));
  }
  if (*quality) out.etx = **quality == "etx";
  auto rtt_min = Integer(s, "rtt_min", 0, 60000);
  if (!rtt_min) return rtt_min.error();
  if (*rtt_min) out.rtt_min_ms = static_cast<int>(**rtt_min);
  auto rtt_max = Integer(s, "rtt_max", 1, 60000);
  if (!rtt_max) return rtt_max.error();
  if (*rtt_max) out.rtt_max_ms = static_cast<int>(**rtt_max);
  if (out.rtt_max_ms <= out.rtt_min_ms) {
    return AtKey(s, *rtt_max ? "rtt_max" : "rtt_min",
                 fmt::format("rtt_max ({} ms) must be greater than rtt_min ({} ms)", out.rtt_max_ms,
                             out.rtt_min_ms));
  }
  auto penalty = Integer(s, "max_rtt_penalty", 0, 65534);
  if (!penalty) return penalty.error();
  if (*penalty) out.max_rtt_penalty = static_cast<int>(**penalty);
  return Ok();
}

Result<std::optional<IdentityConfig>> ConfigParser::Identity(const toml::table& root) const {
  const toml::table* table = root["identity"].as_table();
  if (table == nullptr) return std::optional<IdentityConfig>();
  Section s{*table, "[identity]"};
  if (Status st = CheckKnownKeys(s, kIdentityKeys); !st) return st.error();
  IdentityConfig out;
  auto dir = String(s, "dir");
  if (!dir) return dir.error();
  if (!*dir || (*dir)->empty()) {
    return At(LineOf(*table), s, "dir", "required: the state directory `plexus join` wrote");
  }
  out.dir = Resolve(**dir);
  auto interval = Seconds(s, "registry_interval", 1, 86400);
  if (!interval) return interval.error();
  if (*interval) out.registry_interval_s = **interval;
  auto pending = Integer(s, "max_pending_links", 0, 65536);
  if (!pending) return pending.error();
  if (*pending) out.max_pending_links = static_cast<int>(**pending);
  const toml::node* accept = table->get("accept_unknown");
  if (accept != nullptr) {
    const auto* b = accept->as_boolean();
    if (b == nullptr) {
      return AtKey(s, "accept_unknown",
                   fmt::format("expected true or false, got {}", TypeName(*accept)));
    }
    out.accept_unknown = b->get();
  }
  return std::optional<IdentityConfig>(std::move(out));
}

Result<Config> ConfigParser::Parse(std::string_view text) const {
  toml::table root;
  try {
    root = toml::parse(text, path_);
  } catch (const toml::parse_error& e) {
    return MakeError("{}:{}:{}: {}", path_, e.source().begin.line, e.source().begin.column,
                     e.description());
  }
  if (Status st = CheckRoot(root); !st) return st.error();
  Config config;
  config.path = path_;
  auto interface = Interface(root);
  if (!interface) return interface.error();
  config.interface = std::move(*interface);
  auto peers = Peers(root);
  if (!peers) return peers.error();
  Status st = CheckPeerSet(*peers, config.interface.private_key.Public());
  if (!st) return st.error();
  for (ParsedPeer& p : *peers) config.peers.push_back(std::move(p.config));
  auto babel = Babel(root);
  if (!babel) return babel.error();
  config.babel = std::move(*babel);
  auto identity = Identity(root);
  if (!identity) return identity.error();
  config.identity = std::move(*identity);
  return config;
}

}  // namespace

std::string DefaultControlSocket(std::string_view tun) {
  return fmt::format("{}/{}.sock", kControlSocketDir, tun);
}

Result<Config> ParseConfig(std::string_view text, std::string_view path) {
  return ConfigParser(path).Parse(text);
}

Result<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError("cannot read config file {}: {}", path, std::strerror(errno));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return MakeError("cannot read config file {}: {}", path, std::strerror(errno));
  return ParseConfig(text.str(), path);
}

}  // namespace plexus::node
