// LinkControl: everything a node says on UDP 6327 inside its links
// (DESIGN.md §2.2, §2.3), as one core for the node's control thread.
//
//   payload from a link ──DecodePayload──> messages ──> LinkAuthorisation (certificates)
//                            │ drop: counted               └> DocumentFlood (CRL, config)
//                            v                                     │ new CRL
//                        LinkControlDrop      LinkAuthorisation <──┘ (re-checks every peer)
//
//   TakeOutput(): payloads per link (messages packed up to kMaxPayloadSize),
//                 authorisation changes, newly accepted documents
//
// The node feeds it the UDP payloads of link-local packets to port 6327
// (node/link_local_udp.h), calls AddLink when a link's handshake completes,
// lets a link carry anything but link control only while IsAuthorised, and
// cuts links whose AuthorisationEvent says kRejected. Static WireGuard leaves
// get no link control at all.
//
// Time: `now` (monotonic) for timers, `now_unix` (wall clock) for certificate
// validity. Threading: not thread-safe; one per node, on the control thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <vector>

#include "base/bytes.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"
#include "identity/signed_document.h"
#include "mesh/document_flood.h"
#include "mesh/link_authorisation.h"
#include "mesh/link_control_messages.h"

namespace plexus::mesh {

struct LinkControlParams {
  identity::Certificate ca;                      // the network CA certificate
  Bytes own_certificate_der;                     // this node's certificate
  std::vector<crypto::PublicKey> static_leaves;  // standard WireGuard peers, by key
};

// A UDP 6327 payload to send on the link with this id.
struct LinkPayload {
  uint32_t link = 0;
  Bytes payload;
};

struct LinkControlOutput {
  std::vector<LinkPayload> payloads;
  std::vector<AuthorisationEvent> authorisation;
  std::vector<FloodEvent> documents;
};

struct LinkControlCounters {
  uint64_t payloads_received = 0;
  std::array<uint64_t, kLinkControlDropCount> drops{};  // by LinkControlDrop
  uint64_t skipped_unknown = 0;                         // messages of unknown types
  uint64_t oversized = 0;                               // messages too large to send
};

class LinkControl {
 public:
  explicit LinkControl(LinkControlParams params);

  void AddLink(uint32_t link, const crypto::PublicKey& key, Timestamp now);
  void RemoveLink(uint32_t link, Timestamp now);

  // A UDP 6327 payload from `link`; the reason when it was dropped.
  std::optional<LinkControlDrop> Receive(uint32_t link, ByteSpan payload, Timestamp now,
                                         int64_t now_unix);

  // A CRL or network config from elsewhere (state directory, registry).
  identity::DocumentVerdict OfferDocument(const identity::SignedDocument& doc, Timestamp now,
                                          int64_t now_unix);
  // This node's certificate was renewed.
  void SetOwnCertificate(Bytes der, Timestamp now);

  void Tick(Timestamp now, int64_t now_unix);
  Timestamp NextDeadline() const;
  LinkControlOutput TakeOutput();

  bool IsAuthorised(uint32_t link) const { return authorisation_.IsAuthorised(link); }
  const LinkAuthorisation& authorisation() const { return authorisation_; }
  const DocumentFlood& flood() const { return flood_; }
  const LinkControlCounters& counters() const { return counters_; }

 private:
  // Collects both cores' output; a newly accepted CRL re-checks every link.
  void Settle(Timestamp now, int64_t now_unix);
  void CollectAuthorisation();
  void Collect(std::vector<LinkMessage>&& messages);

  DocumentFlood flood_;  // before authorisation_: built from the CA before it moves there
  LinkAuthorisation authorisation_;
  std::vector<LinkMessage> messages_;
  LinkControlOutput output_;
  LinkControlCounters counters_;
};

}  // namespace plexus::mesh
