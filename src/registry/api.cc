#include "registry/api.h"

#include <exception>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/base64.h"
#include "base/log.h"
#include "identity/peer_record.h"
#include "identity/signed_document.h"
#include "registry/prefix_allocator.h"
#include "registry/registry_dir.h"
#include "registry/token.h"

namespace plexus {
namespace {

using identity::Certificate;
using identity::IdentityPublicKey;
using identity::SignedDocument;
using nlohmann::json;
namespace dj = identity::document_json;

// --------------------------------------------------------------- responses

std::string Dump(const json& j) {
  // `replace`: a message quoting bad input never makes dump() throw.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

ApiResponse Fail(int status, std::string_view message, std::string node = {}) {
  return ApiResponse{status, Dump(json{{"error", message}}), std::move(node)};
}

ApiResponse Fail(int status, const Error& e, std::string node = {}) {
  return Fail(status, e.message(), std::move(node));
}

ApiResponse Reply(const json& j, std::string node = {}) {
  return ApiResponse{200, Dump(j), std::move(node)};
}

json DocumentJson(const SignedDocument& doc) {
  return json::parse(identity::EncodeSignedDocument(doc));
}

// ---------------------------------------------------------------- requests

Result<json> ParseObject(std::string_view body) {
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("body: not valid JSON");
  if (!j.is_object()) return MakeError("body: not a JSON object");
  return j;
}

Result<ByteArray<32>> GetKey(const json& j, std::string_view field) {
  Result<std::string> text = dj::GetString(j, field);
  if (!text) return text.error();
  std::optional<Bytes> raw = Base64Decode(*text);
  if (!raw) return MakeError("{}: not base64", field);
  if (raw->size() != 32) return MakeError("{}: {} bytes, want 32", field, raw->size());
  ByteArray<32> out;
  std::copy(raw->begin(), raw->end(), out.begin());
  return out;
}

struct JoinRequest {
  std::string token;
  std::string name;
  IdentityPublicKey identity_key;
  crypto::PublicKey wireguard_key;
};

Result<JoinRequest> ParseJoinRequest(std::string_view body) {
  Result<json> j = ParseObject(body);
  if (!j) return j.error();
  if (Status s = dj::OnlyFields(*j, {"token", "name", "identity_key", "wireguard_key"}); !s) {
    return s.error();
  }
  JoinRequest r;
  Result<std::string> token = dj::GetString(*j, "token");
  if (!token) return token.error();
  Result<std::string> name = dj::GetString(*j, "name");
  if (!name) return name.error();
  if (!identity::IsValidDnsLabel(*name)) {
    return MakeError("name: \"{}\" is not a DNS label (1-63 of a-z, 0-9, -)", *name);
  }
  Result<ByteArray<32>> id = GetKey(*j, "identity_key");
  if (!id) return id.error();
  Result<ByteArray<32>> wg = GetKey(*j, "wireguard_key");
  if (!wg) return wg.error();
  r.token = std::move(*token);
  r.name = std::move(*name);
  r.identity_key = IdentityPublicKey(*id);
  r.wireguard_key = crypto::PublicKey(*wg);
  if (r.wireguard_key.IsZero()) return MakeError("wireguard_key: all zero");
  return r;
}

// ------------------------------------------------------------- allocation

struct Allocation {
  Prefix prefix;
  std::optional<Prefix> ipv4;
};

// Allocators rebuilt from the database: another registry process (or an
// admin command) never makes this one hand out a prefix twice, and the
// UNIQUE constraints stay the backstop.
Result<Allocation> Allocate(RegistryStorage& storage, const RegistrySettings& s,
                            int prefix_length) {
  PrefixAllocator v6(s.network.network_prefix);
  std::optional<PrefixAllocator> v4;
  if (s.network.ipv4_network) {
    v4.emplace(*s.network.ipv4_network);
    const Prefix& net = *s.network.ipv4_network;
    // Keep the network's first address out; its last is the last one handed
    // out (reserving it too would make the allocator fill from the top).
    if (net.length() < 31) (void)v4->Reserve(Prefix(net.address(), 32));
  }
  Result<std::vector<Prefix>> taken = storage.AllocatedPrefixes();
  if (!taken) return taken.error();
  for (const Prefix& p : *taken) {
    PrefixAllocator* a = p.address().is_v6() ? &v6 : (v4 ? &*v4 : nullptr);
    if (a && a->network().Contains(p)) (void)a->Reserve(p);
  }
  Allocation out;
  Result<Prefix> prefix = v6.Allocate(prefix_length);
  if (!prefix) return prefix.error();
  out.prefix = *prefix;
  if (v4) {
    Result<Prefix> ipv4 = v4->Allocate(s.network.ipv4_node_prefix_length);
    if (!ipv4) return ipv4.error();
    out.ipv4 = *ipv4;
  }
  return out;
}

// ---------------------------------------------------------------- issuing

struct Subject {
  std::string name;
  IdentityPublicKey identity_key;
  crypto::PublicKey wireguard_key;
  Allocation allocation;
};

Result<Certificate> Issue(const identity::CertificateAuthority& ca, const RegistrySettings& s,
                          const Subject& subject, int64_t now, Random& random) {
  identity::NodeCertificateRequest request{
      .node_name = subject.name,
      .network_domain = s.domain,
      .identity_key = subject.identity_key,
      .wireguard_key = subject.wireguard_key,
      .prefixes = {subject.allocation.prefix},
      .lifetime_seconds = int64_t{s.certificate_lifetime_days} * 24 * 3600};
  if (subject.allocation.ipv4) request.prefixes.push_back(*subject.allocation.ipv4);
  return ca.IssueNodeCertificate(request, now, random);
}

Result<NodeRecord> MakeNodeRecord(const Subject& subject, const Certificate& cert) {
  Result<std::string> pem = cert.ToPem();
  if (!pem) return pem.error();
  Result<int64_t> not_after = cert.NotAfterUnix();
  if (!not_after) return not_after.error();
  Result<int64_t> not_before = cert.NotBeforeUnix();
  if (!not_before) return not_before.error();
  NodeRecord n;
  n.name = subject.name;
  n.serial = cert.SerialHex();
  n.certificate_pem = std::move(*pem);
  n.prefix = subject.allocation.prefix;
  n.ipv4 = subject.allocation.ipv4;
  n.wireguard_key = subject.wireguard_key.ToBase64();
  n.identity_key = Base64Encode(subject.identity_key.span());
  n.issued_at =
      UnixSeconds(std::chrono::seconds(*not_before + identity::kClockSkewAllowanceSeconds));
  n.expires_at = UnixSeconds(std::chrono::seconds(*not_after));
  return n;
}

// The node's address: <prefix>::1 (DESIGN.md §2.4), or the prefix's only
// address for a /128.
std::string NodeAddress(const Prefix& prefix) {
  if (prefix.length() == 128) return prefix.address().ToString();
  std::array<uint8_t, 16> b{};
  const Prefix network = prefix.Network();  // the span below points into it
  ByteSpan src = network.address().bytes();
  for (size_t i = 0; i < 16; ++i) b[i] = U8(src)[i];
  b[15] |= 1;
  return IpAddress::V6(b).ToString();
}

Result<json> BootstrapPeers(RegistryStorage& storage, int64_t now) {
  UnixSeconds since{std::chrono::seconds(now - kBootstrapWindowSeconds)};
  Result<std::vector<EndpointsRecord>> recent = storage.RecentEndpoints(since, kMaxBootstrapPeers);
  if (!recent) return recent.error();
  json peers = json::array();
  for (const EndpointsRecord& r : *recent) {
    json doc = json::parse(r.peer_record, nullptr, false);
    if (!doc.is_discarded()) peers.push_back(std::move(doc));
  }
  return peers;
}

// What a node needs besides its certificate: CA, network config, CRL, peers.
Result<json> Enrolment(RegistryStorage& storage, const identity::CertificateAuthority& ca,
                       int64_t now) {
  Result<std::string> ca_pem = ca.certificate().ToPem();
  if (!ca_pem) return ca_pem.error();
  Result<SignedDocument> config = CurrentNetworkConfig(storage, ca, now);
  if (!config) return config.error();
  Result<SignedDocument> crl = CurrentRevocationList(storage, ca, now);
  if (!crl) return crl.error();
  Result<json> peers = BootstrapPeers(storage, now);
  if (!peers) return peers.error();
  return json{{"ca_certificate", *ca_pem},
              {"network_config", DocumentJson(*config)},
              {"crl", DocumentJson(*crl)},
              {"bootstrap", std::move(*peers)}};
}

json CertificateJson(const NodeRecord& n) {
  json j{{"name", n.name},
         {"prefix", n.prefix.ToString()},
         {"address", NodeAddress(n.prefix)},
         {"serial", n.serial},
         {"certificate", n.certificate_pem},
         {"expires_at", n.expires_at.time_since_epoch().count()}};
  if (n.ipv4) j["ipv4"] = n.ipv4->ToString();
  return j;
}

// The refusal of a token that does not allow a join now; nullopt when it
// does, with its row in `token`.
std::optional<ApiResponse> RefuseToken(RegistryStorage& storage, const TokenText& text, int64_t now,
                                       const std::string& name, Token& token) {
  Result<std::optional<Token>> found = storage.FindToken(text.id);
  if (!found) return Fail(500, found.error(), name);
  if (!*found) return Fail(403, "token: unknown token", name);
  UnixSeconds t{std::chrono::seconds(now)};
  if (Status s = CheckToken(**found, text.secret, t); !s) {
    return Fail(403, s.error().Wrap("token"), name);
  }
  token = **found;
  return std::nullopt;
}

// ------------------------------------------------------ signed requests

// |timestamp - now| within kMaxRequestClockSkewSeconds.
Status CheckFresh(int64_t timestamp, int64_t now) {
  int64_t skew = timestamp > now ? timestamp - now : now - timestamp;
  if (skew > kMaxRequestClockSkewSeconds) {
    return MakeError("timestamp: {} s away from the registry's clock (at most {} s)", skew,
                     kMaxRequestClockSkewSeconds);
  }
  return Ok();
}

Result<std::string> RenewName(const SignedDocument& doc) {
  if (doc.kind != kRenewRequestKind) {
    return MakeError("kind: \"{}\", want \"{}\"", doc.kind, kRenewRequestKind);
  }
  Result<json> payload = dj::ParseCanonicalObject(doc.payload);
  if (!payload) return payload.error().Wrap("payload");
  if (Status s = dj::OnlyFields(*payload, {"name"}); !s) return s.error().Wrap("payload");
  Result<std::string> name = dj::GetString(*payload, "name");
  if (!name) return name.error().Wrap("payload");
  return name;
}

Result<IdentityPublicKey> StoredIdentityKey(const NodeRecord& node) {
  std::optional<Bytes> raw = Base64Decode(node.identity_key);
  std::optional<IdentityPublicKey> key =
      raw ? IdentityPublicKey::FromBytes(*raw) : std::optional<IdentityPublicKey>();
  if (!key) return MakeError("node {}: stored identity key is not 32 bytes of base64", node.name);
  return *key;
}

// Ok when `doc` is a fresh renew request by `node`'s identity key that was
// made after its current certificate (so a replay of an older one fails).
Status CheckRenewRequest(const SignedDocument& doc, const NodeRecord& node, int64_t now) {
  if (node.revoked) return MakeError("name: node {} is revoked", node.name);
  Result<IdentityPublicKey> key = StoredIdentityKey(node);
  if (!key) return key.error();
  identity::DocumentVerdict v = identity::VerifySignedDocument(doc, *key, kRenewRequestKind, 0);
  if (!v) return v.ToStatus().error().Wrap("signature");
  if (doc.issued_at != static_cast<int64_t>(doc.version)) {
    return MakeError("version: must equal issued_at");
  }
  if (Status s = CheckFresh(doc.issued_at, now); !s) return s;
  if (doc.issued_at <= node.issued_at.time_since_epoch().count()) {
    return MakeError("timestamp: not newer than the current certificate (a replay?)");
  }
  return Ok();
}

Result<Subject> SubjectOf(const NodeRecord& node) {
  Result<IdentityPublicKey> key = StoredIdentityKey(node);
  if (!key) return key.error();
  std::optional<crypto::PublicKey> wg = crypto::PublicKey::FromBase64(node.wireguard_key);
  if (!wg) return MakeError("node {}: stored WireGuard key is not base64", node.name);
  return Subject{node.name, *key, *wg, Allocation{node.prefix, node.ipv4}};
}

// The node record a heartbeat is about, when its certificate is the node's current one.
Result<NodeRecord> HeartbeatNode(RegistryStorage& storage, const identity::PeerRecord& record) {
  Result<Certificate> cert = Certificate::FromPem(record.certificate_pem);
  if (!cert) return cert.error().Wrap("certificate");
  std::string name = cert->SubjectCommonName();
  Result<std::optional<NodeRecord>> node = storage.FindNode(name);
  if (!node) return node.error();
  if (!*node) return MakeError("certificate: no node {}", name);
  if ((*node)->revoked) return MakeError("certificate: node {} is revoked", name);
  if ((*node)->serial != cert->SerialHex()) {
    return MakeError("certificate: not node {}'s current certificate", name);
  }
  return std::move(**node);
}

// The timestamp of the peer record held for `name` (0 when none).
int64_t HeldTimestamp(RegistryStorage& storage, const std::string& name) {
  Result<std::optional<EndpointsRecord>> held = storage.FindEndpoints(name);
  if (!held || !*held || (*held)->peer_record.empty()) return 0;
  Result<SignedDocument> doc = identity::DecodeSignedDocument((*held)->peer_record);
  return doc ? doc->issued_at : 0;
}

std::string EndpointsJson(const identity::PeerRecord& record) {
  json list = json::array();
  for (const plexus::Endpoint& e : record.endpoints) list.push_back(e.ToString());
  return Dump(list);
}

}  // namespace

ApiResponse RegistryApi::Handle(std::string_view method, std::string_view path,
                                std::string_view body, int64_t now_unix) {
  if (body.size() > kMaxApiBodySize) {
    return Fail(413, fmt::format("body: {} bytes, more than {}", body.size(), kMaxApiBodySize));
  }
  try {
    return Route(method, path, body, now_unix);
  } catch (const std::exception& e) {
    PLEXUS_LOG_ERROR("registry api: {} {}: {}", method, path, e.what());
    return Fail(500, "internal error");
  }
}

ApiResponse RegistryApi::Route(std::string_view method, std::string_view path,
                               std::string_view body, int64_t now_unix) {
  struct Endpoint {
    std::string_view path;
    std::string_view method;
  };
  static constexpr std::array<Endpoint, 7> kEndpoints = {{{"/v1/ca", "GET"},
                                                          {"/v1/join", "POST"},
                                                          {"/v1/renew", "POST"},
                                                          {"/v1/heartbeat", "POST"},
                                                          {"/v1/crl", "GET"},
                                                          {"/v1/config", "GET"},
                                                          {"/v1/bootstrap", "GET"}}};
  auto it = std::find_if(kEndpoints.begin(), kEndpoints.end(),
                         [&](const Endpoint& e) { return e.path == path; });
  if (it == kEndpoints.end()) return Fail(404, "path: no such API endpoint");
  if (it->method != method) return Fail(405, fmt::format("method: {} takes {}", path, it->method));
  if (path == "/v1/join") return Join(body, now_unix);
  if (path == "/v1/renew") return Renew(body, now_unix);
  if (path == "/v1/heartbeat") return Heartbeat(body, now_unix);
  if (path == "/v1/crl") return Crl(now_unix);
  if (path == "/v1/config") return Config(now_unix);
  if (path == "/v1/bootstrap") return Bootstrap(now_unix);
  return Ca();
}

ApiResponse RegistryApi::Join(std::string_view body, int64_t now) {
  Result<JoinRequest> req = ParseJoinRequest(body);
  if (!req) return Fail(400, req.error());
  const std::string& name = req->name;
  Result<TokenText> text = ParseTokenText(req->token);
  if (!text) return Fail(403, text.error().Wrap("token"), name);
  Token token;
  if (auto refused = RefuseToken(storage_, *text, now, name, token)) return *refused;
  Result<std::optional<NodeRecord>> existing = storage_.FindNode(name);
  if (!existing) return Fail(500, existing.error(), name);
  if (*existing) return Fail(409, fmt::format("name: node {} already exists", name), name);
  Result<RegistrySettings> settings = LoadSettings(storage_);
  if (!settings) return Fail(500, settings.error(), name);
  Result<Allocation> allocation = Allocate(storage_, *settings, token.prefix_length);
  if (!allocation) return Fail(409, allocation.error().Wrap("prefix: network full"), name);
  Subject subject{name, req->identity_key, req->wireguard_key, *allocation};
  Result<Certificate> cert = Issue(ca_, *settings, subject, now, random_);
  if (!cert) return Fail(500, cert.error(), name);
  Result<NodeRecord> record = MakeNodeRecord(subject, *cert);
  if (!record) return Fail(500, record.error(), name);
  TokenUse use{text->id, &text->secret, UnixSeconds(std::chrono::seconds(now))};
  if (Status s = storage_.AddNode(*record, use); !s) return Fail(409, s.error(), name);
  Result<json> enrolment = Enrolment(storage_, ca_, now);
  if (!enrolment) return Fail(500, enrolment.error(), name);
  json out = CertificateJson(*record);
  out.update(*enrolment);
  return Reply(out, name);
}

ApiResponse RegistryApi::Ca() {
  Result<std::string> pem = ca_.certificate().ToPem();
  if (!pem) return Fail(500, pem.error());
  return Reply(json{{"certificate", *pem}});
}

ApiResponse RegistryApi::Config(int64_t now) {
  Result<SignedDocument> doc = CurrentNetworkConfig(storage_, ca_, now);
  if (!doc) return Fail(500, doc.error());
  return Reply(DocumentJson(*doc));
}

ApiResponse RegistryApi::Crl(int64_t now) {
  Result<SignedDocument> doc = CurrentRevocationList(storage_, ca_, now);
  if (!doc) return Fail(500, doc.error());
  return Reply(DocumentJson(*doc));
}

ApiResponse RegistryApi::Bootstrap(int64_t now) {
  Result<json> peers = BootstrapPeers(storage_, now);
  if (!peers) return Fail(500, peers.error());
  return Reply(json{{"peers", std::move(*peers)}});
}

ApiResponse RegistryApi::Renew(std::string_view body, int64_t now) {
  Result<SignedDocument> doc = identity::DecodeSignedDocument(body);
  if (!doc) return Fail(400, doc.error().Wrap("body"));
  Result<std::string> name = RenewName(*doc);
  if (!name) return Fail(400, name.error());
  Result<std::optional<NodeRecord>> node = storage_.FindNode(*name);
  if (!node) return Fail(500, node.error(), *name);
  if (!*node) return Fail(403, fmt::format("name: no node {}", *name), *name);
  if (Status s = CheckRenewRequest(*doc, **node, now); !s) return Fail(403, s.error(), *name);
  Result<RegistrySettings> settings = LoadSettings(storage_);
  if (!settings) return Fail(500, settings.error(), *name);
  Result<Subject> subject = SubjectOf(**node);
  if (!subject) return Fail(500, subject.error(), *name);
  Result<Certificate> cert = Issue(ca_, *settings, *subject, now, random_);
  if (!cert) return Fail(500, cert.error(), *name);
  Result<NodeRecord> record = MakeNodeRecord(*subject, *cert);
  if (!record) return Fail(500, record.error(), *name);
  Renewal renewal{*name,
                  (*node)->serial,
                  record->serial,
                  record->certificate_pem,
                  record->issued_at,
                  record->expires_at};
  if (Status s = storage_.RenewNode(renewal); !s) return Fail(409, s.error(), *name);
  Result<json> enrolment = Enrolment(storage_, ca_, now);
  if (!enrolment) return Fail(500, enrolment.error(), *name);
  json out = CertificateJson(*record);
  out.update(*enrolment);
  return Reply(out, *name);
}

ApiResponse RegistryApi::Heartbeat(std::string_view body, int64_t now) {
  Result<SignedDocument> doc = identity::DecodeSignedDocument(body);
  if (!doc) return Fail(400, doc.error().Wrap("body"));
  Result<identity::PeerRecord> record = identity::PeerRecordFromDocument(*doc);
  if (!record) return Fail(400, record.error().Wrap("peer record"));
  Result<NodeRecord> node = HeartbeatNode(storage_, *record);
  if (!node) return Fail(403, node.error());
  const std::string& name = node->name;
  Result<std::vector<std::string>> revoked = storage_.RevokedSerials();
  if (!revoked) return Fail(500, revoked.error(), name);
  identity::VerifiedPeerRecord verified = identity::VerifyPeerRecord(
      *doc, ca_.certificate(), now, *revoked, HeldTimestamp(storage_, name));
  if (!verified.verdict) return Fail(403, verified.verdict.ToStatus().error(), name);
  if (Status s = CheckFresh(doc->issued_at, now); !s) return Fail(403, s.error(), name);
  EndpointsRecord stored{name, EndpointsJson(*record), UnixSeconds(std::chrono::seconds(now)),
                         identity::EncodeSignedDocument(*doc)};
  if (Status s = storage_.UpsertEndpoints(stored); !s) return Fail(500, s.error(), name);
  Result<int64_t> config_version = storage_.NetworkVersion();
  Result<int64_t> crl_version = storage_.CrlVersion();
  if (!config_version || !crl_version) return Fail(500, "reading document versions", name);
  return Reply(json{{"config_version", *config_version}, {"crl_version", *crl_version + 1}}, name);
}

Result<std::string> MakeRenewRequest(std::string_view name, const identity::IdentityKey& key,
                                     int64_t now_unix) {
  Bytes payload = dj::CanonicalJson(json{{"name", name}});
  Result<SignedDocument> doc = identity::SignDocument(
      kRenewRequestKind, static_cast<uint64_t>(now_unix), now_unix, payload, key);
  if (!doc) return doc.error();
  return identity::EncodeSignedDocument(*doc);
}

}  // namespace plexus
