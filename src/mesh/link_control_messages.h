// Link control wire format: the payloads of IPv6 link-local UDP port 6327
// inside a link (DESIGN.md §2.2). The node carries them in link-local UDP
// packets (node/link_local_udp.h); this file only builds and checks payloads.
//
// Every integer is big-endian. A payload is one packet header followed by one
// or more messages, back to back:
//
// Packet header, 4 bytes (kPacketHeaderSize):
//   0  magic    u16  0x504c ("PL")
//   2  version  u8   1 (kLinkControlVersion); another version is refused whole
//   3  reserved u8   0 when sent, ignored when received
//
// Message header, 4 bytes (kMessageHeaderSize), then `length` body bytes:
//   0  type     u8   MessageType; an unknown type is skipped by its length
//   1  reserved u8   0 when sent, ignored when received
//   2  length   u16  body bytes that follow
//
// Bodies:
//   Certificate (1), 1..kMaxCertificateSize bytes: the sender's DER node
//     certificate (identity/certificate.h), nothing else.
//   CertificateRequest (2), 0 bytes: "send me your certificate".
//   Versions (3), 16 bytes:
//     0  crl_version             u64   version of the CRL the sender holds (0: none)
//     8  network_config_version  u64   version of its network config (0: none)
//   DocumentRequest (4), 12 bytes:
//     0  kind      u8   DocumentKind
//     1  reserved  u8, u16
//     4  version   u64  the version announced by the receiver
//   DocumentFragment (5), 20 + n bytes, 1 <= n <= kFragmentDataSize:
//     0  kind      u8   DocumentKind
//     1  reserved  u8, u16
//     4  version   u64  the document's version (must match the document)
//    12  total     u32  whole document size, 1..kMaxDocumentSize
//    16  offset    u32  a multiple of kFragmentDataSize, < total
//    20  data      n    bytes [offset, offset + n) of the document;
//                       n = min(kFragmentDataSize, total - offset)
//   Types 6.. are reserved for peer records, observed endpoints, drain and
//   hole-punch rendezvous (DESIGN.md §2.7): decoders skip them today.
//
// A document is the text form of a signed document (EncodeSignedDocument in
// identity/signed_document.h), cut into fragments; a CRL with many serials
// does not fit in one payload. Reassembly lives in document_reassembly.h.
//
// Decoding is strict: a malformed message makes the whole payload a drop with
// a named LinkControlDrop (STYLE.md rule 12); unknown message types are not
// malformed. Thread use: pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "mesh/constants.h"

namespace plexus::mesh {

inline constexpr size_t kPacketHeaderSize = 4;
inline constexpr size_t kMessageHeaderSize = 4;
inline constexpr size_t kMaxMessageBodySize =
    kMaxPayloadSize - kPacketHeaderSize - kMessageHeaderSize;
inline constexpr size_t kMaxCertificateSize = kMaxMessageBodySize;
inline constexpr size_t kVersionsBodySize = 16;
inline constexpr size_t kDocumentRequestBodySize = 12;
inline constexpr size_t kFragmentHeaderSize = 20;
inline constexpr size_t kFragmentDataSize = kMaxMessageBodySize - kFragmentHeaderSize;

static_assert(kMaxMessageBodySize == 1224);
static_assert(kFragmentDataSize == 1204);
static_assert(kPacketHeaderSize + kMessageHeaderSize + kFragmentHeaderSize + kFragmentDataSize ==
              kMaxPayloadSize);
static_assert(kMaxDocumentSize <= UINT32_MAX);

enum class MessageType : uint8_t {
  kCertificate = 1,
  kCertificateRequest = 2,
  kVersions = 3,
  kDocumentRequest = 4,
  kDocumentFragment = 5,
  // 6 peer record, 7 observed endpoint, 8 drain: reserved, skipped today.
};

enum class DocumentKind : uint8_t {
  kRevocationList = 1,
  kNetworkConfig = 2,
};

std::string_view DocumentKindName(DocumentKind kind);

struct CertificateMessage {
  Bytes der;
  bool operator==(const CertificateMessage&) const = default;
};

struct CertificateRequest {
  bool operator==(const CertificateRequest&) const = default;
};

struct Versions {
  uint64_t crl_version = 0;
  uint64_t network_config_version = 0;
  bool operator==(const Versions&) const = default;
};

struct DocumentRequest {
  DocumentKind kind = DocumentKind::kRevocationList;
  uint64_t version = 0;
  bool operator==(const DocumentRequest&) const = default;
};

struct DocumentFragment {
  DocumentKind kind = DocumentKind::kRevocationList;
  uint64_t version = 0;
  uint32_t total = 0;
  uint32_t offset = 0;
  Bytes data;
  bool operator==(const DocumentFragment&) const = default;
};

using Message = std::variant<CertificateMessage, CertificateRequest, Versions, DocumentRequest,
                             DocumentFragment>;

// Every reason a payload is dropped. Names are stable (status JSON keys).
enum class LinkControlDrop : uint8_t {
  kTooShort,             // shorter than the packet header
  kBadMagic,             // not 0x504c
  kUnsupportedVersion,   // packet version is not kLinkControlVersion
  kTooLarge,             // longer than kMaxPayloadSize
  kNoMessages,           // a header and nothing after it
  kTruncatedHeader,      // fewer than 4 bytes left for a message header
  kTruncatedBody,        // length runs past the end of the payload
  kEmptyCertificate,     // Certificate with no bytes
  kBadVersionsSize,      // Versions body not 16 bytes
  kBadRequestSize,       // CertificateRequest with a body, DocumentRequest not 12
  kUnknownDocumentKind,  // DocumentRequest/DocumentFragment kind not 1 or 2
  kBadFragmentSize,      // DocumentFragment shorter than its header + 1
  kBadFragmentTotal,     // total is 0 or above kMaxDocumentSize
  kBadFragmentOffset,    // offset not a multiple of kFragmentDataSize, or >= total
  kBadFragmentLength,    // data length is not min(kFragmentDataSize, total - offset)
};

inline constexpr size_t kLinkControlDropCount =
    static_cast<size_t>(LinkControlDrop::kBadFragmentLength) + 1;

// snake_case, e.g. "bad_magic".
std::string_view LinkControlDropName(LinkControlDrop drop);

// A decoded payload, or the reason it was dropped.
struct [[nodiscard]] DecodedPayload {
  std::vector<Message> messages;
  size_t skipped_unknown = 0;  // messages of types this version does not know
  bool dropped = false;
  LinkControlDrop drop = LinkControlDrop::kTooShort;  // meaningful when dropped

  bool ok() const { return !dropped; }
};

DecodedPayload DecodePayload(ByteSpan payload);

// The body size of `message` on the wire (without its message header).
size_t EncodedBodySize(const Message& message);

// Packs `messages` in order into as few payloads as fit in kMaxPayloadSize
// each. Every message must be well formed (a certificate of at most
// kMaxCertificateSize bytes, fragments as DocumentFragments() makes them);
// an oversized message is left out (and counted in `oversized`).
struct EncodedPayloads {
  std::vector<Bytes> payloads;
  size_t oversized = 0;
};
EncodedPayloads EncodePayloads(const std::vector<Message>& messages);

// One payload holding exactly `message` (empty when oversized).
Bytes EncodePayload(const Message& message);

// `document` (at most kMaxDocumentSize bytes) cut into fragments.
std::vector<DocumentFragment> FragmentDocument(DocumentKind kind, uint64_t version,
                                               ByteSpan document);

}  // namespace plexus::mesh
