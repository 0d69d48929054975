#include "cli/registry_command.h"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <signal.h>

#include <charconv>
#include <cstdio>
#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "registry/join_url.h"
#include "registry/registry_dir.h"
#include "registry/server.h"
#include "registry/token.h"

namespace plexus::cli {

using nlohmann::json;

struct RegistryOptions {
  std::string dir = "/var/lib/plexus-registry";
  // init
  std::string name, prefix, ipv4, domain;
  int node_prefix_length = identity::kDefaultNodePrefixLength;
  int ipv4_node_prefix_length = identity::kDefaultIpv4NodePrefixLength;
  // serve
  std::string listen = "0.0.0.0";
  int port = kDefaultRegistryPort;
  std::vector<std::string> hosts;
  std::string log_level = "info";
  // token create
  int uses = 1;
  std::string expires = "24h";
  int prefix_length = 0;  // 0: the network's node_prefix_length
  std::string url_host;
  int url_port = 0;
  // the others
  bool json = false;
  std::string target;  // token id, node name or serial
  std::string key, value;

  CLI::App* init = nullptr;
  CLI::App* serve = nullptr;
  CLI::App* token_create = nullptr;
  CLI::App* token_list = nullptr;
  CLI::App* token_delete = nullptr;
  CLI::App* nodes = nullptr;
  CLI::App* revoke = nullptr;
  CLI::App* config_set = nullptr;
  CLI::App* config_show = nullptr;
};

namespace {

constexpr std::string_view kServeFile = "/serve.json";

int Failed(std::string_view what, const Error& e) {
  std::fprintf(stderr, "plexus registry %.*s: %s\n", static_cast<int>(what.size()), what.data(),
               e.message().c_str());
  return 1;
}

int64_t NowUnix() {
  return static_cast<int64_t>(std::time(nullptr));
}

std::string IsoTime(UnixSeconds t) {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(t)));
}

void AddDir(CLI::App* app, RegistryOptions& o) {
  app->add_option("--dir", o.dir, "The registry's state directory")->capture_default_str();
}

// "90s", "30m", "24h", "7d", or plain seconds.
Result<std::chrono::seconds> ParseDuration(std::string_view text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string_view unit(end, static_cast<size_t>(text.data() + text.size() - end));
  if (ec != std::errc() || n <= 0) return MakeError("--expires: \"{}\" is not a duration", text);
  if (unit.empty() || unit == "s") return std::chrono::seconds(n);
  if (unit == "m") return std::chrono::seconds(n * 60);
  if (unit == "h") return std::chrono::seconds(n * 3600);
  if (unit == "d") return std::chrono::seconds(n * 86400);
  return MakeError("--expires: unit \"{}\" is not one of s, m, h, d", unit);
}

Result<std::optional<Prefix>> OptionalPrefix(const std::string& text, std::string_view option) {
  if (text.empty()) return std::optional<Prefix>();
  Result<Prefix> p = Prefix::Parse(text);
  if (!p) return p.error().Wrap(option);
  return std::optional<Prefix>(*p);
}

// ------------------------------------------------------------------ init

int RunInit(const RegistryOptions& o) {
  Result<std::optional<Prefix>> v6 = OptionalPrefix(o.prefix, "--prefix");
  if (!v6) return Failed("init", v6.error());
  Result<std::optional<Prefix>> v4 = OptionalPrefix(o.ipv4, "--ipv4");
  if (!v4) return Failed("init", v4.error());
  InitOptions init{.network_name = o.name,
                   .ipv6_prefix = *v6,
                   .node_prefix_length = o.node_prefix_length,
                   .ipv4_network = *v4,
                   .ipv4_node_prefix_length = o.ipv4_node_prefix_length,
                   .domain = o.domain,
                   .now_unix = NowUnix()};
  SystemRandom random;
  Result<RegistrySettings> s = InitRegistry(RegistryPaths{o.dir}, init, random);
  if (!s) return Failed("init", s.error());
  std::printf("network %s: prefix %s, node prefixes /%d", s->network.network_name.c_str(),
              s->network.network_prefix.ToString().c_str(), s->network.node_prefix_length);
  if (s->network.ipv4_network) {
    std::printf(", IPv4 %s (/%d per node)", s->network.ipv4_network->ToString().c_str(),
                s->network.ipv4_node_prefix_length);
  }
  std::printf("\nCA and database created in %s\n", o.dir.c_str());
  return 0;
}

