#include "node/registry_agent.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <utility>

#include "base/log.h"
#include "identity/network_config.h"
#include "identity/peer_record.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "node/local_endpoints.h"
#include "registry/api.h"
#include "registry/registry_dir.h"

namespace plexus::node {
namespace {

using identity::Certificate;
using identity::SignedDocument;
using nlohmann::json;

constexpr double kJitter = 0.1;  // ± 10 % of the interval

// registry.json as `plexus join` writes it.
struct RegistryInfo {
  std::string host;
  uint16_t port = 0;
  std::string ca_fingerprint;
  std::string name;
};

Result<std::string> JsonString(const json& j, const char* field) {
  if (!j.contains(field) || !j[field].is_string() || j[field].get<std::string>().empty()) {
    return MakeError("{}: missing or not a non-empty string", field);
  }
  return j[field].get<std::string>();
}

Result<RegistryInfo> ParseRegistryInfo(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return MakeError("not a JSON object");
  Result<std::string> host = JsonString(j, "host");
  if (!host) return host.error();
  if (!j.contains("port") || !j["port"].is_number_unsigned() || j["port"].get<uint64_t>() == 0 ||
      j["port"].get<uint64_t>() > 65535) {
    return MakeError("port: missing or not an integer in 1..65535");
  }
  Result<std::string> fingerprint = JsonString(j, "ca_fingerprint");
  if (!fingerprint) return fingerprint.error();
  Result<std::string> name = JsonString(j, "name");
  if (!name) return name.error();
  return RegistryInfo{*host, static_cast<uint16_t>(j["port"].get<uint64_t>()), *fingerprint, *name};
}

Result<RegistryInfo> ReadRegistryInfo(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text) return text.error();
  Result<RegistryInfo> info = ParseRegistryInfo(*text);
  if (!info) return info.error().Wrap(path);
  return info;
}

Result<Certificate> ReadCertificate(const std::string& path) {
  Result<std::string> pem = ReadTextFile(path);
  if (!pem) return pem.error();
  Result<Certificate> cert = Certificate::FromPem(*pem);
  if (!cert) return cert.error().Wrap(path);
  return cert;
}

Result<crypto::PublicKey> ReadWireGuardPublicKey(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text) return text.error();
  std::string_view t = *text;
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.remove_suffix(1);
  std::optional<crypto::PrivateKey> key = crypto::PrivateKey::FromBase64(t);
  if (!key) return MakeError("{}: not a base64 WireGuard private key", path);
  return key->Public();
}

// The CA the state dir holds, checked against the fingerprint join pinned.
Result<Certificate> ReadCa(const std::string& path, const RegistryInfo& info) {
  Result<Certificate> ca = ReadCertificate(path);
  if (!ca) return ca.error();
  Result<std::string> fingerprint = CertificateFingerprint(*ca);
  if (!fingerprint) return fingerprint.error().Wrap(path);
  if (*fingerprint != info.ca_fingerprint) {
    return MakeError("{}: sha256 {} differs from registry.json's ca_fingerprint {}", path,
                     *fingerprint, info.ca_fingerprint);
  }
  return ca;
}

identity::DocumentVerdict VerifyCrl(const SignedDocument& doc,
                                    const identity::IdentityPublicKey& ca_key, uint64_t held) {
  return identity::VerifyRevocationList(doc, ca_key, held).verdict;
}

identity::DocumentVerdict VerifyConfig(const SignedDocument& doc,
                                       const identity::IdentityPublicKey& ca_key, uint64_t held) {
  return identity::VerifyNetworkConfig(doc, ca_key, held).verdict;
}

// A document as join writes it: the JSON envelope, indented.
std::string DocumentFileText(const SignedDocument& doc) {
  return json::parse(identity::EncodeSignedDocument(doc)).dump(2) + "\n";
}

// "HTTP 403: name: node x is revoked", from an error answer.
std::string DescribeReply(const HttpReply& reply) {
  json j = json::parse(reply.body, nullptr, false);
  std::string why = j.is_object() && j.contains("error") && j["error"].is_string()
                        ? j["error"].get<std::string>()
                        : reply.body.substr(0, 200);
  return fmt::format("HTTP {}: {}", reply.status, why);
}

