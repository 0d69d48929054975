// RegistryApi: the registry's JSON API without any transport (DESIGN.md §1,
// §2.3). The HTTPS server (server.h) hands it (method, path, body, now) and
// sends back what it returns; tests call it directly.
//
//   GET  /v1/ca          {"certificate": CA PEM}              (for join's pin check)
//   POST /v1/join        {"token","name","identity_key","wireguard_key"}
//                        -> {"name","prefix","ipv4"?,"address","serial","certificate",
//                            "ca_certificate","network_config","crl","bootstrap":[...]}
//   POST /v1/renew       a signed document (kind "renew-request", signed by the
//                        node's identity key, version = issued_at = now,
//                        payload {"name"}) -> {"certificate","serial",...}
//   GET  /v1/crl         the signed CRL (identity/revocation_list.h)
//   GET  /v1/config      the signed network config (identity/network_config.h)
//   GET  /v1/bootstrap   {"peers":[signed peer records seen in the last hour]}
//   POST /v1/heartbeat   the node's signed peer record (identity/peer_record.h)
//                        -> {"config_version","crl_version"}
//
// Keys are base64 (RFC 4648 §4, with padding, as wg(8) prints them). Every
// failure is {"error": "<field>: <what>"} with a 4xx status: 400 malformed
// (bad JSON, wrong type, missing or unknown field, bad name or key), 403 not
// allowed (bad, used or expired token; bad signature; revoked or unknown
// node; stale timestamp), 404 unknown path, 405 wrong method, 409 conflict
// (name taken, no free prefix left), 413 body over kMaxBodySize. 500 only for
// storage or crypto failures; never a crash (a stray exception becomes 500).
//
// The database is changed only through RegistryStorage's transactions: a join
// either inserts the node and consumes a token use, or changes nothing.
//
// Not thread-safe: the server serialises calls.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/random.h"
#include "base/result.h"
#include "identity/certificate_authority.h"
#include "identity/identity_key.h"
#include "registry/storage.h"

namespace plexus {

inline constexpr size_t kMaxApiBodySize = size_t{64} * 1024;
inline constexpr std::string_view kRenewRequestKind = "renew-request";
// Signed requests must be this close to the registry's clock.
inline constexpr int64_t kMaxRequestClockSkewSeconds = 300;
// Bootstrap lists peers seen this recently, at most kMaxBootstrapPeers.
inline constexpr int64_t kBootstrapWindowSeconds = 3600;
inline constexpr int kMaxBootstrapPeers = 32;

struct ApiResponse {
  int status = 200;
  std::string body;  // JSON
  std::string node;  // the node the request was about, for the log; may be empty
};

class RegistryApi {
 public:
  // Keeps references: all three must outlive the RegistryApi.
  RegistryApi(RegistryStorage& storage, const identity::CertificateAuthority& ca, Random& random)
      : storage_(storage), ca_(ca), random_(random) {}

  ApiResponse Handle(std::string_view method, std::string_view path, std::string_view body,
                     int64_t now_unix);

 private:
  ApiResponse Route(std::string_view method, std::string_view path, std::string_view body,
                    int64_t now_unix);
  ApiResponse Join(std::string_view body, int64_t now_unix);
  ApiResponse Renew(std::string_view body, int64_t now_unix);
  ApiResponse Heartbeat(std::string_view body, int64_t now_unix);
  ApiResponse Ca();
  ApiResponse Config(int64_t now_unix);
  ApiResponse Crl(int64_t now_unix);
  ApiResponse Bootstrap(int64_t now_unix);

  RegistryStorage& storage_;
  const identity::CertificateAuthority& ca_;
  Random& random_;
};

// The body of a renew request for node `name`, signed with its identity key.
Result<std::string> MakeRenewRequest(std::string_view name, const identity::IdentityKey& key,
                                     int64_t now_unix);

}  // namespace plexus