// ----------------------------------------------------------------- serve

Status WriteServeFile(const RegistryOptions& o, const RegistryServer& server) {
  json j{{"hosts", server.hosts()}, {"port", server.port()}};
  return WriteFileAtomic(o.dir + std::string(kServeFile), j.dump() + "\n", 0644);
}

int RunServe(const RegistryOptions& o) {
  LogLevel level = LogLevel::kInfo;
  if (!ParseLogLevel(o.log_level, level)) return 2;
  SetLogLevel(level);
  // Block SIGINT/SIGTERM before any thread starts, so that sigwait below gets them.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  ServerOptions options{.listen_address = o.listen, .port = o.port, .hosts = o.hosts};
  Result<std::unique_ptr<RegistryServer>> server =
      RegistryServer::Start(RegistryPaths{o.dir}, options);
  if (!server) return Failed("serve", server.error());
  if (Status s = WriteServeFile(o, **server); !s) return Failed("serve", s.error());
  PLEXUS_LOG_INFO("registry: serving {} on {} port {} (certificate for {})", o.dir, o.listen,
                  (*server)->port(), fmt::join((*server)->hosts(), ", "));
  Status result = Ok();
  std::thread listener([&] { result = (*server)->Run(); });
  int sig = 0;
  sigwait(&signals, &sig);
  PLEXUS_LOG_INFO("registry: signal {}, stopping", sig);
  (*server)->Stop();
  listener.join();
  if (!result) return Failed("serve", result.error());
  return 0;
}

// ---------------------------------------------------------------- tokens

struct UrlTarget {
  std::string host;
  int port = kDefaultRegistryPort;
};

Result<UrlTarget> UrlTargetFor(const RegistryOptions& o) {
  UrlTarget t;
  Result<std::string> served = ReadTextFile(o.dir + std::string(kServeFile));
  json j = served ? json::parse(*served, nullptr, false) : json();
  if (j.is_object() && j.contains("hosts") && j["hosts"].is_array() && !j["hosts"].empty() &&
      j["hosts"][0].is_string() && j.contains("port") && j["port"].is_number_integer()) {
    t.host = j["hosts"][0].get<std::string>();
    t.port = j["port"].get<int>();
  }
  if (!o.url_host.empty()) t.host = o.url_host;
  if (o.url_port != 0) t.port = o.url_port;
  if (t.host.empty()) {
    return MakeError(
        "the join URL needs the registry's address: give --url-host (no `registry "
        "serve` has run in {} yet)",
        o.dir);
  }
  return t;
}

Result<std::string> JoinUrlFor(const RegistryOptions& o, const Registry& r, std::string token) {
  Result<UrlTarget> target = UrlTargetFor(o);
  if (!target) return target.error();
  Result<std::string> fp = CertificateFingerprint(r.ca->certificate());
  if (!fp) return fp.error();
  JoinUrl url{target->host, static_cast<uint16_t>(target->port), std::move(token), *fp};
  return url.ToString();
}

Result<int> TokenPrefixLength(const RegistryOptions& o, Registry& r) {
  Result<RegistrySettings> s = LoadSettings(*r.storage);
  if (!s) return s.error();
  int length = o.prefix_length ? o.prefix_length : s->network.node_prefix_length;
  int network = s->network.network_prefix.length();
  if (length <= network || length > 128) {
    return MakeError("--prefix-length: {} not in ({}, 128] for {}", length, network,
                     s->network.network_prefix.ToString());
  }
  return length;
}

