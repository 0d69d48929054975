// DocumentFlood: the CRL and the network configuration travel from node to
// node (DESIGN.md §2.3: "a node that learns a newer version from a neighbour
// fetches and verifies it, and passes the version on").
//
//   link added, every kVersionsInterval ──> Versions(crl, config) to the link
//   Versions from a neighbour, newer than held ──> DocumentRequest to it
//        (one request per kind in flight; no answer within the timeout:
//         asked again, of any neighbour that announced it, with backoff)
//   DocumentRequest ──> our document as DocumentFragments (the same version
//        at most once per kMinDocumentInterval per link)
//   DocumentFragments ──reassembled──> decoded ──> VerifyRevocationList /
//        VerifyNetworkConfig against the CA key
//          ├─ accepted: stored, FloodEvent, Versions to every other link
//          └─ refused: counted by reason, the sender's claim forgotten,
//                      the next neighbour that announced it is asked
//
// Documents are signed by the CA, so they are accepted from any link,
// authorised or not: a node that was offline long enough to hold an old CRL
// learns the new one before its peers are judged by it.
//
// Threading: not thread-safe; one per node, on the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "base/bytes.h"
#include "base/time.h"
#include "identity/identity_key.h"
#include "identity/network_config.h"
#include "identity/revocation_list.h"
#include "identity/signed_document.h"
#include "mesh/constants.h"
#include "mesh/document_reassembly.h"
#include "mesh/link_authorisation.h"
#include "mesh/link_control_messages.h"

namespace plexus::mesh {

inline constexpr size_t kDocumentKindCount = 2;
inline constexpr size_t kDocumentRejectionCount =
    static_cast<size_t>(identity::DocumentRejection::kSameVersion) + 1;

// A newer document was accepted and is now held.
struct FloodEvent {
  DocumentKind kind = DocumentKind::kRevocationList;
  uint64_t version = 0;
};

struct FloodOutput {
  std::vector<LinkMessage> messages;
  std::vector<FloodEvent> events;
};

struct FloodCounters {
  uint64_t accepted = 0;
  // Reassembled documents refused by verification, by DocumentRejection.
  std::array<uint64_t, kDocumentRejectionCount> refused{};
  uint64_t undecodable = 0;       // reassembled bytes are not a signed document
  uint64_t version_mismatch = 0;  // authentic, but not the version its fragments claimed
  uint64_t stale_fragments = 0;   // fragments of a version not newer than held
  uint64_t reassembly_timeouts = 0;
  uint64_t requests_sent = 0;
  uint64_t requests_answered = 0;
  uint64_t requests_unanswerable = 0;  // asked for a version we do not hold
  uint64_t requests_rate_limited = 0;
  uint64_t unknown_link = 0;
};

class DocumentFlood {
 public:
  explicit DocumentFlood(const identity::IdentityPublicKey& ca_key);

  // A document from elsewhere (the state directory at start, the registry):
  // verified as one from a neighbour; when accepted, announced to every link.
  identity::DocumentVerdict Offer(const identity::SignedDocument& doc, Timestamp now);

  void AddLink(uint32_t link, Timestamp now);
  // Forgets the link; a request pending on it goes to another neighbour.
  void RemoveLink(uint32_t link, Timestamp now);
  // A decoded link-control message from `link`; Versions, DocumentRequest and
  // DocumentFragment are this class's, others are ignored.
  void Receive(uint32_t link, const Message& message, Timestamp now);

  void Tick(Timestamp now);
  Timestamp NextDeadline() const;
  FloodOutput TakeOutput();

  Versions versions() const;
  const identity::RevocationList& revocation_list() const { return crl_; }
  const std::optional<identity::NetworkConfig>& network_config() const { return config_; }
  // The held document of `kind`, for the state directory; null when none.
  const identity::SignedDocument* Held(DocumentKind kind) const;
  const FloodCounters& counters() const { return counters_; }

 private:
  struct Pending {
    uint32_t link = 0;
    uint64_t version = 0;
    Timestamp deadline;
  };
  struct Slot {
    std::optional<identity::SignedDocument> held;
    Bytes encoded;                           // EncodeSignedDocument(*held)
    std::map<uint32_t, uint64_t> announced;  // link -> the version it claims to hold
    std::optional<Pending> pending;
    Duration timeout = kRequestTimeoutInitial;
  };
  struct Link {
    std::array<DocumentReassembly, kDocumentKindCount> reassembly;
    std::array<Timestamp, kDocumentKindCount> last_answer{};
    std::array<uint64_t, kDocumentKindCount> answered_version{};  // 0: none yet
    Timestamp next_versions;
  };
  static constexpr uint32_t kNoLink = UINT32_MAX;

  void ReceiveVersions(uint32_t link, const Versions& v, Timestamp now);
  void ReceiveRequest(uint32_t link, Link& l, const DocumentRequest& q, Timestamp now);
  void ReceiveFragment(uint32_t link, Link& l, const DocumentFragment& f, Timestamp now);
  void Reassembled(uint32_t link, DocumentKind kind, uint64_t claimed, ByteSpan bytes,
                   Timestamp now);
  // Verifies `doc` as the next `kind` document and stores it when accepted.
  identity::DocumentVerdict Accept(DocumentKind kind, const identity::SignedDocument& doc,
                                   uint32_t from, Timestamp now);
  void Store(DocumentKind kind, const identity::SignedDocument& doc, uint32_t from, Timestamp now);
  void Refused(uint32_t link, DocumentKind kind, Timestamp now);
  void MaybeRequest(DocumentKind kind, Timestamp now);
  void TickPending(DocumentKind kind, Timestamp now);
  void TickLink(uint32_t link, Link& l, Timestamp now);
  void SendVersions(uint32_t link);

  Slot& slot(DocumentKind kind) { return slots_[static_cast<size_t>(kind) - 1]; }
  const Slot& slot(DocumentKind kind) const { return slots_[static_cast<size_t>(kind) - 1]; }
  uint64_t held_version(DocumentKind kind) const;

  identity::IdentityPublicKey ca_key_;
  std::array<Slot, kDocumentKindCount> slots_;
  identity::RevocationList crl_;
  std::optional<identity::NetworkConfig> config_;
  std::map<uint32_t, Link> links_;
  FloodOutput output_;
  FloodCounters counters_;
};

}  // namespace plexus::mesh
