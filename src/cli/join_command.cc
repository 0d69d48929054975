#include "cli/join_command.h"

#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "base/base64.h"
#include "crypto/x25519.h"
#include "identity/certificate_authority.h"
#include "identity/network_config.h"
#include "identity/peer_record.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "registry/client.h"
#include "registry/join_url.h"
#include "registry/registry_dir.h"

namespace plexus::cli {
namespace {

using identity::Certificate;
using identity::SignedDocument;
using nlohmann::json;

// A peer from the bootstrap list, verified.
struct BootstrapPeer {
  crypto::PublicKey wireguard_key;
  std::optional<Endpoint> endpoint;
};

// The registry's answer, verified against the pinned CA.
struct Enrolment {  // NOLINT(bugprone-exception-escape): nlohmann::json members
  std::string name;
  Prefix prefix;
  std::optional<Prefix> ipv4;
  std::string address;
  std::string certificate_pem;
  std::string ca_pem;
  json network_config;
  json crl;
  json bootstrap;
  std::vector<BootstrapPeer> peers;
  std::vector<Prefix> networks;  // the overlay's prefixes, from the network config
};

Result<std::string> DefaultName() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) return MakeError("cannot read the host name");
  std::string name(host);
  name = name.substr(0, name.find('.'));
  for (char& c : name) {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (c == '_') c = '-';
  }
  if (!identity::IsValidDnsLabel(name)) {
    return MakeError("host name \"{}\" is not a DNS label: give --name", name);
  }
  return name;
}

Result<std::string> GetString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string()) {
    return MakeError("registry answer: {}: missing or not a string", field);
  }
  return j[field].get<std::string>();
}

Result<SignedDocument> GetDocument(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_object()) {
    return MakeError("registry answer: {}: missing or not an object", field);
  }
  Result<SignedDocument> doc = identity::DecodeSignedDocument(j[field].dump());
  if (!doc) return doc.error().Wrap(field);
  return doc;
}

Status CheckCertificate(const std::string& pem, const Certificate& ca,
                        const identity::IdentityKey& identity_key, const crypto::PublicKey& wg,
                        int64_t now) {
  Result<Certificate> cert = Certificate::FromPem(pem);
  if (!cert) return cert.error().Wrap("registry answer: certificate");
  identity::CertificateVerdict v = identity::VerifyNodeCertificate(*cert, ca, now, {}, wg);
  if (!v) return v.ToStatus().error().Wrap("registry answer: certificate");
  Result<identity::IdentityPublicKey> key = cert->SubjectPublicKey();
  if (!key || *key != identity_key.public_key()) {
    return MakeError("registry answer: certificate is not for this node's identity key");
  }
  return Ok();
}

// Verified bootstrap peers; records that do not verify are skipped with a warning.
std::vector<BootstrapPeer> VerifyPeers(const json& list, const Certificate& ca,
                                       const std::vector<std::string>& revoked, int64_t now) {
  std::vector<BootstrapPeer> out;
  if (!list.is_array()) return out;
  for (const json& item : list) {
    Result<SignedDocument> doc = identity::DecodeSignedDocument(item.dump());
    if (!doc) continue;
    identity::VerifiedPeerRecord v = identity::VerifyPeerRecord(*doc, ca, now, revoked, 0);
    if (!v.verdict || !v.certificate) {
      std::fprintf(stderr, "plexus join: skipping a bootstrap peer: %s\n",
                   v.verdict.message.c_str());
      continue;
    }
    std::optional<crypto::PublicKey> wg = v.certificate->WireGuardKey();
    if (!wg) continue;
    BootstrapPeer peer{*wg, std::nullopt};
    if (!v.record.endpoints.empty()) peer.endpoint = v.record.endpoints.front();
    out.push_back(peer);
  }
  return out;
}

Status ReadPrefixes(const json& j, Enrolment& e) {
  Result<std::string> prefix = GetString(j, "prefix");
  if (!prefix) return prefix.error();
  Result<Prefix> p = Prefix::Parse(*prefix);
  if (!p) return p.error().Wrap("registry answer: prefix");
  e.prefix = *p;
  if (j.contains("ipv4") && j["ipv4"].is_string()) {
    Result<Prefix> v4 = Prefix::Parse(j["ipv4"].get<std::string>());
    if (!v4) return v4.error().Wrap("registry answer: ipv4");
    e.ipv4 = *v4;
  }
  Result<std::string> address = GetString(j, "address");
  if (!address) return address.error();
  e.address = *address;
  return Ok();
}

