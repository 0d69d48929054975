// The registry's HTTPS server certificate (DESIGN.md §1: "serves the API over
// HTTPS with a server certificate signed by the CA"). A joining node pins the
// CA by fingerprint (docs/decisions/0005-join-url.md) and then verifies this
// certificate's chain and host name against it.
//
//   subject   CN = "plexus registry", O = network name
//   key       a fresh Ed25519 key
//   validity  [now - 5 min, now + kServerCertificateLifetimeSeconds]
//   extensions basicConstraints CA:FALSE (critical), keyUsage digitalSignature
//              (critical), extendedKeyUsage serverAuth, subjectAltName = the
//              given host names (DNS:) and addresses (IP:), subject and
//              authority key identifiers. No RFC 3779 blocks: it originates no
//              prefixes (RFC 3779 path validation skips a leaf without them).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "identity/certificate.h"
#include "identity/certificate_authority.h"
#include "identity/identity_key.h"

namespace plexus {

inline constexpr int64_t kServerCertificateLifetimeSeconds = int64_t{365} * 24 * 3600;

struct ServerCertificate {
  identity::IdentityKey key;
  identity::Certificate certificate;
};

// `hosts`: DNS names and IP addresses (non-empty).
Result<ServerCertificate> IssueServerCertificate(const identity::CertificateAuthority& ca,
                                                 const std::vector<std::string>& hosts,
                                                 int64_t now_unix, Random& random);

}  // namespace plexus
