// Certificate: an owned X.509 certificate (OpenSSL X509*) with accessors for
// the fields plexus uses (DESIGN.md §2.3): subject CN/O, validity, serial, the
// RFC 3779 IP address blocks, SAN DNS names and the node's WireGuard key.
// Move-only. Immutable after construction, so a const Certificate may be read
// from several threads.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "crypto/x25519.h"
#include "identity/identity_key.h"
#include "identity/openssl_util.h"

namespace plexus::identity {

// The private extension holding a node's X25519 WireGuard public key: extnValue
// is the DER of an OCTET STRING of exactly 32 bytes; non-critical.
// PLACEHOLDER: 1.3.6.1.4.1.99999 is not a registered enterprise arc. Replace it
// with a registered Private Enterprise Number before any certificate is issued
// outside tests; certificates carrying the old OID would then stop verifying.
inline constexpr std::string_view kWireGuardKeyOid = "1.3.6.1.4.1.99999.1";

class Certificate {
 public:
  // Takes ownership; `cert` must not be null.
  explicit Certificate(X509Ptr cert) : cert_(std::move(cert)) {}
  // One "CERTIFICATE" PEM block (the first one if there are several).
  static Result<Certificate> FromPem(std::string_view pem);
  // Exactly one DER certificate, with no trailing bytes.
  static Result<Certificate> FromDer(ByteSpan der);

  Certificate(Certificate&&) noexcept = default;
  Certificate& operator=(Certificate&&) noexcept = default;
  Certificate(const Certificate&) = delete;
  Certificate& operator=(const Certificate&) = delete;

  // An explicit copy (X509_up_ref), for the few holders that must share one.
  Certificate Clone() const;

  Result<std::string> ToPem() const;
  Result<Bytes> ToDer() const;

  // Lowercase hex of the serial number without leading zeros ("0" for zero);
  // the form revocation lists use.
  std::string SerialHex() const;
  // The subject's first commonName / organizationName; empty when absent.
  std::string SubjectCommonName() const;
  std::string SubjectOrganization() const;
  std::string IssuerCommonName() const;
  // Validity bounds as Unix seconds.
  Result<int64_t> NotBeforeUnix() const;
  Result<int64_t> NotAfterUnix() const;
  // RFC 3779 blocks; empty when the extension is absent (see ip_address_blocks.h).
  Result<std::vector<Prefix>> IpAddressBlocks() const;
  // The WireGuard key extension (kWireGuardKeyOid); nullopt when absent or malformed.
  std::optional<crypto::PublicKey> WireGuardKey() const;
  // subjectAltName dNSName entries, in order.
  std::vector<std::string> DnsNames() const;
  // True when basicConstraints says cA = TRUE.
  bool IsCa() const;
  // The subject public key, when it is Ed25519.
  Result<IdentityPublicKey> SubjectPublicKey() const;

  X509* get() const { return cert_.get(); }

 private:
  X509Ptr cert_;
};

// The ASN1_OBJECT for kWireGuardKeyOid (caller owns it).
Asn1ObjectPtr WireGuardKeyObject();

}  // namespace plexus::identity
