#include "identity/revocation_list.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace plexus::identity {

std::optional<std::string> NormalizeSerialHex(std::string_view hex) {
  if (hex.empty()) return std::nullopt;
  std::string out;
  out.reserve(hex.size());
  for (char c : hex) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    if (out.empty() && c == '0') continue;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  if (out.empty()) out = "0";
  return out;
}

Result<RevocationList> RevocationList::Create(uint64_t version,
                                              const std::vector<std::string>& serials) {
  std::vector<std::string> normalized;
  normalized.reserve(serials.size());
  for (size_t i = 0; i < serials.size(); ++i) {
    std::optional<std::string> s = NormalizeSerialHex(serials[i]);
    if (!s) return MakeError("serials[{}]: \"{}\" is not a hex serial", i, serials[i]);
    normalized.push_back(std::move(*s));
  }
  std::sort(normalized.begin(), normalized.end());
  normalized.erase(std::unique(normalized.begin(), normalized.end()), normalized.end());
  return RevocationList(version, std::move(normalized));
}

bool RevocationList::IsRevoked(std::string_view serial_hex) const {
  std::optional<std::string> s = NormalizeSerialHex(serial_hex);
  return s && std::binary_search(serials_.begin(), serials_.end(), *s);
}

bool RevocationList::MergeFrom(const RevocationList& other) {
  if (other.version_ <= version_) return false;
  *this = other;
  return true;
}

Bytes RevocationList::ToPayload() const {
  return document_json::CanonicalJson(nlohmann::json{{"serials", serials_}});
}

Result<RevocationList> RevocationList::FromPayload(uint64_t version, ByteSpan payload) {
  Result<nlohmann::json> j = document_json::ParseCanonicalObject(payload);
  if (!j) return j.error().Wrap("revocation list");
  if (Status s = document_json::OnlyFields(*j, {"serials"}); !s) {
    return s.error().Wrap("revocation list");
  }
  Result<const nlohmann::json*> array = document_json::GetArray(*j, "serials");
  if (!array) return array.error().Wrap("revocation list");
  std::vector<std::string> serials;
  for (const nlohmann::json& s : **array) {
    if (!s.is_string())
      return MakeError("revocation list: serials[{}]: not a string", serials.size());
    serials.push_back(s.get<std::string>());
  }
  Result<RevocationList> list = Create(version, serials);
  if (!list) return list.error().Wrap("revocation list");
  return list;
}

Result<SignedDocument> RevocationList::Sign(int64_t issued_at, const IdentityKey& ca_key) const {
  return SignDocument(kRevocationListKind, version_, issued_at, ToPayload(), ca_key);
}

VerifiedRevocationList VerifyRevocationList(const SignedDocument& doc,
                                            const IdentityPublicKey& ca_key,
                                            uint64_t held_version) {
  DocumentVerdict verdict = VerifySignedDocument(doc, ca_key, kRevocationListKind, held_version);
  if (!verdict) return {.verdict = std::move(verdict), .list = {}};
  Result<RevocationList> list = RevocationList::FromPayload(doc.version, doc.payload);
  if (!list) {
    return {.verdict = Reject(DocumentRejection::kMalformed, list.error().message()), .list = {}};
  }
  return {.verdict = {}, .list = std::move(*list)};
}

}  // namespace plexus::identity