int RunTokenCreate(const RegistryOptions& o) {
  Result<Registry> r = Registry::Open(RegistryPaths{o.dir});
  if (!r) return Failed("token create", r.error());
  Result<std::chrono::seconds> lifetime = ParseDuration(o.expires);
  if (!lifetime) return Failed("token create", lifetime.error());
  if (o.uses < 1) return Failed("token create", MakeError("--uses: must be at least 1"));
  Result<int> length = TokenPrefixLength(o, *r);
  if (!length) return Failed("token create", length.error());
  SystemRandom random;
  UnixSeconds now{std::chrono::seconds(NowUnix())};
  IssuedToken t = MakeToken(random, now, *lifetime, o.uses, *length);
  Result<std::string> url = JoinUrlFor(o, *r, t.Text());
  if (!url) return Failed("token create", url.error());
  if (Status s = r->storage->AddToken(t.token); !s) return Failed("token create", s.error());
  if (o.json) {
    json j{{"id", t.token.id},
           {"token", t.Text()},
           {"url", *url},
           {"uses", t.token.uses_left},
           {"prefix_length", *length},
           {"expires_at", IsoTime(t.token.expires_at)}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("token:    %s\njoin URL: %s\n", t.Text().c_str(), url->c_str());
  std::printf("%d use(s), /%d prefixes, expires %s; on the new machine: plexus join '%s'\n", o.uses,
              *length, IsoTime(t.token.expires_at).c_str(), url->c_str());
  return 0;
}

int RunTokenList(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("token list", s.error());
  Result<std::vector<Token>> tokens = (*s)->ListTokens();
  if (!tokens) return Failed("token list", tokens.error());
  UnixSeconds now{std::chrono::seconds(NowUnix())};
  json out = json::array();
  for (const Token& t : *tokens) {
    out.push_back({{"id", t.id},
                   {"uses_left", t.uses_left},
                   {"prefix_length", t.prefix_length},
                   {"created_at", IsoTime(t.created_at)},
                   {"expires_at", IsoTime(t.expires_at)},
                   {"expired", t.expires_at <= now}});
  }
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-12s %9s %6s  %-20s  %s\n", "ID", "USES LEFT", "PREFIX", "EXPIRES", "STATE");
  for (const Token& t : *tokens) {
    std::string state = t.expires_at <= now ? "expired" : t.uses_left == 0 ? "used" : "valid";
    std::printf("%-12s %9d %6s  %-20s  %s\n", t.id.c_str(), t.uses_left,
                fmt::format("/{}", t.prefix_length).c_str(), IsoTime(t.expires_at).c_str(),
                state.c_str());
  }
  return 0;
}

int RunTokenDelete(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("token delete", s.error());
  // Accept the whole token text too: its id is the part before the dot.
  std::string id = o.target.substr(0, o.target.find('.'));
  if (Status d = (*s)->DeleteToken(id); !d) return Failed("token delete", d.error());
  std::printf("token %s deleted\n", id.c_str());
  return 0;
}

// ------------------------------------------------------- nodes and revoke

json NodeJson(const NodeRecord& n, const std::map<std::string, UnixSeconds>& seen) {
  json j{{"name", n.name},
         {"prefix", n.prefix.ToString()},
         {"ipv4", n.ipv4 ? json(n.ipv4->ToString()) : json(nullptr)},
         {"serial", n.serial},
         {"issued_at", IsoTime(n.issued_at)},
         {"expires_at", IsoTime(n.expires_at)},
         {"revoked", n.revoked}};
  auto it = seen.find(n.name);
  j["last_seen"] = it == seen.end() ? json(nullptr) : json(IsoTime(it->second));
  return j;
}

int RunNodes(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("nodes", s.error());
  Result<std::vector<NodeRecord>> nodes = (*s)->ListNodes();
  if (!nodes) return Failed("nodes", nodes.error());
  Result<std::map<std::string, UnixSeconds>> seen = (*s)->LastSeen();
  if (!seen) return Failed("nodes", seen.error());
  json out = json::array();
  for (const NodeRecord& n : *nodes) out.push_back(NodeJson(n, *seen));
  if (o.json) {
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("%-16s %-28s %-34s %-20s %-20s %s\n", "NAME", "PREFIX", "SERIAL", "EXPIRES",
              "LAST SEEN", "STATE");
  for (const json& n : out) {
    std::string seen_text = n["last_seen"].is_null() ? "never" : n["last_seen"].get<std::string>();
    std::printf("%-16s %-28s %-34s %-20s %-20s %s\n", n["name"].get<std::string>().c_str(),
                n["prefix"].get<std::string>().c_str(), n["serial"].get<std::string>().c_str(),
                n["expires_at"].get<std::string>().c_str(), seen_text.c_str(),
                n["revoked"].get<bool>() ? "revoked" : "valid");
  }
  return 0;
}

int RunRevoke(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("revoke", s.error());
  UnixSeconds now{std::chrono::seconds(NowUnix())};
  if (Status r = (*s)->RevokeNode(o.target, now); !r) return Failed("revoke", r.error());
  Result<int64_t> crl = (*s)->CrlVersion();
  Result<int64_t> config = (*s)->NetworkVersion();
  if (!crl || !config) return Failed("revoke", MakeError("reading the document versions"));
  std::printf("%s revoked: CRL version %lld, network config version %lld\n", o.target.c_str(),
              static_cast<long long>(*crl) + 1, static_cast<long long>(*config));
  return 0;
}

// ---------------------------------------------------------------- config

int RunConfigSet(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("config set", s.error());
  Result<int64_t> version = (*s)->UpdateSettings(
      [&](const SettingsMap& current) { return ApplySetting(current, o.key, o.value); });
  if (!version) return Failed("config set", version.error());
  std::printf("%s = %s: network config version %lld\n", o.key.c_str(), o.value.c_str(),
              static_cast<long long>(*version));
  return 0;
}

int RunConfigShow(const RegistryOptions& o) {
  Result<std::unique_ptr<RegistryStorage>> s = OpenRegistryStorage(RegistryPaths{o.dir});
  if (!s) return Failed("config show", s.error());
  Result<SettingsMap> map = (*s)->AllSettings();
  if (!map) return Failed("config show", map.error());
  Result<int64_t> version = (*s)->NetworkVersion();
  if (!version) return Failed("config show", version.error());
  if (o.json) {
    json j{{"version", *version}, {"settings", json(*map)}};
    std::printf("%s\n", j.dump(2).c_str());
    return 0;
  }
  std::printf("network config version %lld\n", static_cast<long long>(*version));
  for (const SettingInfo& k : SettingKeys()) {
    auto it = map->find(k.key);
    std::string value = it == map->end() ? "(unset)" : it->second;
    std::printf("%-26s %-28s %s\n", std::string(k.key).c_str(), value.c_str(),
                k.settable ? "" : "(fixed at init)");
  }
  return 0;
}

}  // namespace

RegistryCommand::RegistryCommand(CLI::App& parent)
    : app_(parent.add_subcommand("registry", "Create, run and administer a network's registry")),
      o_(std::make_unique<RegistryOptions>()) {
  app_->require_subcommand(1);
  AddInit();
  AddServe();
  AddToken();
  AddAdmin();
}

RegistryCommand::~RegistryCommand() = default;

void RegistryCommand::AddInit() {
  RegistryOptions& o = *o_;
  o.init = app_->add_subcommand("init", "Create the network CA and the registry database");
  AddDir(o.init, o);
  o.init->add_option("--name", o.name, "Network name (a DNS label)")->required();
  o.init->add_option("--prefix", o.prefix, "IPv6 network prefix (default: a random ULA /48)");
  o.init->add_option("--node-prefix-length", o.node_prefix_length, "Each node's prefix length")
      ->capture_default_str();
  o.init->add_option("--ipv4", o.ipv4, "Optional IPv4 network, e.g. 10.42.0.0/16");
  o.init
      ->add_option("--ipv4-node-prefix-length", o.ipv4_node_prefix_length,
                   "Each node's IPv4 prefix length")
      ->capture_default_str();
  o.init->add_option("--domain", o.domain, "DNS domain of node names (default: the network name)");
}

void RegistryCommand::AddServe() {
  RegistryOptions& o = *o_;
  o.serve = app_->add_subcommand("serve", "Serve the registry API over HTTPS (foreground)");
  AddDir(o.serve, o);
  o.serve->add_option("--listen", o.listen, "Address to listen on")->capture_default_str();
  o.serve->add_option("--port", o.port, "TCP port (0: any free port)")->capture_default_str();
  o.serve->add_option("--host", o.hosts,
                      "Name or address clients use, for the server certificate (repeatable)");
  o.serve->add_option("--log-level", o.log_level, "Least severe messages to log")
      ->check(CLI::IsMember({"debug", "info", "warning", "error"}))
      ->capture_default_str();
}

void RegistryCommand::AddToken() {
  RegistryOptions& o = *o_;
  CLI::App* token = app_->add_subcommand("token", "Enrolment tokens");
  token->require_subcommand(1);
  o.token_create = token->add_subcommand("create", "Create a token and print its join URL");
  AddDir(o.token_create, o);
  o.token_create->add_option("--uses", o.uses, "How many nodes may join with it")
      ->capture_default_str();
  o.token_create->add_option("--expires", o.expires, "Lifetime: 90s, 30m, 24h, 7d")
      ->capture_default_str();
  o.token_create->add_option("--prefix-length", o.prefix_length,
                             "Prefix length for nodes joining with it (default: the network's)");
  o.token_create->add_option("--url-host", o.url_host,
                             "Registry host in the URL (default: the first --host of serve)");
  o.token_create->add_option("--url-port", o.url_port, "Registry port in the URL");
  o.token_create->add_flag("--json", o.json, "Print JSON");
  o.token_list = token->add_subcommand("list", "List tokens");
  AddDir(o.token_list, o);
  o.token_list->add_flag("--json", o.json, "Print JSON");
  o.token_delete = token->add_subcommand("delete", "Delete a token");
  AddDir(o.token_delete, o);
  o.token_delete->add_option("id", o.target, "Token id (or the whole token)")->required();
}

void RegistryCommand::AddAdmin() {
  RegistryOptions& o = *o_;
  o.nodes = app_->add_subcommand("nodes", "List enrolled nodes");
  AddDir(o.nodes, o);
  o.nodes->add_flag("--json", o.json, "Print JSON");
  o.revoke = app_->add_subcommand("revoke", "Revoke a node's certificates (adds them to the CRL)");
  AddDir(o.revoke, o);
  o.revoke->add_option("node", o.target, "Node name or certificate serial")->required();
  CLI::App* config = app_->add_subcommand("config", "The signed network configuration");
  config->require_subcommand(1);
  o.config_set = config->add_subcommand("set", "Set a key (bumps the config version)");
  AddDir(o.config_set, o);
  o.config_set->add_option("key", o.key, "Setting name")->required();
  o.config_set->add_option("value", o.value, "New value")->required();
  o.config_show = config->add_subcommand("show", "Show the settings");
  AddDir(o.config_show, o);
  o.config_show->add_flag("--json", o.json, "Print JSON");
}

int RegistryCommand::Run() const {
  const RegistryOptions& o = *o_;
  if (o.init->parsed()) return RunInit(o);
  if (o.serve->parsed()) return RunServe(o);
  if (o.token_create->parsed()) return RunTokenCreate(o);
  if (o.token_list->parsed()) return RunTokenList(o);
  if (o.token_delete->parsed()) return RunTokenDelete(o);
  if (o.nodes->parsed()) return RunNodes(o);
  if (o.revoke->parsed()) return RunRevoke(o);
  if (o.config_set->parsed()) return RunConfigSet(o);
  if (o.config_show->parsed()) return RunConfigShow(o);
  return 2;
}

}  // namespace plexus::cli
