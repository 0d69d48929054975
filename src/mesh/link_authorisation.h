// LinkAuthorisation: may traffic other than link control pass on a link?
// (DESIGN.md §2.3.) A link is authorised only after its peer presented, over
// link control, a certificate that chains to the network CA, is within its
// validity period, is not revoked, and whose WireGuard key equals the key of
// the link's handshake (identity/verify.h checks all four). Standard WireGuard
// leaves, configured by key, are authorised without link control.
//
// Per link:
//
//   AddLink ──key is a static leaf──> kStaticLeaf   (no link control at all)
//      │
//      v
//   kAwaitingCertificate ── sends Certificate + CertificateRequest, resent with
//      │   │                backoff (kCertificateResendInitial .. Max)
//      │   └─ peer's certificate fails VerifyNodeCertificate ──> kRejected(reason)
//      v
//   kAuthorised ── CRL update revokes it ─────────────> kRejected(kRevoked)
//      │       ── notAfter reached ─────────────────────> kRejected(kExpired)
//      │       ── a new certificate that fails ───────────> kRejected(reason)
//      └─ within kRenewalWindow of notAfter: asks again every kRenewalRequestInterval
//         so a peer that renewed its certificate stays authorised
//
//   kRejected ── a certificate that verifies (a peer that renewed) ──> kAuthorised
//
// Every change of state is an AuthorisationEvent; the node lets traffic pass
// while IsAuthorised(link), and cuts a link that goes to kRejected. Requests
// for our certificate are answered in every state except kStaticLeaf, at most
// once per kMinCertificateInterval per link. The certificate a link is
// authorised by is not verified again when the peer repeats it (CRL updates
// and notAfter re-check it anyway).
//
// Time: `now` (monotonic) drives timers; `now_unix` (wall clock seconds) is
// what certificate validity is judged against.
// Threading: not thread-safe; one per node, on the control thread.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"
#include "identity/revocation_list.h"
#include "identity/verify.h"
#include "mesh/constants.h"
#include "mesh/link_control_messages.h"

namespace plexus::mesh {

enum class LinkState : uint8_t {
  kAwaitingCertificate,
  kAuthorised,
  kRejected,
  kStaticLeaf,
};

std::string_view LinkStateName(LinkState state);

// A link-control message to send on the link with this id (the node's peer index).
struct LinkMessage {
  uint32_t link = 0;
  Message message;
};

struct AuthorisationEvent {
  uint32_t link = 0;
  crypto::PublicKey key;  // the link's handshake key
  LinkState state = LinkState::kAwaitingCertificate;
  // For kRejected: why (identity/verify.h), and the verifier's message.
  identity::CertificateRejection rejection = identity::CertificateRejection::kNone;
  std::string message;
};

struct AuthorisationOutput {
  std::vector<LinkMessage> messages;
  std::vector<AuthorisationEvent> events;
};

struct AuthorisationCounters {
  uint64_t certificates_received = 0;
  uint64_t malformed_certificates = 0;  // not one DER certificate
  uint64_t rejections = 0;              // transitions to kRejected
  uint64_t unknown_link = 0;            // a message for a link never added
  uint64_t ignored_static_leaf = 0;     // link control from a static leaf
  uint64_t requests_rate_limited = 0;   // requests answered too recently
  uint64_t repeated_certificates = 0;   // the authorised certificate again: not re-verified
};

class LinkAuthorisation {
 public:
  // `own_certificate_der` is what peers get (at most kMaxCertificateSize bytes).
  LinkAuthorisation(identity::Certificate ca, Bytes own_certificate_der,
                    std::vector<crypto::PublicKey> static_leaves);

  // A link whose WireGuard handshake completed with `key`. Re-adding a link
  // starts it over.
  void AddLink(uint32_t link, const crypto::PublicKey& key, Timestamp now);
  void RemoveLink(uint32_t link);

  // A decoded link-control message from `link`; messages other than
  // Certificate and CertificateRequest are not this class's and are ignored.
  void Receive(uint32_t link, const Message& message, Timestamp now, int64_t now_unix);

  // A newer CRL: authorised links are checked again.
  void UpdateRevocationList(const identity::RevocationList& crl, Timestamp now, int64_t now_unix);
  // Our certificate was renewed: every link gets the new one.
  void SetOwnCertificate(Bytes der, Timestamp now);

  void Tick(Timestamp now, int64_t now_unix);
  Timestamp NextDeadline() const;
  AuthorisationOutput TakeOutput();

  bool IsAuthorised(uint32_t link) const;
  std::optional<LinkState> State(uint32_t link) const;
  identity::CertificateRejection Rejection(uint32_t link) const;
  // The verified certificate of an authorised peer (for its prefixes and
  // name); null otherwise.
  const identity::Certificate* PeerCertificate(uint32_t link) const;
  const AuthorisationCounters& counters() const { return counters_; }

 private:
  struct Link {
    crypto::PublicKey key;
    LinkState state = LinkState::kAwaitingCertificate;
    identity::CertificateRejection rejection = identity::CertificateRejection::kNone;
    std::optional<identity::Certificate> peer_certificate;
    Bytes peer_der;  // kAuthorised: the DER of peer_certificate, to skip repeats
    Timestamp expires_at = Timestamp::Infinite();  // kAuthorised: notAfter on our clock
    Timestamp next_send = Timestamp::Infinite();   // resend or renewal request
    Duration resend_interval = kCertificateResendInitial;
    Timestamp last_certificate_sent;
    bool certificate_sent = false;
  };

  void ReceiveCertificate(uint32_t link, Link& l, ByteSpan der, Timestamp now, int64_t now_unix);
  void ReceiveRequest(uint32_t link, Link& l, Timestamp now);
  void Judge(uint32_t link, Link& l, identity::Certificate cert, ByteSpan der, Timestamp now,
             int64_t now_unix);
  void Authorise(uint32_t link, Link& l, identity::Certificate cert, ByteSpan der, Timestamp now,
                 int64_t now_unix);
  void Reject(uint32_t link, Link& l, const identity::CertificateVerdict& verdict);
  void Recheck(uint32_t link, Link& l, Timestamp now, int64_t now_unix);
  void TickLink(uint32_t link, Link& l, Timestamp now, int64_t now_unix);
  void SendCertificate(uint32_t link, Link& l, Timestamp now);
  void SendRequest(uint32_t link);
  void Emit(uint32_t link, const Link& l, std::string message = {});

  identity::Certificate ca_;
  Bytes own_certificate_der_;
  std::set<crypto::PublicKey> static_leaves_;
  std::vector<std::string> revoked_serials_;
  std::map<uint32_t, Link> links_;
  AuthorisationOutput output_;
  AuthorisationCounters counters_;
};

}  // namespace plexus::mesh