// 403 "same-timestamp: ..." (identity/peer_record.h): the registry holds a
// record with this timestamp already.
bool IsSameTimestampRefusal(const HttpReply& reply) {
  if (reply.status != 403) return false;
  json j = json::parse(reply.body, nullptr, false);
  if (!j.is_object() || !j.contains("error") || !j["error"].is_string()) return false;
  std::string prefix(
      identity::PeerRecordRejectionName(identity::PeerRecordRejection::kSameTimestamp));
  return j["error"].get<std::string>().starts_with(prefix + ":");
}

struct HeartbeatAnswer {
  uint64_t config_version = 0;
  uint64_t crl_version = 0;
};

Result<HeartbeatAnswer> ParseHeartbeatAnswer(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return MakeError("not a JSON object");
  for (const char* field : {"config_version", "crl_version"}) {
    if (!j.contains(field) || !j[field].is_number_unsigned()) {
      return MakeError("{}: missing or not an unsigned integer", field);
    }
  }
  return HeartbeatAnswer{j["config_version"].get<uint64_t>(), j["crl_version"].get<uint64_t>()};
}

}  // namespace

bool ShouldRenew(int64_t not_before, int64_t not_after, int64_t now, double fraction) {
  double lifetime = static_cast<double>(not_after - not_before);
  return static_cast<double>(not_after - now) < fraction * lifetime;
}

int64_t RenewalTimeUnix(int64_t not_before, int64_t not_after, double fraction) {
  double lifetime = static_cast<double>(not_after - not_before);
  // The first integer t with not_after - t < fraction * lifetime.
  int64_t t =
      static_cast<int64_t>(std::floor(static_cast<double>(not_after) - fraction * lifetime));
  return ShouldRenew(not_before, not_after, t, fraction) ? t : t + 1;
}

int64_t NextPeerRecordTimestamp(int64_t now, int64_t previous) {
  return std::max(now, previous + 1);
}

Duration JitteredInterval(Duration interval, double unit) {
  double scale = 1.0 - kJitter + 2 * kJitter * std::clamp(unit, 0.0, 1.0);
  return Duration(static_cast<int64_t>(static_cast<double>(interval.count()) * scale));
}

RegistryAgent::RegistryAgent(RegistryAgentParams params, RegistryAgentSink& sink)
    : params_(std::move(params)),
      sink_(sink),
      crl_{"/v1/crl", "crl.json", &VerifyCrl},
      config_{"/v1/config", "network-config.json", &VerifyConfig} {}

Result<std::unique_ptr<RegistryAgent>> RegistryAgent::Create(RegistryAgentParams params,
                                                             RegistryAgentSink& sink) {
  if (!(params.renew_fraction > 0 && params.renew_fraction <= 1)) {
    return MakeError("registry agent: renew_fraction {} is not in (0, 1]", params.renew_fraction);
  }
  if (params.interval <= Duration::zero()) return MakeError("registry agent: interval must be > 0");
  std::unique_ptr<RegistryAgent> agent(new RegistryAgent(std::move(params), sink));
  if (::plexus::Status s = agent->LoadState(); !s) return s.error();
  return agent;
}

::plexus::Status RegistryAgent::LoadState() {
  const std::string dir = params_.state_dir + "/";
  Result<RegistryInfo> info = ReadRegistryInfo(dir + "registry.json");
  if (!info) return info.error();
  name_ = info->name;
  registry_ = fmt::format("{}:{}", info->host, info->port);
  Result<Certificate> ca = ReadCa(dir + "ca.crt", *info);
  if (!ca) return ca.error();
  Result<identity::IdentityPublicKey> ca_key = ca->SubjectPublicKey();
  if (!ca_key) return ca_key.error().Wrap(dir + "ca.crt");
  ca_key_ = *ca_key;
  Result<identity::IdentityKey> key = identity::IdentityKey::LoadPemFile(dir + "identity.key");
  if (!key) return key.error().Wrap(dir + "identity.key");
  identity_key_.emplace(std::move(*key));
  Result<crypto::PublicKey> wg = ReadWireGuardPublicKey(dir + "wireguard.key");
  if (!wg) return wg.error();
  wireguard_key_ = *wg;
  Result<std::string> pem = ReadTextFile(dir + "node.crt");
  if (!pem) return pem.error();
  Result<Certificate> cert = Certificate::FromPem(*pem);
  if (!cert) return cert.error().Wrap(dir + "node.crt");
  if (::plexus::Status s = AdoptCertificate(std::move(*cert), std::move(*pem)); !s) {
    return s.error().Wrap(dir + "node.crt");
  }
  if (::plexus::Status s = LoadDocument(crl_); !s) return s;
  if (::plexus::Status s = LoadDocument(config_); !s) return s;
  Result<std::unique_ptr<RegistryClient>> client = RegistryClient::Connect(
      info->host, info->port, std::move(*ca), {kRegistryConnectTimeout, kRegistryReadTimeout});
  if (!client) return client.error().Wrap(dir + "ca.crt");
  ca_.emplace(client->get()->ca().Clone());
  client_ = std::move(*client);
  return Ok();
}

