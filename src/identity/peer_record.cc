#include "identity/peer_record.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

namespace plexus::identity {
namespace {

using nlohmann::json;

Status CheckEndpoints(const std::vector<Endpoint>& endpoints) {
  if (endpoints.size() > kMaxPeerRecordEndpoints) {
    return MakeError("endpoints: {} entries, at most {}", endpoints.size(),
                     kMaxPeerRecordEndpoints);
  }
  for (size_t i = 0; i < endpoints.size(); ++i) {
    if (!endpoints[i].IsSet()) return MakeError("endpoints[{}]: port 0", i);
  }
  return Ok();
}

Result<std::vector<Endpoint>> EndpointsFromJson(const json& j) {
  Result<const json*> array = document_json::GetArray(j, "endpoints");
  if (!array) return array.error();
  std::vector<Endpoint> out;
  for (const json& item : **array) {
    std::string where = fmt::format("endpoints[{}]", out.size());
    if (!item.is_string()) return MakeError("{}: not a string", where);
    Result<Endpoint> e = Endpoint::Parse(item.get<std::string>());
    if (!e) return e.error().Wrap(where);
    out.push_back(*e);
  }
  if (Status s = CheckEndpoints(out); !s) return s.error();
  return out;
}

Result<PeerRecord> ParsePayload(ByteSpan payload) {
  Result<json> j = document_json::ParseCanonicalObject(payload);
  if (!j) return j.error();
  if (Status s = document_json::OnlyFields(*j, {"certificate", "endpoints"}); !s) return s.error();
  Result<std::string> pem = document_json::GetString(*j, "certificate");
  if (!pem) return pem.error();
  Result<std::vector<Endpoint>> endpoints = EndpointsFromJson(*j);
  if (!endpoints) return endpoints.error();
  return PeerRecord{.certificate_pem = std::move(*pem), .endpoints = std::move(*endpoints)};
}

PeerRecordVerdict RejectRecord(PeerRecordRejection r, std::string message) {
  return PeerRecordVerdict{.rejection = r, .message = std::move(message)};
}

PeerRecordRejection FromDocumentRejection(DocumentRejection r) {
  switch (r) {
    case DocumentRejection::kNone:
      return PeerRecordRejection::kNone;
    case DocumentRejection::kMalformed:
      return PeerRecordRejection::kMalformed;
    case DocumentRejection::kWrongSigner:
      return PeerRecordRejection::kWrongSigner;
    case DocumentRejection::kBadSignature:
      return PeerRecordRejection::kBadSignature;
    case DocumentRejection::kWrongKind:
      return PeerRecordRejection::kWrongKind;
    case DocumentRejection::kOlderVersion:
      return PeerRecordRejection::kOlderTimestamp;
    case DocumentRejection::kSameVersion:
      return PeerRecordRejection::kSameTimestamp;
  }
  return PeerRecordRejection::kMalformed;
}

VerifiedPeerRecord Rejected(PeerRecordVerdict verdict) {
  VerifiedPeerRecord out;
  out.verdict = std::move(verdict);
  return out;
}

}  // namespace

Result<Bytes> PeerRecordToPayload(const PeerRecord& record) {
  const std::string& pem = record.certificate_pem;
  // PEM is ASCII (RFC 7468); anything else could not be dumped as JSON.
  if (!std::all_of(pem.begin(), pem.end(), [](char c) { return c > 0 && c < 0x7f; })) {
    return MakeError("peer record: certificate: not ASCII");
  }
  if (Status s = CheckEndpoints(record.endpoints); !s) return s.error().Wrap("peer record");
  json endpoints = json::array();
  for (const Endpoint& e : record.endpoints) endpoints.push_back(e.ToString());
  return document_json::CanonicalJson(
      json{{"certificate", record.certificate_pem}, {"endpoints", std::move(endpoints)}});
}

Result<PeerRecord> PeerRecordFromDocument(const SignedDocument& doc) {
  if (doc.issued_at <= 0 || doc.version != static_cast<uint64_t>(doc.issued_at)) {
    return MakeError("peer record: version {} and issued_at {} must be the same positive timestamp",
                     doc.version, doc.issued_at);
  }
  Result<PeerRecord> record = ParsePayload(doc.payload);
  if (!record) return record.error().Wrap("peer record");
  record->timestamp = doc.issued_at;
  return record;
}

Result<SignedDocument> SignPeerRecord(const PeerRecord& record, const IdentityKey& node_key) {
  if (record.timestamp <= 0) return MakeError("peer record: timestamp must be positive");
  Result<Certificate> cert = Certificate::FromPem(record.certificate_pem);
  if (!cert) return cert.error().Wrap("peer record: certificate");
  Result<IdentityPublicKey> subject = cert->SubjectPublicKey();
  if (!subject) return subject.error().Wrap("peer record: certificate");
  if (*subject != node_key.public_key()) {
    return MakeError("peer record: the key is not the certificate's subject key");
  }
  Result<Bytes> payload = PeerRecordToPayload(record);
  if (!payload) return payload.error();
  return SignDocument(kPeerRecordKind, static_cast<uint64_t>(record.timestamp), record.timestamp,
                      *payload, node_key);
}

std::string_view PeerRecordRejectionName(PeerRecordRejection r) {
  switch (r) {
    case PeerRecordRejection::kNone:
      return "none";
    case PeerRecordRejection::kMalformed:
      return "malformed";
    case PeerRecordRejection::kWrongSigner:
      return "wrong-signer";
    case PeerRecordRejection::kBadSignature:
      return "bad-signature";
    case PeerRecordRejection::kWrongKind:
      return "wrong-kind";
    case PeerRecordRejection::kOlderTimestamp:
      return "older-timestamp";
    case PeerRecordRejection::kSameTimestamp:
      return "same-timestamp";
    case PeerRecordRejection::kCertificateRejected:
      return "certificate-rejected";
  }
  return "unknown";
}

Status PeerRecordVerdict::ToStatus() const {
  if (ok()) return Ok();
  return MakeError("{}: {}", PeerRecordRejectionName(rejection), message);
}

VerifiedPeerRecord VerifyPeerRecord(const SignedDocument& doc, const Certificate& ca,
                                    int64_t now_unix, std::span<const std::string> revoked_serials,
                                    int64_t held_timestamp) {
  Result<PeerRecord> record = PeerRecordFromDocument(doc);
  if (!record)
    return Rejected(RejectRecord(PeerRecordRejection::kMalformed, record.error().message()));
  Result<Certificate> cert = Certificate::FromPem(record->certificate_pem);
  if (!cert) return Rejected(RejectRecord(PeerRecordRejection::kMalformed, cert.error().message()));
  Result<IdentityPublicKey> subject = cert->SubjectPublicKey();
  if (!subject) {
    return Rejected(RejectRecord(PeerRecordRejection::kMalformed, subject.error().message()));
  }
  uint64_t held = held_timestamp > 0 ? static_cast<uint64_t>(held_timestamp) : 0;
  DocumentVerdict d = VerifySignedDocument(doc, *subject, kPeerRecordKind, held);
  if (!d) return Rejected(RejectRecord(FromDocumentRejection(d.rejection), std::move(d.message)));
  CertificateVerdict c = VerifyNodeCertificate(*cert, ca, now_unix, revoked_serials,
                                               cert->WireGuardKey().value_or(crypto::PublicKey()));
  if (!c) {
    PeerRecordVerdict v =
        RejectRecord(PeerRecordRejection::kCertificateRejected, c.ToStatus().error().message());
    v.certificate_rejection = c.rejection;
    return Rejected(std::move(v));
  }
  return VerifiedPeerRecord{
      .verdict = {}, .record = std::move(*record), .certificate = std::move(*cert)};
}

}  // namespace plexus::identity
