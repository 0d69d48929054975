#include "node/node_identity.h"

#include <filesystem>

#include "base/log.h"
#include "identity/network_config.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "registry/registry_dir.h"

namespace plexus::node {

namespace {

constexpr std::string_view kCrlFile = "crl.json";
constexpr std::string_view kNetworkConfigFile = "network-config.json";

Result<identity::Certificate> ReadCertificate(const std::string& path) {
  Result<std::string> text = ReadTextFile(path);
  if (!text) return text.error();
  Result<identity::Certificate> cert = identity::Certificate::FromPem(*text);
  if (!cert) return cert.error().Wrap(path);
  return cert;
}

// A document file that may be absent; present, it must decode.
Result<std::optional<identity::SignedDocument>> ReadDocument(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<identity::SignedDocument>();
  Result<std::string> text = ReadTextFile(path);
  if (!text) return text.error();
  Result<identity::SignedDocument> doc = identity::DecodeSignedDocument(*text);
  if (!doc) return doc.error().Wrap(path);
  return std::optional<identity::SignedDocument>(std::move(*doc));
}

}  // namespace

Result<NodeIdentity> LoadNodeIdentity(const std::string& dir,
                                      const crypto::PublicKey& wireguard_key, int64_t now_unix) {
  Result<identity::Certificate> ca = ReadCertificate(dir + "/ca.crt");
  if (!ca) return ca.error();
  const std::string own_path = dir + "/node.crt";
  Result<identity::Certificate> own = ReadCertificate(own_path);
  if (!own) return own.error();
  Result<Bytes> der = own->ToDer();
  if (!der) return der.error().Wrap(own_path);
  identity::CertificateVerdict verdict =
      identity::VerifyNodeCertificate(*own, *ca, now_unix, {}, wireguard_key);
  if (verdict.rejection == identity::CertificateRejection::kExpired ||
      verdict.rejection == identity::CertificateRejection::kNotYetValid) {
    PLEXUS_LOG_WARNING("{}: {}: peers will refuse links until it is renewed", own_path,
                       verdict.message);
  } else if (!verdict) {
    return MakeError("{}: {} (is [interface] private_key the key `plexus join` made?)", own_path,
                     verdict.message);
  }
  Result<std::optional<identity::SignedDocument>> crl =
      ReadDocument(dir + "/" + std::string(kCrlFile));
  if (!crl) return crl.error();
  Result<std::optional<identity::SignedDocument>> config =
      ReadDocument(dir + "/" + std::string(kNetworkConfigFile));
  if (!config) return config.error();
  std::string name = own->SubjectCommonName();
  std::string network = own->SubjectOrganization();
  return NodeIdentity{.dir = dir,
                      .ca = std::move(*ca),
                      .certificate = std::move(*own),
                      .certificate_der = std::move(*der),
                      .crl = std::move(*crl),
                      .network_config = std::move(*config),
                      .name = std::move(name),
                      .network = std::move(network)};
}

Status SaveDocument(const std::string& dir, const identity::SignedDocument& doc) {
  std::string_view file;
  if (doc.kind == identity::kRevocationListKind) {
    file = kCrlFile;
  } else if (doc.kind == identity::kNetworkConfigKind) {
    file = kNetworkConfigFile;
  } else {
    return MakeError("a {} document is not kept in the state directory", doc.kind);
  }
  return WriteFileAtomic(dir + "/" + std::string(file), identity::EncodeSignedDocument(doc) + "\n",
                         0644);
}

}  // namespace plexus::node
