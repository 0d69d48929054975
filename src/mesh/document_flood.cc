#include "mesh/document_flood.h"

#include <algorithm>

namespace plexus::mesh {

using identity::DocumentRejection;
using identity::DocumentVerdict;
using identity::SignedDocument;

namespace {

size_t Index(DocumentKind kind) {
  return static_cast<size_t>(kind) - 1;
}

constexpr std::array<DocumentKind, kDocumentKindCount> kKinds = {DocumentKind::kRevocationList,
                                                                 DocumentKind::kNetworkConfig};

bool Known(DocumentKind kind) {
  return kind == DocumentKind::kRevocationList || kind == DocumentKind::kNetworkConfig;
}

std::optional<DocumentKind> KindOf(std::string_view kind) {
  if (kind == identity::kRevocationListKind) return DocumentKind::kRevocationList;
  if (kind == identity::kNetworkConfigKind) return DocumentKind::kNetworkConfig;
  return std::nullopt;
}

}  // namespace

DocumentFlood::DocumentFlood(const identity::IdentityPublicKey& ca_key) : ca_key_(ca_key) {}

DocumentVerdict DocumentFlood::Offer(const SignedDocument& doc, Timestamp now) {
  std::optional<DocumentKind> kind = KindOf(doc.kind);
  if (!kind) return identity::Reject(DocumentRejection::kWrongKind, "not a CRL or network config");
  return Accept(*kind, doc, kNoLink, now);
}

void DocumentFlood::AddLink(uint32_t link, Timestamp now) {
  links_[link] = Link{};
  SendVersions(link);
  links_[link].next_versions = now + kVersionsInterval;
}

void DocumentFlood::RemoveLink(uint32_t link, Timestamp now) {
  links_.erase(link);
  for (DocumentKind kind : kKinds) {
    Slot& s = slot(kind);
    s.announced.erase(link);
    if (s.pending && s.pending->link == link) s.pending.reset();
    MaybeRequest(kind, now);
  }
}

void DocumentFlood::Receive(uint32_t link, const Message& message, Timestamp now) {
  bool ours = std::holds_alternative<Versions>(message) ||
              std::holds_alternative<DocumentRequest>(message) ||
              std::holds_alternative<DocumentFragment>(message);
  if (!ours) return;
  const auto* q = std::get_if<DocumentRequest>(&message);
  const auto* f = std::get_if<DocumentFragment>(&message);
  if ((q && !Known(q->kind)) || (f && !Known(f->kind))) return;  // DecodePayload never makes these
  auto it = links_.find(link);
  if (it == links_.end()) {
    ++counters_.unknown_link;
  } else if (const auto* v = std::get_if<Versions>(&message)) {
    ReceiveVersions(link, *v, now);
  } else if (q) {
    ReceiveRequest(link, it->second, *q, now);
  } else {
    ReceiveFragment(link, it->second, *f, now);
  }
}

void DocumentFlood::ReceiveVersions(uint32_t link, const Versions& v, Timestamp now) {
  slot(DocumentKind::kRevocationList).announced[link] = v.crl_version;
  slot(DocumentKind::kNetworkConfig).announced[link] = v.network_config_version;
  for (DocumentKind kind : kKinds) MaybeRequest(kind, now);
}

void DocumentFlood::ReceiveRequest(uint32_t link, Link& l, const DocumentRequest& q,
                                   Timestamp now) {
  const Slot& s = slot(q.kind);
  size_t k = Index(q.kind);
  if (!s.held || s.held->version < q.version) {
    ++counters_.requests_unanswerable;
    return;
  }
  // The same document again so soon: the fragments already sent are still on their way.
  if (l.answered_version[k] == s.held->version && now - l.last_answer[k] < kMinDocumentInterval) {
    ++counters_.requests_rate_limited;
    return;
  }
  l.answered_version[k] = s.held->version;
  l.last_answer[k] = now;
  ++counters_.requests_answered;
  for (DocumentFragment& f : FragmentDocument(q.kind, s.held->version, s.encoded)) {
    output_.messages.push_back({link, std::move(f)});
  }
}

void DocumentFlood::ReceiveFragment(uint32_t link, Link& l, const DocumentFragment& f,
                                    Timestamp now) {
  if (f.version <= held_version(f.kind)) {
    ++counters_.stale_fragments;
    return;
  }
  std::optional<Bytes> document = l.reassembly[Index(f.kind)].Add(f, now);
  if (document) Reassembled(link, f.kind, f.version, *document, now);
}

void DocumentFlood::Reassembled(uint32_t link, DocumentKind kind, uint64_t claimed, ByteSpan bytes,
                                Timestamp now) {
  Result<SignedDocument> doc = identity::DecodeSignedDocument(AsChars(bytes));
  if (!doc) {
    ++counters_.undecodable;
    return Refused(link, kind, now);
  }
  if (doc->version != claimed) {
    ++counters_.version_mismatch;
    return Refused(link, kind, now);
  }
  DocumentVerdict verdict = Accept(kind, *doc, link, now);
  if (!verdict.ok()) {
    ++counters_.refused[static_cast<size_t>(verdict.rejection)];
    Refused(link, kind, now);
  }
}

DocumentVerdict DocumentFlood::Accept(DocumentKind kind, const SignedDocument& doc, uint32_t from,
                                      Timestamp now) {
  uint64_t held = held_version(kind);
  if (kind == DocumentKind::kRevocationList) {
    identity::VerifiedRevocationList v = identity::VerifyRevocationList(doc, ca_key_, held);
    if (!v.verdict.ok()) return v.verdict;
    crl_ = std::move(v.list);
  } else {
    identity::VerifiedNetworkConfig v = identity::VerifyNetworkConfig(doc, ca_key_, held);
    if (!v.verdict.ok()) return v.verdict;
    config_ = std::move(v.config);
  }
  Store(kind, doc, from, now);
  return {};
}

void DocumentFlood::Store(DocumentKind kind, const SignedDocument& doc, uint32_t from,
                          Timestamp now) {
  Slot& s = slot(kind);
  s.held = doc;
  std::string text = identity::EncodeSignedDocument(doc);
  s.encoded.assign(AsBytes(text).begin(), AsBytes(text).end());
  ++counters_.accepted;
  output_.events.push_back({kind, doc.version});
  for (const auto& [link, l] : links_) {
    if (link != from) SendVersions(link);
  }
  if (s.pending && s.pending->version <= doc.version) {
    s.pending.reset();
    s.timeout = kRequestTimeoutInitial;
  }
  MaybeRequest(kind, now);
}

// The sender's document was refused: forget its claim and ask another
// neighbour that announced the version, if any.
void DocumentFlood::Refused(uint32_t link, DocumentKind kind, Timestamp now) {
  Slot& s = slot(kind);
  s.announced.erase(link);
  if (s.pending && s.pending->link == link) s.pending.reset();
  MaybeRequest(kind, now);
}

void DocumentFlood::MaybeRequest(DocumentKind kind, Timestamp now) {
  Slot& s = slot(kind);
  if (s.pending) return;
  uint64_t best = held_version(kind);
  uint32_t from = kNoLink;
  for (const auto& [link, version] : s.announced) {
    if (version > best) std::tie(best, from) = std::tie(version, link);
  }
  if (from == kNoLink) return;
  output_.messages.push_back({from, DocumentRequest{.kind = kind, .version = best}});
  ++counters_.requests_sent;
  s.pending = Pending{.link = from, .version = best, .deadline = now + s.timeout};
}

void DocumentFlood::TickPending(DocumentKind kind, Timestamp now) {
  Slot& s = slot(kind);
  if (!s.pending || now < s.pending->deadline) return;
  s.pending.reset();
  s.timeout = std::min(s.timeout * 2, kRequestTimeoutMax);
  MaybeRequest(kind, now);
}

void DocumentFlood::TickLink(uint32_t link, Link& l, Timestamp now) {
  for (DocumentReassembly& r : l.reassembly) {
    if (r.active() && now >= r.Deadline()) {
      r.Expire(now);
      ++counters_.reassembly_timeouts;
    }
  }
  if (now < l.next_versions) return;
  SendVersions(link);
  l.next_versions = now + kVersionsInterval;
}

void DocumentFlood::Tick(Timestamp now) {
  for (auto& [link, l] : links_) TickLink(link, l, now);
  for (DocumentKind kind : kKinds) TickPending(kind, now);
}

Timestamp DocumentFlood::NextDeadline() const {
  Timestamp next = Timestamp::Infinite();
  for (const auto& [link, l] : links_) {
    next = std::min(next, l.next_versions);
    for (const DocumentReassembly& r : l.reassembly) next = std::min(next, r.Deadline());
  }
  for (const Slot& s : slots_) {
    if (s.pending) next = std::min(next, s.pending->deadline);
  }
  return next;
}

FloodOutput DocumentFlood::TakeOutput() {
  return std::exchange(output_, {});
}

Versions DocumentFlood::versions() const {
  return Versions{.crl_version = held_version(DocumentKind::kRevocationList),
                  .network_config_version = held_version(DocumentKind::kNetworkConfig)};
}

const SignedDocument* DocumentFlood::Held(DocumentKind kind) const {
  const Slot& s = slot(kind);
  return s.held ? &*s.held : nullptr;
}

uint64_t DocumentFlood::held_version(DocumentKind kind) const {
  const Slot& s = slot(kind);
  return s.held ? s.held->version : 0;
}

void DocumentFlood::SendVersions(uint32_t link) {
  output_.messages.push_back({link, versions()});
}

}  // namespace plexus::mesh
