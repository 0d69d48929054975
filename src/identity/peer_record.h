// PeerRecord: a node's certificate, its current endpoints and a timestamp,
// signed by the node's own identity key (DESIGN.md §2.7). Carried in a
// SignedDocument of kind kPeerRecordKind whose version and issued_at are both
// the timestamp, so a newer record replaces an older one and a replayed one
// is refused. The payload is canonical JSON:
//
//   {"certificate":"-----BEGIN CERTIFICATE-----\n...","endpoints":["192.0.2.1:51820",
//    "[2001:db8::1]:51820"]}
//
// Verification (VerifyPeerRecord), in order:
//   1. payload, certificate PEM, endpoints and version == issued_at parse (kMalformed)
//   2. the envelope is signed by the certificate's subject key (kWrongSigner,
//      kBadSignature), is a peer record (kWrongKind) and newer than the one
//      held (kOlderTimestamp, kSameTimestamp)
//   3. the certificate verifies against the CA (verify.h) with its own
//      WireGuard key (kCertificateRejected, with the CertificateRejection)
//
// Pure: `now` is an argument. Thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "identity/certificate.h"
#include "identity/identity_key.h"
#include "identity/signed_document.h"
#include "identity/verify.h"

namespace plexus::identity {

inline constexpr std::string_view kPeerRecordKind = "peer-record";
inline constexpr size_t kMaxPeerRecordEndpoints = 16;

struct PeerRecord {
  std::string certificate_pem;      // one CERTIFICATE PEM block
  std::vector<Endpoint> endpoints;  // IPv4 and IPv6, port != 0, at most kMaxPeerRecordEndpoints
  int64_t timestamp = 0;            // Unix seconds, > 0

  bool operator==(const PeerRecord&) const = default;
};

// Canonical payload (certificate and endpoints; the timestamp lives in the envelope).
Result<Bytes> PeerRecordToPayload(const PeerRecord& record);
// The record a document carries, parsed but not verified.
Result<PeerRecord> PeerRecordFromDocument(const SignedDocument& doc);

// Signs with the node's key; errors unless `node_key` is the certificate's
// subject key and the record is well formed.
Result<SignedDocument> SignPeerRecord(const PeerRecord& record, const IdentityKey& node_key);

enum class PeerRecordRejection : uint8_t {
  kNone,                 // accepted
  kMalformed,            // payload, certificate, endpoints or timestamp unusable
  kWrongSigner,          // not signed by the certificate's subject key
  kBadSignature,         // the signature does not verify
  kWrongKind,            // an authentic document of another kind
  kOlderTimestamp,       // older than the record held
  kSameTimestamp,        // the record held (a replay)
  kCertificateRejected,  // see certificate_rejection
};

std::string_view PeerRecordRejectionName(PeerRecordRejection r);

struct [[nodiscard]] PeerRecordVerdict {
  PeerRecordRejection rejection = PeerRecordRejection::kNone;
  CertificateRejection certificate_rejection = CertificateRejection::kNone;
  std::string message;

  bool ok() const { return rejection == PeerRecordRejection::kNone; }
  explicit operator bool() const { return ok(); }
  Status ToStatus() const;
};

struct VerifiedPeerRecord {
  PeerRecordVerdict verdict;
  PeerRecord record;                       // meaningful only when verdict.ok()
  std::optional<Certificate> certificate;  // set when verdict.ok()
};

// `held_timestamp` is the timestamp of the record held for this node (0 when
// none); `revoked_serials` as for VerifyNodeCertificate.
VerifiedPeerRecord VerifyPeerRecord(const SignedDocument& doc, const Certificate& ca,
                                    int64_t now_unix, std::span<const std::string> revoked_serials,
                                    int64_t held_timestamp);

}  // namespace plexus::identity
