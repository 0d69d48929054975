#include "mesh/link_control_messages.h"

#include <algorithm>
#include <optional>

namespace plexus::mesh {
namespace {

using Drop = LinkControlDrop;

// A body decoder: appends the message or returns the drop reason.
using BodyResult = std::optional<Drop>;

bool ReadBe64(ByteReader& r, uint64_t& out) {
  uint32_t hi = 0, lo = 0;
  if (!r.ReadBe32(hi) || !r.ReadBe32(lo)) return false;
  out = (uint64_t{hi} << 32) | lo;
  return true;
}

void WriteBe64(ByteWriter& w, uint64_t v) {
  w.WriteBe32(static_cast<uint32_t>(v >> 32));
  w.WriteBe32(static_cast<uint32_t>(v));
}

std::optional<DocumentKind> ParseKind(uint8_t k) {
  if (k == 1) return DocumentKind::kRevocationList;
  if (k == 2) return DocumentKind::kNetworkConfig;
  return std::nullopt;
}

BodyResult DecodeCertificate(ByteSpan body, std::vector<Message>& out) {
  if (body.empty()) return Drop::kEmptyCertificate;
  out.emplace_back(CertificateMessage{Bytes(body.begin(), body.end())});
  return std::nullopt;
}

BodyResult DecodeCertificateRequest(ByteSpan body, std::vector<Message>& out) {
  if (!body.empty()) return Drop::kBadRequestSize;
  out.emplace_back(CertificateRequest{});
  return std::nullopt;
}

BodyResult DecodeVersions(ByteSpan body, std::vector<Message>& out) {
  if (body.size() != kVersionsBodySize) return Drop::kBadVersionsSize;
  ByteReader r(body);
  Versions v;
  (void)ReadBe64(r, v.crl_version);
  (void)ReadBe64(r, v.network_config_version);
  out.emplace_back(v);
  return std::nullopt;
}

// Reads kind and the three reserved bytes.
std::optional<DocumentKind> ReadKind(ByteReader& r) {
  uint8_t kind = 0;
  if (!r.ReadU8(kind) || !r.Skip(3)) return std::nullopt;
  return ParseKind(kind);
}

BodyResult DecodeDocumentRequest(ByteSpan body, std::vector<Message>& out) {
  if (body.size() != kDocumentRequestBodySize) return Drop::kBadRequestSize;
  ByteReader r(body);
  std::optional<DocumentKind> kind = ReadKind(r);
  if (!kind) return Drop::kUnknownDocumentKind;
  DocumentRequest request{.kind = *kind};
  (void)ReadBe64(r, request.version);
  out.emplace_back(request);
  return std::nullopt;
}

BodyResult CheckFragmentBounds(const DocumentFragment& f, size_t data_size) {
  if (f.total == 0 || f.total > kMaxDocumentSize) return Drop::kBadFragmentTotal;
  if (f.offset % kFragmentDataSize != 0 || f.offset >= f.total) return Drop::kBadFragmentOffset;
  if (data_size != std::min<size_t>(kFragmentDataSize, f.total - f.offset)) {
    return Drop::kBadFragmentLength;
  }
  return std::nullopt;
}

BodyResult DecodeDocumentFragment(ByteSpan body, std::vector<Message>& out) {
  if (body.size() <= kFragmentHeaderSize) return Drop::kBadFragmentSize;
  ByteReader r(body);
  std::optional<DocumentKind> kind = ReadKind(r);
  if (!kind) return Drop::kUnknownDocumentKind;
  DocumentFragment f;
  f.kind = *kind;
  (void)ReadBe64(r, f.version);
  (void)r.ReadBe32(f.total);
  (void)r.ReadBe32(f.offset);
  ByteSpan data = r.Rest();
  if (BodyResult drop = CheckFragmentBounds(f, data.size())) return drop;
  f.data.assign(data.begin(), data.end());
  out.emplace_back(std::move(f));
  return std::nullopt;
}

// Decodes one message body of a known type; nullopt result and no message
// appended means "unknown type, skipped".
BodyResult DecodeBody(uint8_t type, ByteSpan body, DecodedPayload& out) {
  switch (type) {
    case static_cast<uint8_t>(MessageType::kCertificate):
      return DecodeCertificate(body, out.messages);
    case static_cast<uint8_t>(MessageType::kCertificateRequest):
      return DecodeCertificateRequest(body, out.messages);
    case static_cast<uint8_t>(MessageType::kVersions):
      return DecodeVersions(body, out.messages);
    case static_cast<uint8_t>(MessageType::kDocumentRequest):
      return DecodeDocumentRequest(body, out.messages);
    case static_cast<uint8_t>(MessageType::kDocumentFragment):
      return DecodeDocumentFragment(body, out.messages);
    default:
      ++out.skipped_unknown;
      return std::nullopt;
  }
}

DecodedPayload Dropped(Drop drop) {
  DecodedPayload d;
  d.dropped = true;
  d.drop = drop;
  return d;
}

std::optional<Drop> CheckPacketHeader(ByteSpan payload, ByteReader& r) {
  if (payload.size() > kMaxPayloadSize) return Drop::kTooLarge;
  uint16_t magic = 0;
  uint8_t version = 0;
  if (!r.ReadBe16(magic) || !r.ReadU8(version) || !r.Skip(1)) return Drop::kTooShort;
  if (magic != kLinkControlMagic) return Drop::kBadMagic;
  if (version != kLinkControlVersion) return Drop::kUnsupportedVersion;
  if (r.remaining() == 0) return Drop::kNoMessages;
  return std::nullopt;
}

// One message header and body; the drop reason on failure.
std::optional<Drop> DecodeMessage(ByteReader& r, DecodedPayload& out) {
  uint8_t type = 0;
  uint16_t length = 0;
  if (!r.ReadU8(type) || !r.Skip(1) || !r.ReadBe16(length)) return Drop::kTruncatedHeader;
  ByteSpan body;
  if (!r.ReadSpan(length, body)) return Drop::kTruncatedBody;
  return DecodeBody(type, body, out);
}

MessageType TypeOf(const Message& m) {
  return std::visit(
      [](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, CertificateMessage>) return MessageType::kCertificate;
        if constexpr (std::is_same_v<T, CertificateRequest>) {
          return MessageType::kCertificateRequest;
        }
        if constexpr (std::is_same_v<T, Versions>) return MessageType::kVersions;
        if constexpr (std::is_same_v<T, DocumentRequest>) return MessageType::kDocumentRequest;
        if constexpr (std::is_same_v<T, DocumentFragment>) return MessageType::kDocumentFragment;
      },
      m);
}

void WriteKind(ByteWriter& w, DocumentKind kind) {
  w.WriteU8(static_cast<uint8_t>(kind));
  w.WriteU8(0);
  w.WriteBe16(0);
}

void WriteBody(ByteWriter& w, const Message& m) {
  if (const auto* c = std::get_if<CertificateMessage>(&m)) {
    w.WriteBytes(c->der);
  } else if (const auto* v = std::get_if<Versions>(&m)) {
    WriteBe64(w, v->crl_version);
    WriteBe64(w, v->network_config_version);
  } else if (const auto* q = std::get_if<DocumentRequest>(&m)) {
    WriteKind(w, q->kind);
    WriteBe64(w, q->version);
  } else if (const auto* f = std::get_if<DocumentFragment>(&m)) {
    WriteKind(w, f->kind);
    WriteBe64(w, f->version);
    w.WriteBe32(f->total);
    w.WriteBe32(f->offset);
    w.WriteBytes(f->data);
  }
}

void WritePacketHeader(Bytes& out) {
  ByteWriter w(out);
  w.WriteBe16(kLinkControlMagic);
  w.WriteU8(kLinkControlVersion);
  w.WriteU8(0);
}

void WriteMessage(Bytes& out, const Message& m) {
  ByteWriter w(out);
  w.WriteU8(static_cast<uint8_t>(TypeOf(m)));
  w.WriteU8(0);
  w.WriteBe16(static_cast<uint16_t>(EncodedBodySize(m)));
  WriteBody(w, m);
}

}  // namespace