Status ReadDocuments(const json& j, const Certificate& ca, int64_t now, Enrolment& e) {
  Result<identity::IdentityPublicKey> ca_key = ca.SubjectPublicKey();
  if (!ca_key) return ca_key.error();
  Result<SignedDocument> config = GetDocument(j, "network_config");
  if (!config) return config.error();
  identity::VerifiedNetworkConfig vc = identity::VerifyNetworkConfig(*config, *ca_key, 0);
  if (!vc.verdict) return vc.verdict.ToStatus().error().Wrap("registry answer: network_config");
  Result<SignedDocument> crl = GetDocument(j, "crl");
  if (!crl) return crl.error();
  identity::VerifiedRevocationList vr = identity::VerifyRevocationList(*crl, *ca_key, 0);
  if (!vr.verdict) return vr.verdict.ToStatus().error().Wrap("registry answer: crl");
  e.networks = {vc.config.network_prefix};
  if (vc.config.ipv4_network) e.networks.push_back(*vc.config.ipv4_network);
  e.network_config = j["network_config"];
  e.crl = j["crl"];
  e.bootstrap = j.contains("bootstrap") ? j["bootstrap"] : json::array();
  e.peers = VerifyPeers(e.bootstrap, ca, vr.list.serials(), now);
  return Ok();
}

Result<Enrolment> ReadEnrolment(const HttpReply& reply, const RegistryClient& client,
                                const identity::IdentityKey& identity_key,
                                const crypto::PublicKey& wg, int64_t now) {
  json j = json::parse(reply.body, nullptr, false);
  if (reply.status != 200) {
    std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                          ? j["error"].get<std::string>()
                          : reply.body.substr(0, 200);
    return MakeError("the registry refused: HTTP {}: {}", reply.status, why);
  }
  if (!j.is_object()) return MakeError("registry answer: not a JSON object");
  Enrolment e;
  Result<std::string> name = GetString(j, "name");
  Result<std::string> cert = GetString(j, "certificate");
  Result<std::string> ca = GetString(j, "ca_certificate");
  if (!name || !cert || !ca) return MakeError("registry answer: name/certificate/ca_certificate");
  e.name = *name;
  e.certificate_pem = *cert;
  e.ca_pem = *ca;
  if (Status s = CheckCertificate(e.certificate_pem, client.ca(), identity_key, wg, now); !s) {
    return s.error();
  }
  if (Status s = ReadPrefixes(j, e); !s) return s.error();
  if (Status s = ReadDocuments(j, client.ca(), now, e); !s) return s.error();
  return e;
}

std::string TomlString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The IPv4 address for a node's IPv4 prefix: the address itself for a /32.
std::string Ipv4Address(const Prefix& p) {
  if (p.length() >= 31) return p.ToString();
  std::array<uint8_t, 4> b{};
  const Prefix network = p.Network();  // the span below points into it
  ByteSpan src = network.address().bytes();
  for (size_t i = 0; i < 4; ++i) b[i] = U8(src)[i];
  b[3] |= 1;
  return Prefix(IpAddress::V4(b), p.length()).ToString();
}

// The node config `plexus join` writes: the TUN with the node's addresses, the
// overlay's prefixes, [identity] naming the state directory (so the node starts
// with its certificate and talks to the registry), and the bootstrap peers.
std::string NodeToml(const Enrolment& e, const std::string& dir, const std::string& tun,
                     const std::string& network) {
  const std::string key_file = dir + "/wireguard.key";
  std::string addresses = TomlString(fmt::format("{}/{}", e.address, e.prefix.length()));
  if (e.ipv4) addresses += ", " + TomlString(Ipv4Address(*e.ipv4));
  std::string networks;
  for (const Prefix& p : e.networks) {
    if (!networks.empty()) networks += ", ";
    networks += TomlString(p.ToString());
  }
  std::string out = fmt::format(
      "# Written by `plexus join`: node {} of network {}.\n"
      "# Peers below are mesh peers (no allowed_prefixes): routing decides what they carry.\n"
      "[interface]\nprivate_key_file = {}\ntun = {}\naddresses = [{}]\nnetworks = [{}]\n"
      "\n# The state directory written by `plexus join`: keys, certificate, CA, CRL,\n"
      "# network config and the registry's address.\n"
      "[identity]\ndir = {}\n",
      e.name, network, TomlString(key_file), TomlString(tun), addresses, networks, TomlString(dir));
  for (const BootstrapPeer& p : e.peers) {
    out += fmt::format("\n[[peer]]\npublic_key = {}\n", TomlString(p.wireguard_key.ToBase64()));
    if (p.endpoint) out += fmt::format("endpoint = {}\n", TomlString(p.endpoint->ToString()));
  }
  return out;
}

