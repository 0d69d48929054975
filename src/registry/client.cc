#include "registry/client.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

#include "registry/registry_dir.h"

namespace plexus {
namespace {

void Configure(httplib::SSLClient& client, const RegistryClientTimeouts& timeouts) {
  client.set_connection_timeout(timeouts.connect);
  client.set_read_timeout(timeouts.read_write);
  client.set_write_timeout(timeouts.read_write);
}

std::string Describe(const std::string& host, uint16_t port, httplib::Error e) {
  return fmt::format("registry {}:{}: {}", host, port, httplib::to_string(e));
}

// Step 1: the CA the server says it has, unauthenticated until the pin matches.
Result<identity::Certificate> FetchUnverifiedCa(const std::string& host, uint16_t port) {
  httplib::SSLClient client(host, port);
  Configure(client, RegistryClientTimeouts{});
  client.enable_server_certificate_verification(false);
  httplib::Result r = client.Get("/v1/ca");
  if (!r) return MakeError("{}", Describe(host, port, r.error()));
  if (r->status != 200)
    return MakeError("registry {}:{}: GET /v1/ca: HTTP {}", host, port, r->status);
  nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("certificate") ||
      !j["certificate"].is_string()) {
    return MakeError("registry {}:{}: GET /v1/ca: not a CA answer", host, port);
  }
  return identity::Certificate::FromPem(j["certificate"].get<std::string>());
}

// Step 2: verify the server against `ca` alone (and its name against the SAN).
Status TrustOnly(httplib::SSLClient& client, const identity::Certificate& ca) {
  X509_STORE* store = X509_STORE_new();  // owned by the client's SSL_CTX once set
  if (store == nullptr || X509_STORE_add_cert(store, ca.get()) != 1) {
    X509_STORE_free(store);
    return MakeError("cannot build the CA store");
  }
  client.set_ca_cert_store(store);
  client.enable_server_certificate_verification(true);
  return Ok();
}

}  // namespace

Result<std::unique_ptr<RegistryClient>> RegistryClient::ConnectPinned(
    const std::string& host, uint16_t port, std::string_view fingerprint) {
  Result<identity::Certificate> ca = FetchUnverifiedCa(host, port);
  if (!ca) return ca.error();
  Result<std::string> got = CertificateFingerprint(*ca);
  if (!got) return got.error();
  if (*got != fingerprint) {
    return MakeError(
        "registry {}:{}: CA fingerprint mismatch: the join URL pins sha256={}, the registry "
        "presents sha256={} (wrong URL, or someone in between)",
        host, port, fingerprint, *got);
  }
  if (!ca->IsCa())
    return MakeError("registry {}:{}: the pinned certificate is not a CA", host, port);
  return std::unique_ptr<RegistryClient>(
      new RegistryClient(host, port, std::move(*ca), RegistryClientTimeouts{}));
}

Result<std::unique_ptr<RegistryClient>> RegistryClient::Connect(const std::string& host,
                                                                uint16_t port,
                                                                identity::Certificate ca,
                                                                RegistryClientTimeouts timeouts) {
  if (!ca.IsCa()) {
    return MakeError("registry {}:{}: the certificate to trust ({}) is not a CA", host, port,
                     ca.SubjectCommonName());
  }
  return std::unique_ptr<RegistryClient>(new RegistryClient(host, port, std::move(ca), timeouts));
}

Result<HttpReply> RegistryClient::Post(const std::string& path, const std::string& json_body) {
  httplib::SSLClient client(host_, port_);
  Configure(client, timeouts_);
  if (Status s = TrustOnly(client, *ca_); !s) return s.error();
  httplib::Result r = client.Post(path, json_body, "application/json");
  if (!r) {
    std::string what = Describe(host_, port_, r.error());
    if (r.error() == httplib::Error::SSLServerVerification) {
      what += fmt::format(
          " (the server certificate does not chain to the pinned CA or does "
          "not name {}; OpenSSL verify result {})",
          host_, client.get_openssl_verify_result());
    }
    return MakeError("{}", what);
  }
  return HttpReply{r->status, r->body};
}

Result<HttpReply> RegistryClient::Get(const std::string& path) {
  httplib::SSLClient client(host_, port_);
  Configure(client, timeouts_);
  if (Status s = TrustOnly(client, *ca_); !s) return s.error();
  httplib::Result r = client.Get(path);
  if (!r) return MakeError("{}", Describe(host_, port_, r.error()));
  return HttpReply{r->status, r->body};
}

}  // namespace plexus