std::string_view DocumentKindName(DocumentKind kind) {
  switch (kind) {
    case DocumentKind::kRevocationList:
      return "crl";
    case DocumentKind::kNetworkConfig:
      return "network_config";
  }
  return "unknown";
}

std::string_view LinkControlDropName(LinkControlDrop drop) {
  static constexpr std::string_view kNames[] = {
      "too_short",          "bad_magic",           "unsupported_version",   "too_large",
      "no_messages",        "truncated_header",    "truncated_body",        "empty_certificate",
      "bad_versions_size",  "bad_request_size",    "unknown_document_kind", "bad_fragment_size",
      "bad_fragment_total", "bad_fragment_offset", "bad_fragment_length",
  };
  static_assert(std::size(kNames) == kLinkControlDropCount);
  size_t i = static_cast<size_t>(drop);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

DecodedPayload DecodePayload(ByteSpan payload) {
  ByteReader r(payload);
  if (std::optional<Drop> drop = CheckPacketHeader(payload, r)) return Dropped(*drop);
  DecodedPayload out;
  while (r.remaining() > 0) {
    if (std::optional<Drop> drop = DecodeMessage(r, out)) return Dropped(*drop);
  }
  return out;
}

size_t EncodedBodySize(const Message& message) {
  if (const auto* c = std::get_if<CertificateMessage>(&message)) return c->der.size();
  if (std::holds_alternative<CertificateRequest>(message)) return 0;
  if (std::holds_alternative<Versions>(message)) return kVersionsBodySize;
  if (std::holds_alternative<DocumentRequest>(message)) return kDocumentRequestBodySize;
  return kFragmentHeaderSize + std::get<DocumentFragment>(message).data.size();
}

EncodedPayloads EncodePayloads(const std::vector<Message>& messages) {
  EncodedPayloads out;
  for (const Message& m : messages) {
    size_t size = kMessageHeaderSize + EncodedBodySize(m);
    if (size - kMessageHeaderSize > kMaxMessageBodySize) {
      ++out.oversized;
      continue;
    }
    if (out.payloads.empty() || out.payloads.back().size() + size > kMaxPayloadSize) {
      out.payloads.emplace_back();
      WritePacketHeader(out.payloads.back());
    }
    WriteMessage(out.payloads.back(), m);
  }
  return out;
}

Bytes EncodePayload(const Message& message) {
  EncodedPayloads e = EncodePayloads({message});
  return e.payloads.empty() ? Bytes() : std::move(e.payloads.front());
}

std::vector<DocumentFragment> FragmentDocument(DocumentKind kind, uint64_t version,
                                               ByteSpan document) {
  std::vector<DocumentFragment> out;
  if (document.empty() || document.size() > kMaxDocumentSize) return out;
  for (size_t offset = 0; offset < document.size(); offset += kFragmentDataSize) {
    ByteSpan data = document.subspan(offset, std::min(kFragmentDataSize, document.size() - offset));
    out.push_back(DocumentFragment{.kind = kind,
                                   .version = version,
                                   .total = static_cast<uint32_t>(document.size()),
                                   .offset = static_cast<uint32_t>(offset),
                                   .data = Bytes(data.begin(), data.end())});
  }
  return out;
}

}  // namespace plexus::mesh