struct Keys {
  identity::IdentityKey identity;
  crypto::PrivateKey wireguard;
};

Status WriteState(const std::string& dir, const Keys& keys, const Enrolment& e,
                  const json& registry_info) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return MakeError("{}: cannot create: {}", dir, ec.message());
  std::filesystem::permissions(dir, std::filesystem::perms::owner_all, ec);
  if (Status s = keys.identity.SavePemFile(dir + "/identity.key"); !s) return s;
  std::string wg = keys.wireguard.ToBase64() + "\n";
  if (Status s = WriteFileAtomic(dir + "/wireguard.key", wg, 0600); !s) return s;
  const std::vector<std::pair<std::string, std::string>> files = {
      {"node.crt", e.certificate_pem},
      {"ca.crt", e.ca_pem},
      {"network-config.json", e.network_config.dump(2) + "\n"},
      {"crl.json", e.crl.dump(2) + "\n"},
      {"peers.json", e.bootstrap.dump(2) + "\n"},
      {"registry.json", registry_info.dump(2) + "\n"}};
  for (const auto& [file, text] : files) {
    std::string path = dir;
    path += '/';
    path += file;
    if (Status s = WriteFileAtomic(path, text, 0644); !s) return s;
  }
  return Ok();
}

int Fail(const Error& e) {
  std::fprintf(stderr, "plexus join: %s\n", e.message().c_str());
  return 1;
}

}  // namespace

JoinCommand::JoinCommand(CLI::App& parent)
    : app_(
          parent.add_subcommand("join", "Join a network with a URL from `registry token create`")) {
  app_->add_option("url", url_, "plexus://HOST:PORT/TOKEN#sha256=CA-FINGERPRINT")->required();
  app_->add_option("--dir", dir_, "State directory for keys and certificates")
      ->capture_default_str();
  app_->add_option("--name", name_, "Node name, a DNS label (default: the host name)");
  app_->add_option("--config-out", config_out_, "Node config to write (default: DIR/node.toml)");
  app_->add_option("--tun", tun_, "TUN device name for the node config")->capture_default_str();
}

int JoinCommand::Run() const {
  Result<JoinUrl> url = ParseJoinUrl(url_);
  if (!url) return Fail(url.error());
  std::string dir = std::filesystem::absolute(dir_).lexically_normal().string();
  std::error_code ec;
  if (std::filesystem::exists(dir + "/identity.key", ec)) {
    return Fail(
        MakeError("{} already holds a node identity (joined before?): use another --dir", dir));
  }
  Result<std::string> name = name_.empty() ? DefaultName() : Result<std::string>(name_);
  if (!name) return Fail(name.error());
  Result<identity::IdentityKey> identity_key = identity::IdentityKey::Generate();
  if (!identity_key) return Fail(identity_key.error());
  SystemRandom random;
  Keys keys{std::move(*identity_key), crypto::PrivateKey::Generate(random)};
  Result<std::unique_ptr<RegistryClient>> client =
      RegistryClient::ConnectPinned(url->host, url->port, url->ca_fingerprint);
  if (!client) return Fail(client.error());
  json body{{"token", url->token},
            {"name", *name},
            {"identity_key", Base64Encode(keys.identity.public_key().span())},
            {"wireguard_key", keys.wireguard.Public().ToBase64()}};
  Result<HttpReply> reply = (*client)->Post("/v1/join", body.dump());
  if (!reply) return Fail(reply.error());
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  Result<Enrolment> e =
      ReadEnrolment(*reply, **client, keys.identity, keys.wireguard.Public(), now);
  if (!e) return Fail(e.error());
  std::string network = (*client)->ca().SubjectCommonName();
  json info{{"host", url->host},
            {"port", url->port},
            {"ca_fingerprint", url->ca_fingerprint},
            {"name", e->name},
            {"network", network}};
  if (Status s = WriteState(dir, keys, *e, info); !s) return Fail(s.error());
  std::string config = config_out_.empty() ? dir + "/node.toml" : config_out_;
  std::string toml = NodeToml(*e, dir, tun_, network);
  if (Status s = WriteFileAtomic(config, toml, 0644); !s) return Fail(s.error());
  std::printf("joined network %s as %s\nprefix:  %s\naddress: %s\n", network.c_str(),
              e->name.c_str(), e->prefix.ToString().c_str(), e->address.c_str());
  if (e->ipv4) std::printf("ipv4:    %s\n", e->ipv4->ToString().c_str());
  std::printf("state in %s; start with: plexus node --config %s\n", dir.c_str(), config.c_str());
  return 0;
}

}  // namespace plexus::cli
