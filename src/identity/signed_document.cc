#include "identity/signed_document.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <nlohmann/json.hpp>

#include "base/base64.h"

namespace plexus::identity {
namespace {

using nlohmann::json;

void WriteLengthPrefixed(ByteWriter& w, ByteSpan b) {
  w.WriteBe32(static_cast<uint32_t>(b.size()));
  w.WriteBytes(b);
}

void WriteBe64(ByteWriter& w, uint64_t v) {
  w.WriteBe32(static_cast<uint32_t>(v >> 32));
  w.WriteBe32(static_cast<uint32_t>(v & 0xffffffffU));
}

Status CheckShape(std::string_view kind, size_t payload_size) {
  if (kind.empty()) return MakeError("document kind is empty");
  if (kind.size() > kMaxDocumentKindSize) return MakeError("document kind is too long");
  // Printable ASCII keeps the kind safe to log and to dump as JSON.
  if (!std::all_of(kind.begin(), kind.end(), [](char c) { return c > 0x20 && c < 0x7f; })) {
    return MakeError("document kind is not printable ASCII");
  }
  if (payload_size > kMaxDocumentPayloadSize) return MakeError("document payload is too large");
  return Ok();
}

template <size_t N>
Result<ByteArray<N>> GetBase64Array(const json& j, std::string_view field) {
  Result<std::string> text = document_json::GetString(j, field);
  if (!text) return text.error();
  std::optional<Bytes> b = Base64Decode(*text);
  if (!b) return MakeError("{}: not base64", field);
  if (b->size() != N) return MakeError("{}: {} bytes, want {}", field, b->size(), N);
  ByteArray<N> out;
  std::copy(b->begin(), b->end(), out.begin());
  return out;
}

Result<SignedDocument> DecodeObject(const json& j) {
  if (Status s = document_json::OnlyFields(
          j, {"kind", "version", "issued_at", "payload", "signer", "signature"});
      !s) {
    return s.error();
  }
  SignedDocument doc;
  Result<std::string> kind = document_json::GetString(j, "kind");
  if (!kind) return kind.error();
  Result<uint64_t> version = document_json::GetUint(j, "version");
  if (!version) return version.error();
  Result<int64_t> issued_at = document_json::GetInt(j, "issued_at");
  if (!issued_at) return issued_at.error();
  Result<std::string> payload_text = document_json::GetString(j, "payload");
  if (!payload_text) return payload_text.error();
  std::optional<Bytes> payload = Base64Decode(*payload_text);
  if (!payload) return MakeError("payload: not base64");
  Result<ByteArray<kEd25519PublicKeySize>> signer =
      GetBase64Array<kEd25519PublicKeySize>(j, "signer");
  if (!signer) return signer.error();
  Result<Ed25519Signature> signature = GetBase64Array<kEd25519SignatureSize>(j, "signature");
  if (!signature) return signature.error();
  if (Status s = CheckShape(*kind, payload->size()); !s) return s.error();
  return SignedDocument{.kind = std::move(*kind),
                        .version = *version,
                        .issued_at = *issued_at,
                        .payload = std::move(*payload),
                        .signer = IdentityPublicKey(*signer),
                        .signature = *signature};
}

}  // namespace

Bytes SignedBytes(std::string_view kind, uint64_t version, int64_t issued_at, ByteSpan payload) {
  Bytes out;
  ByteWriter w(out);
  WriteLengthPrefixed(w, AsBytes(kSignedDocumentDomain));
  WriteLengthPrefixed(w, AsBytes(kind));
  WriteBe64(w, version);
  WriteBe64(w, static_cast<uint64_t>(issued_at));
  WriteLengthPrefixed(w, payload);
  return out;
}

Result<SignedDocument> SignDocument(std::string_view kind, uint64_t version, int64_t issued_at,
                                    ByteSpan payload, const IdentityKey& key) {
  if (Status s = CheckShape(kind, payload.size()); !s) return s.error();
  Result<Ed25519Signature> signature = key.Sign(SignedBytes(kind, version, issued_at, payload));
  if (!signature) return signature.error().Wrap("signing document");
  return SignedDocument{.kind = std::string(kind),
                        .version = version,
                        .issued_at = issued_at,
                        .payload = Bytes(payload.begin(), payload.end()),
                        .signer = key.public_key(),
                        .signature = *signature};
}

std::string EncodeSignedDocument(const SignedDocument& doc) {
  json j = {{"kind", doc.kind},
            {"version", doc.version},
            {"issued_at", doc.issued_at},
            {"payload", Base64Encode(doc.payload)},
            {"signer", Base64Encode(doc.signer.span())},
            {"signature", Base64Encode(doc.signature)}};
  return j.dump();
}

Result<SignedDocument> DecodeSignedDocument(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("signed document: not JSON");
  if (!j.is_object()) return MakeError("signed document: not a JSON object");
  Result<SignedDocument> doc = DecodeObject(j);
  if (!doc) return doc.error().Wrap("signed document");
  return doc;
}

std::string_view DocumentRejectionName(DocumentRejection r) {
  switch (r) {
    case DocumentRejection::kNone:
      return "none";
    case DocumentRejection::kMalformed:
      return "malformed";
    case DocumentRejection::kWrongSigner:
      return "wrong-signer";
    case DocumentRejection::kBadSignature:
      return "bad-signature";
    case DocumentRejection::kWrongKind:
      return "wrong-kind";
    case DocumentRejection::kOlderVersion:
      return "older-version";
    case DocumentRejection::kSameVersion:
      return "same-version";
  }
  return "unknown";
}

Status DocumentVerdict::ToStatus() const {
  if (ok()) return Ok();
  return MakeError("{}: {}", DocumentRejectionName(rejection), message);
}

DocumentVerdict Reject(DocumentRejection r, std::string message) {
  return DocumentVerdict{.rejection = r, .message = std::move(message)};
}

DocumentVerdict VerifySignedDocument(const SignedDocument& doc,
                                     const IdentityPublicKey& trusted_key,
                                     std::string_view expected_kind, uint64_t held_version) {
  if (Status s = CheckShape(doc.kind, doc.payload.size()); !s) {
    return Reject(DocumentRejection::kMalformed, s.error().message());
  }
  if (doc.signer != trusted_key) {
    return Reject(DocumentRejection::kWrongSigner,
                  fmt::format("signed by {}, want {}", doc.signer.ToHex(), trusted_key.ToHex()));
  }
  if (!trusted_key.Verify(SignedBytes(doc.kind, doc.version, doc.issued_at, doc.payload),
                          doc.signature)) {
    return Reject(DocumentRejection::kBadSignature, "signature does not verify");
  }
  if (doc.kind != expected_kind) {
    return Reject(DocumentRejection::kWrongKind,
                  fmt::format("kind \"{}\", want \"{}\"", doc.kind, expected_kind));
  }
  if (doc.version < held_version) {
    return Reject(
        DocumentRejection::kOlderVersion,
        fmt::format("version {} is older than held version {}", doc.version, held_version));
  }
  if (doc.version == held_version) {
    return Reject(DocumentRejection::kSameVersion,
                  fmt::format("version {} is already held", doc.version));
  }
  return {};
}

namespace document_json {

Bytes CanonicalJson(const json& j) {
  std::string s = j.dump();
  ByteSpan b = AsBytes(s);
  return Bytes(b.begin(), b.end());
}

Result<json> ParseCanonicalObject(ByteSpan payload) {
  json j = json::parse(AsChars(payload), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return MakeError("payload is not JSON");
  if (!j.is_object()) return MakeError("payload is not a JSON object");
  // dump() may throw on invalid UTF-8; parse() has already rejected that.
  if (j.dump() != AsChars(payload)) return MakeError("payload is not canonical JSON");
  return j;
}

Status OnlyFields(const json& object, std::initializer_list<std::string_view> allowed) {
  for (const auto& [key, value] : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return MakeError("{}: unknown field", key);
    }
  }
  return Ok();
}

namespace {
Result<const json*> Member(const json& object, std::string_view field) {
  auto it = object.find(field);
  if (it == object.end()) return MakeError("{}: missing", field);
  return &*it;
}
}  // namespace

Result<std::string> GetString(const json& object, std::string_view field) {
  Result<const json*> m = Member(object, field);
  if (!m) return m.error();
  if (!(*m)->is_string()) return MakeError("{}: not a string", field);
  return (*m)->get<std::string>();
}

Result<uint64_t> GetUint(const json& object, std::string_view field) {
  Result<const json*> m = Member(object, field);
  if (!m) return m.error();
  if (!(*m)->is_number_unsigned()) return MakeError("{}: not a non-negative integer", field);
  return (*m)->get<uint64_t>();
}

Result<int64_t> GetInt(const json& object, std::string_view field) {
  Result<const json*> m = Member(object, field);
  if (!m) return m.error();
  if ((*m)->is_number_unsigned()) {
    uint64_t v = (*m)->get<uint64_t>();
    if (v > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return MakeError("{}: out of range", field);
    }
    return static_cast<int64_t>(v);
  }
  if (!(*m)->is_number_integer()) return MakeError("{}: not an integer", field);
  return (*m)->get<int64_t>();
}

Result<const json*> GetArray(const json& object, std::string_view field) {
  Result<const json*> m = Member(object, field);
  if (!m) return m.error();
  if (!(*m)->is_array()) return MakeError("{}: not an array", field);
  return *m;
}

}  // namespace document_json

}  // namespace plexus::identity
