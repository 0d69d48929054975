#include "mesh/link_control.h"

#include <map>

namespace plexus::mesh {
namespace {

// The CA's Ed25519 key; an all-zero key (which verifies nothing) if the
// certificate has none, which the node has ruled out when it loaded the CA.
identity::IdentityPublicKey CaKey(const identity::Certificate& ca) {
  Result<identity::IdentityPublicKey> key = ca.SubjectPublicKey();
  return key ? *key : identity::IdentityPublicKey();
}

}  // namespace

LinkControl::LinkControl(LinkControlParams params)
    : flood_(CaKey(params.ca)),
      authorisation_(std::move(params.ca), std::move(params.own_certificate_der),
                     std::move(params.static_leaves)) {}

void LinkControl::AddLink(uint32_t link, const crypto::PublicKey& key, Timestamp now) {
  authorisation_.AddLink(link, key, now);
  if (authorisation_.State(link) != LinkState::kStaticLeaf) flood_.AddLink(link, now);
  CollectAuthorisation();
  Collect(flood_.TakeOutput().messages);  // no events: AddLink accepts no document
}

void LinkControl::RemoveLink(uint32_t link, Timestamp now) {
  authorisation_.RemoveLink(link);
  flood_.RemoveLink(link, now);
  Collect(flood_.TakeOutput().messages);  // a request moved to another link
}

std::optional<LinkControlDrop> LinkControl::Receive(uint32_t link, ByteSpan payload, Timestamp now,
                                                    int64_t now_unix) {
  ++counters_.payloads_received;
  DecodedPayload decoded = DecodePayload(payload);
  if (!decoded.ok()) {
    ++counters_.drops[static_cast<size_t>(decoded.drop)];
    return decoded.drop;
  }
  counters_.skipped_unknown += decoded.skipped_unknown;
  for (const Message& m : decoded.messages) {
    authorisation_.Receive(link, m, now, now_unix);
    flood_.Receive(link, m, now);
  }
  Settle(now, now_unix);
  return std::nullopt;
}

identity::DocumentVerdict LinkControl::OfferDocument(const identity::SignedDocument& doc,
                                                     Timestamp now, int64_t now_unix) {
  identity::DocumentVerdict verdict = flood_.Offer(doc, now);
  Settle(now, now_unix);
  return verdict;
}

void LinkControl::SetOwnCertificate(Bytes der, Timestamp now) {
  authorisation_.SetOwnCertificate(std::move(der), now);
  CollectAuthorisation();
}

void LinkControl::Tick(Timestamp now, int64_t now_unix) {
  authorisation_.Tick(now, now_unix);
  flood_.Tick(now);
  Settle(now, now_unix);
}

Timestamp LinkControl::NextDeadline() const {
  return std::min(authorisation_.NextDeadline(), flood_.NextDeadline());
}

void LinkControl::Settle(Timestamp now, int64_t now_unix) {
  FloodOutput flood = flood_.TakeOutput();
  Collect(std::move(flood.messages));
  for (const FloodEvent& e : flood.events) {
    output_.documents.push_back(e);
    if (e.kind == DocumentKind::kRevocationList) {
      authorisation_.UpdateRevocationList(flood_.revocation_list(), now, now_unix);
    }
  }
  CollectAuthorisation();
}

void LinkControl::CollectAuthorisation() {
  AuthorisationOutput auth = authorisation_.TakeOutput();
  Collect(std::move(auth.messages));
  for (AuthorisationEvent& e : auth.events) output_.authorisation.push_back(std::move(e));
}

void LinkControl::Collect(std::vector<LinkMessage>&& messages) {
  for (LinkMessage& m : messages) messages_.push_back(std::move(m));
}

LinkControlOutput LinkControl::TakeOutput() {
  std::map<uint32_t, std::vector<Message>> by_link;
  for (LinkMessage& m : messages_) by_link[m.link].push_back(std::move(m.message));
  messages_.clear();
  for (const auto& [link, messages] : by_link) {
    EncodedPayloads e = EncodePayloads(messages);
    counters_.oversized += e.oversized;
    for (Bytes& p : e.payloads) output_.payloads.push_back({link, std::move(p)});
  }
  return std::exchange(output_, {});
}

}  // namespace plexus::mesh
