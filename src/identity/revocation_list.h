// RevocationList: the network's CRL as a signed, versioned document (DESIGN.md
// §2.3), kind kRevocationListKind, signed by the CA key. The version is the
// envelope's; the payload is canonical JSON:
//
//   {"serials":["<hex>",...]}     normalised, sorted, unique
//
// Serials are hex as Certificate::SerialHex() prints them: case and leading
// zeros are ignored ("00AB" == "ab"). A value type; const methods are safe
// from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "identity/certificate.h"
#include "identity/identity_key.h"
#include "identity/signed_document.h"

namespace plexus::identity {

inline constexpr std::string_view kRevocationListKind = "crl";

// Lowercase hex without leading zeros ("0" for zero); nullopt when `hex` is
// empty or has a non-hex character.
std::optional<std::string> NormalizeSerialHex(std::string_view hex);

class RevocationList {
 public:
  // The empty list at version 0: what a node holds before it learns any CRL.
  RevocationList() = default;
  // Errors name the first serial that is not hex.
  static Result<RevocationList> Create(uint64_t version, const std::vector<std::string>& serials);

  uint64_t version() const { return version_; }
  // Normalised, sorted, unique; usable as VerifyNodeCertificate's revoked_serials.
  const std::vector<std::string>& serials() const { return serials_; }
  // False for a string that is not hex.
  bool IsRevoked(std::string_view serial_hex) const;
  bool IsRevoked(const Certificate& cert) const { return IsRevoked(cert.SerialHex()); }

  // Merge rule: `other` replaces this list only when its version is strictly
  // newer. Returns whether it did.
  bool MergeFrom(const RevocationList& other);

  // The canonical payload bytes.
  Bytes ToPayload() const;
  static Result<RevocationList> FromPayload(uint64_t version, ByteSpan payload);

  // Signs with the CA key.
  Result<SignedDocument> Sign(int64_t issued_at, const IdentityKey& ca_key) const;

 private:
  RevocationList(uint64_t version, std::vector<std::string> serials)
      : version_(version), serials_(std::move(serials)) {}

  uint64_t version_ = 0;
  std::vector<std::string> serials_;
};

struct [[nodiscard]] VerifiedRevocationList {
  DocumentVerdict verdict;
  RevocationList list;  // meaningful only when verdict.ok()
};

// VerifySignedDocument against the CA key, kind kRevocationListKind, newer
// than `held_version`; then the payload must parse (else kMalformed).
VerifiedRevocationList VerifyRevocationList(const SignedDocument& doc,
                                            const IdentityPublicKey& ca_key, uint64_t held_version);

}  // namespace plexus::identity
