// SignedDocument: the envelope for the signed, versioned documents of
// DESIGN.md §2.3 ("Revocations (CRL) and the network configuration are signed
// documents with a version number") and the peer records of §2.7.
//
// Signed bytes (SignedBytes), every variable field length-prefixed, integers
// big-endian; the signature is Ed25519 (RFC 8032) over exactly these bytes:
//
//   u32 len | "plexus signed document v1"   domain separator (kSignedDocumentDomain)
//   u32 len | kind                           e.g. "network-config", "crl", "peer-record"
//   u64     version
//   u64     issued_at                        Unix seconds, two's complement
//   u32 len | payload                        canonical JSON bytes
//
// Text form (EncodeSignedDocument), one JSON object with exactly these members:
//   {"issued_at":<int>,"kind":"<kind>","payload":"<base64>",
//    "signature":"<base64 64 bytes>","signer":"<base64 32 bytes>","version":<uint>}
//
// Verification order (VerifySignedDocument): malformed -> wrong signer -> bad
// signature -> wrong kind -> version not newer. Kind and version are judged
// only once the signature has authenticated them.
//
// Pure value types and functions; thread-safe (no shared state).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "identity/identity_key.h"

namespace plexus::identity {

inline constexpr std::string_view kSignedDocumentDomain = "plexus signed document v1";
// Upper bounds that keep a hostile document from costing much memory.
inline constexpr size_t kMaxDocumentKindSize = 64;
inline constexpr size_t kMaxDocumentPayloadSize = size_t{1} << 20;

struct SignedDocument {
  std::string kind;
  uint64_t version = 0;
  int64_t issued_at = 0;  // Unix seconds
  Bytes payload;          // canonical JSON (see CanonicalJson)
  IdentityPublicKey signer;
  Ed25519Signature signature{};
};

// The exact bytes the signature covers (layout above).
Bytes SignedBytes(std::string_view kind, uint64_t version, int64_t issued_at, ByteSpan payload);

// A document over `payload` signed by `key`; errors when kind is empty, longer
// than kMaxDocumentKindSize, not printable ASCII without spaces, or the
// payload is too large.
Result<SignedDocument> SignDocument(std::string_view kind, uint64_t version, int64_t issued_at,
                                    ByteSpan payload, const IdentityKey& key);

std::string EncodeSignedDocument(const SignedDocument& doc);
// Strict: exactly the six members with the right JSON types and sizes.
Result<SignedDocument> DecodeSignedDocument(std::string_view text);

enum class DocumentRejection : uint8_t {
  kNone,          // accepted
  kMalformed,     // structurally invalid (empty kind, oversized, bad payload)
  kWrongSigner,   // signed by a key other than the trusted one
  kBadSignature,  // signer matches but the signature does not verify
  kWrongKind,     // authentic, but not the kind of document expected
  kOlderVersion,  // authentic, but older than the version we hold
  kSameVersion,   // authentic, but the version we already hold (a replay)
};

std::string_view DocumentRejectionName(DocumentRejection r);

struct [[nodiscard]] DocumentVerdict {
  DocumentRejection rejection = DocumentRejection::kNone;
  std::string message;

  bool ok() const { return rejection == DocumentRejection::kNone; }
  explicit operator bool() const { return ok(); }
  // "<name>: <message>".
  Status ToStatus() const;
};

DocumentVerdict Reject(DocumentRejection r, std::string message);

// Accepts `doc` only if it is signed by `trusted_key`, is of `expected_kind`
// and its version is strictly greater than `held_version` (0 when nothing is
// held yet; issuers start at 1).
DocumentVerdict VerifySignedDocument(const SignedDocument& doc,
                                     const IdentityPublicKey& trusted_key,
                                     std::string_view expected_kind, uint64_t held_version);

// JSON helpers shared by the payload types. Payloads are canonical: the
// output of nlohmann::json::dump() (keys sorted, no whitespace). Errors name
// the field.
namespace document_json {

Bytes CanonicalJson(const nlohmann::json& j);
// A JSON object whose canonical dump equals `payload` byte for byte.
Result<nlohmann::json> ParseCanonicalObject(ByteSpan payload);
// Errors on a member not in `allowed`.
Status OnlyFields(const nlohmann::json& object, std::initializer_list<std::string_view> allowed);
Result<std::string> GetString(const nlohmann::json& object, std::string_view field);
Result<uint64_t> GetUint(const nlohmann::json& object, std::string_view field);
Result<int64_t> GetInt(const nlohmann::json& object, std::string_view field);
// The member as an array (present and of array type).
Result<const nlohmann::json*> GetArray(const nlohmann::json& object, std::string_view field);

}  // namespace document_json

}  // namespace plexus::identity