::plexus::Status RegistryAgent::LoadDocument(DocumentSlot& slot) {
  const std::string path = params_.state_dir + "/" + slot.file;
  Result<std::string> text = ReadTextFile(path);
  if (!text) return text.error();
  Result<SignedDocument> doc = identity::DecodeSignedDocument(*text);
  if (!doc) return doc.error().Wrap(path);
  if (identity::DocumentVerdict v = slot.verify(*doc, ca_key_, 0); !v) {
    return v.ToStatus().error().Wrap(path);
  }
  slot.held_version = doc->version;
  UpdateStatus(
      [&](Status& s) { (&slot == &crl_ ? s.crl_version : s.config_version) = doc->version; });
  return Ok();
}

// Ok when `cert` is ours: our name, identity key and WireGuard key. (Not its
// chain: the one on disk at startup may have expired, and is then renewed.)
::plexus::Status RegistryAgent::CheckOwnCertificate(const Certificate& cert) const {
  Result<identity::IdentityPublicKey> subject_key = cert.SubjectPublicKey();
  if (!subject_key || *subject_key != identity_key_->public_key()) {
    return MakeError("the certificate's subject key is not identity.key's");
  }
  std::optional<crypto::PublicKey> wg = cert.WireGuardKey();
  if (!wg || *wg != wireguard_key_) {
    return MakeError("the certificate's WireGuard key is not wireguard.key's");
  }
  if (cert.SubjectCommonName() != name_) {
    return MakeError("the certificate names {}, registry.json names {}", cert.SubjectCommonName(),
                     name_);
  }
  if (!cert.NotBeforeUnix() || !cert.NotAfterUnix()) return MakeError("unreadable validity period");
  return Ok();
}

// Uses `cert` (checked by CheckOwnCertificate) for heartbeats and renewal.
::plexus::Status RegistryAgent::AdoptCertificate(Certificate cert, std::string pem) {
  if (::plexus::Status s = CheckOwnCertificate(cert); !s) return s;
  Result<int64_t> not_before = cert.NotBeforeUnix();
  Result<int64_t> not_after = cert.NotAfterUnix();
  if (!not_before || !not_after) return MakeError("unreadable validity period");
  not_before_ = *not_before;
  not_after_ = *not_after;
  certificate_.emplace(std::move(cert));
  certificate_pem_ = std::move(pem);
  UpdateStatus([&](Status& s) {
    s.certificate_not_after = not_after_;
    s.next_renewal_unix = RenewalTimeUnix(not_before_, not_after_, params_.renew_fraction);
  });
  return Ok();
}

RegistryAgent::~RegistryAgent() {
  Stop();
}

void RegistryAgent::Start() {
  std::lock_guard lock(stop_mutex_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Run(); });
}

