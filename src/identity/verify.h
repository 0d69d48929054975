// VerifyNodeCertificate: may this certificate authorise a link? (DESIGN.md
// §2.3: chains to the CA, within its validity period, not revoked, and its
// WireGuard key equals the handshake's key.) Every rejection has a named
// CertificateRejection. Pure (`now` is an argument) and thread-safe: it only
// reads the certificates.
//
// Checks, in order:
//   1. X509_verify_cert against a store holding only the CA, at time `now`:
//      issuer found (kWrongCa), signature (kBadSignature), validity
//      (kNotYetValid, kExpired, kCaNotValid; OpenSSL treats now == notAfter as
//      expired, one second stricter than RFC 5280 §4.1.2.5), RFC 3779 nesting inside the CA's
//      blocks (kPrefixOutsideNetwork), anything else (kChainInvalid).
//   2. basicConstraints cA must be FALSE (kNotNodeCertificate).
//   3. serial not in `revoked_serials` (kRevoked).
//   4. IP address blocks present (kMissingIpAddressBlocks) and the WireGuard
//      key extension present (kMissingWireGuardKey) and equal to
//      `expected_wireguard_key` (kWireGuardKeyMismatch).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"

namespace plexus::identity {

enum class CertificateRejection : uint8_t {
  kNone,                    // accepted
  kWrongCa,                 // not issued by this CA (issuer or key identifier differ)
  kBadSignature,            // issuer matches but the signature does not verify
  kNotYetValid,             // now < notBefore
  kExpired,                 // now > notAfter
  kCaNotValid,              // the CA certificate itself is outside its validity period
  kRevoked,                 // serial is on the revocation list
  kNotNodeCertificate,      // basicConstraints cA = TRUE
  kMissingIpAddressBlocks,  // no RFC 3779 sbgp-ipAddrBlock extension
  kPrefixOutsideNetwork,    // blocks not inside the CA's blocks (RFC 3779 §2.3)
  kMissingWireGuardKey,     // no (or a malformed) WireGuard key extension
  kWireGuardKeyMismatch,    // the extension's key is not the handshake's key
  kChainInvalid,            // any other X509_verify_cert failure
};

std::string_view CertificateRejectionName(CertificateRejection r);

// The verdict: kNone, or a reason and a message for the log.
struct [[nodiscard]] CertificateVerdict {
  CertificateRejection rejection = CertificateRejection::kNone;
  std::string message;

  bool ok() const { return rejection == CertificateRejection::kNone; }
  explicit operator bool() const { return ok(); }
  // "<name>: <message>", for callers that propagate a Status.
  Status ToStatus() const;
};

// `revoked_serials` are hex serials as Certificate::SerialHex() prints them
// (case and leading zeros are ignored).
CertificateVerdict VerifyNodeCertificate(const Certificate& cert, const Certificate& ca,
                                         int64_t now_unix,
                                         std::span<const std::string> revoked_serials,
                                         const crypto::PublicKey& expected_wireguard_key);

}  // namespace plexus::identity