void RegistryAgent::Stop() {
  {
    std::lock_guard lock(stop_mutex_);
    stopping_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

RegistryAgent::Status RegistryAgent::status() const {
  std::lock_guard lock(status_mutex_);
  return status_;
}

void RegistryAgent::Run() {
  PLEXUS_LOG_INFO("registry agent: node {}, registry {}, every {} ms", name_, registry_,
                  std::chrono::duration_cast<std::chrono::milliseconds>(params_.interval).count());
  do {
    Round();
  } while (Sleep(JitteredInterval(params_.interval, random_.Uniform(1001) / 1000.0)));
}

bool RegistryAgent::Sleep(Duration d) {
  std::unique_lock lock(stop_mutex_);
  return !stop_cv_.wait_for(lock, d, [this] { return stopping_; });
}

bool RegistryAgent::StopRequested() {
  std::lock_guard lock(stop_mutex_);
  return stopping_;
}

int64_t RegistryAgent::NowUnix() const {
  return clock_.WallNow().seconds;
}

void RegistryAgent::Round() {
  round_error_.clear();
  int64_t now = NowUnix();
  bool renew = ShouldRenew(not_before_, not_after_, now, params_.renew_fraction);
  if (renew) RenewCertificate(now);
  // After a request that got no answer, the rest of the round would fail too.
  if (!(renew && outage_)) {
    std::optional<Versions> v = Heartbeat(now);
    if (v && !outage_) FetchDocument(crl_, v->crl);
    if (v && !outage_) FetchDocument(config_, v->config);
  }
  if (round_error_.empty()) logged_warnings_.clear();
  UpdateStatus([&](Status& s) { s.last_error = round_error_; });
}

void RegistryAgent::Warn(std::string message) {
  if (round_error_.empty()) round_error_ = message;
  if (std::ranges::find(logged_warnings_, message) != logged_warnings_.end()) return;
  PLEXUS_LOG_WARNING("registry agent: {}", message);
  logged_warnings_.push_back(std::move(message));
}

std::optional<HttpReply> RegistryAgent::Call(const std::string& method, const std::string& path,
                                             const std::string& body) {
  if (StopRequested()) return std::nullopt;  // the round ends here; Stop() is waiting
  Result<HttpReply> r = method == "POST" ? client_->Post(path, body) : client_->Get(path);
  if (!r) {
    if (!outage_) {
      PLEXUS_LOG_WARNING("registry agent: {} {}: {}; the node carries on and retries", method, path,
                         r.error().message());
    }
    outage_ = true;
    if (round_error_.empty()) round_error_ = r.error().message();
    UpdateStatus([](Status& s) { s.reachable = false; });
    return std::nullopt;
  }
  if (outage_) PLEXUS_LOG_INFO("registry agent: registry {} reachable again", registry_);
  outage_ = false;
  int64_t now = NowUnix();
  UpdateStatus([&](Status& s) {
    s.reachable = true;
    s.last_contact_unix = now;
  });
  return std::move(*r);
}

std::optional<RegistryAgent::Versions> RegistryAgent::Heartbeat(int64_t now) {
  std::optional<HttpReply> reply = PostPeerRecord(now);
  // A node restarted within the second of its last heartbeat: the next
  // timestamp (one more) is new to the registry.
  if (reply && IsSameTimestampRefusal(*reply)) reply = PostPeerRecord(now);
  if (!reply) return std::nullopt;
  if (reply->status != 200) {
    Warn(fmt::format("heartbeat refused: {}", DescribeReply(*reply)));
    return std::nullopt;
  }
  Result<HeartbeatAnswer> answer = ParseHeartbeatAnswer(reply->body);
  if (!answer) {
    Warn(fmt::format("heartbeat answer: {}", answer.error().message()));
    return std::nullopt;
  }
  UpdateStatus([](Status& s) { ++s.heartbeats_sent; });
  return Versions{answer->config_version, answer->crl_version};
}

// POST /v1/heartbeat with a freshly signed peer record; nullopt when it
// could not be sent or got no answer.
std::optional<HttpReply> RegistryAgent::PostPeerRecord(int64_t now) {
  EndpointFilter filter{params_.listen_port, params_.exclude, params_.exclude_interface};
  Result<std::vector<Endpoint>> endpoints = LocalEndpoints(filter);
  if (!endpoints) Warn(fmt::format("heartbeat: no endpoints: {}", endpoints.error().message()));
  identity::PeerRecord record{certificate_pem_, endpoints ? *endpoints : std::vector<Endpoint>{},
                              NextPeerRecordTimestamp(now, last_timestamp_)};
  last_timestamp_ = record.timestamp;
  Result<SignedDocument> doc = identity::SignPeerRecord(record, *identity_key_);
  if (!doc) {
    Warn(fmt::format("heartbeat: cannot sign the peer record: {}", doc.error().message()));
    return std::nullopt;
  }
  return Call("POST", "/v1/heartbeat", identity::EncodeSignedDocument(*doc));
}

void RegistryAgent::FetchDocument(DocumentSlot& slot, uint64_t announced) {
  if (announced <= slot.held_version) return;
  std::optional<HttpReply> reply = Call("GET", slot.path, "");
  if (!reply) return;
  if (reply->status != 200) {
    Warn(fmt::format("GET {}: {}", slot.path, DescribeReply(*reply)));
    return;
  }
  Result<SignedDocument> doc = identity::DecodeSignedDocument(reply->body);
  if (!doc) {
    Warn(fmt::format("GET {}: {}", slot.path, doc.error().message()));
    return;
  }
  if (identity::DocumentVerdict v = slot.verify(*doc, ca_key_, slot.held_version); !v) {
    Warn(fmt::format("GET {}: {}", slot.path, v.ToStatus().error().message()));
    return;
  }
  const std::string path = params_.state_dir + "/" + slot.file;
  if (::plexus::Status s = WriteFileAtomic(path, DocumentFileText(*doc), 0644); !s) {
    Warn(s.error().message());
    return;
  }
  slot.held_version = doc->version;
  UpdateStatus(
      [&](Status& s) { (&slot == &crl_ ? s.crl_version : s.config_version) = doc->version; });
  PLEXUS_LOG_INFO("registry agent: {} version {} from the registry", doc->kind, doc->version);
  sink_.RegistryDocument(std::move(*doc));
}

void RegistryAgent::RenewCertificate(int64_t now) {
  Result<std::string> request = MakeRenewRequest(name_, *identity_key_, now);
  if (!request) {
    Warn(fmt::format("renewal: cannot sign the request: {}", request.error().message()));
    return;
  }
  std::optional<HttpReply> reply = Call("POST", "/v1/renew", *request);
  if (!reply) return;
  if (reply->status != 200) {
    Warn(fmt::format("renewal refused: {}", DescribeReply(*reply)));
    return;
  }
  json j = json::parse(reply->body, nullptr, false);
  Result<std::string> pem = j.is_object() ? JsonString(j, "certificate")
                                          : Result<std::string>(MakeError("not a JSON object"));
  Result<Certificate> cert = pem ? Certificate::FromPem(*pem) : Result<Certificate>(pem.error());
  if (!cert) {
    Warn(fmt::format("renewal answer: {}", cert.error().message()));
    return;
  }
  if (::plexus::Status st = CheckRenewed(*cert, now); !st) {
    Warn(fmt::format("renewal answer: certificate: {}", st.error().message()));
    return;
  }
  InstallRenewed(std::move(*cert), std::move(*pem));
}

// Chains to the CA, is valid now, and is ours (CheckOwnCertificate).
::plexus::Status RegistryAgent::CheckRenewed(const Certificate& cert, int64_t now) const {
  identity::CertificateVerdict v =
      identity::VerifyNodeCertificate(cert, *ca_, now, {}, wireguard_key_);
  if (!v) return v.ToStatus();
  return CheckOwnCertificate(cert);
}

// Writes node.crt, then uses the certificate and tells the sink.
void RegistryAgent::InstallRenewed(Certificate cert, std::string pem) {
  Result<Bytes> der = cert.ToDer();
  if (!der) {
    Warn(fmt::format("renewal answer: certificate: {}", der.error().message()));
    return;
  }
  const std::string path = params_.state_dir + "/node.crt";
  if (::plexus::Status s = WriteFileAtomic(path, pem, 0644); !s) {
    Warn(fmt::format("renewal: {}", s.error().message()));
    return;
  }
  std::string serial = cert.SerialHex();
  if (::plexus::Status s = AdoptCertificate(std::move(cert), std::move(pem)); !s) {
    Warn(fmt::format("renewal: {}: {}", path, s.error().message()));
    return;
  }
  UpdateStatus([](Status& s) { ++s.renewals; });
  PLEXUS_LOG_INFO("registry agent: certificate renewed: serial {}, valid until {} (unix)", serial,
                  not_after_);
  sink_.CertificateRenewed(std::move(*der));
}

}  // namespace plexus::node
