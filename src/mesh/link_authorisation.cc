#include "mesh/link_authorisation.h"

#include <algorithm>
#include <chrono>

namespace plexus::mesh {

using identity::CertificateRejection;
using identity::CertificateVerdict;

std::string_view LinkStateName(LinkState state) {
  switch (state) {
    case LinkState::kAwaitingCertificate:
      return "awaiting_certificate";
    case LinkState::kAuthorised:
      return "authorised";
    case LinkState::kRejected:
      return "rejected";
    case LinkState::kStaticLeaf:
      return "static_leaf";
  }
  return "unknown";
}

LinkAuthorisation::LinkAuthorisation(identity::Certificate ca, Bytes own_certificate_der,
                                     std::vector<crypto::PublicKey> static_leaves)
    : ca_(std::move(ca)),
      own_certificate_der_(std::move(own_certificate_der)),
      static_leaves_(static_leaves.begin(), static_leaves.end()) {}

void LinkAuthorisation::AddLink(uint32_t link, const crypto::PublicKey& key, Timestamp now) {
  Link& l = links_[link] = Link();
  l.key = key;
  if (static_leaves_.contains(key)) {
    l.state = LinkState::kStaticLeaf;
    Emit(link, l);
    return;
  }
  SendCertificate(link, l, now);
  SendRequest(link);
  l.next_send = now + l.resend_interval;
}

void LinkAuthorisation::RemoveLink(uint32_t link) {
  links_.erase(link);
}

void LinkAuthorisation::Receive(uint32_t link, const Message& message, Timestamp now,
                                int64_t now_unix) {
  const auto* cert = std::get_if<CertificateMessage>(&message);
  bool request = std::holds_alternative<CertificateRequest>(message);
  if (!cert && !request) return;
  auto it = links_.find(link);
  if (it == links_.end()) {
    ++counters_.unknown_link;
  } else if (it->second.state == LinkState::kStaticLeaf) {
    ++counters_.ignored_static_leaf;
  } else if (cert) {
    ReceiveCertificate(link, it->second, cert->der, now, now_unix);
  } else {
    ReceiveRequest(link, it->second, now);
  }
}

void LinkAuthorisation::ReceiveCertificate(uint32_t link, Link& l, ByteSpan der, Timestamp now,
                                           int64_t now_unix) {
  ++counters_.certificates_received;
  if (l.state == LinkState::kAuthorised && ConstantTimeEqual(der, l.peer_der)) {
    ++counters_.repeated_certificates;
    return;
  }
  Result<identity::Certificate> cert = identity::Certificate::FromDer(der);
  if (!cert) {
    ++counters_.malformed_certificates;
    return;
  }
  Judge(link, l, std::move(*cert), der, now, now_unix);
}

void LinkAuthorisation::ReceiveRequest(uint32_t link, Link& l, Timestamp now) {
  if (l.certificate_sent && now - l.last_certificate_sent < kMinCertificateInterval) {
    ++counters_.requests_rate_limited;
    return;
  }
  SendCertificate(link, l, now);
}

void LinkAuthorisation::Judge(uint32_t link, Link& l, identity::Certificate cert, ByteSpan der,
                              Timestamp now, int64_t now_unix) {
  CertificateVerdict verdict =
      identity::VerifyNodeCertificate(cert, ca_, now_unix, revoked_serials_, l.key);
  if (verdict.ok()) {
    Authorise(link, l, std::move(cert), der, now, now_unix);
  } else {
    Reject(link, l, verdict);
  }
}

void LinkAuthorisation::Authorise(uint32_t link, Link& l, identity::Certificate cert, ByteSpan der,
                                  Timestamp now, int64_t now_unix) {
  Result<int64_t> not_after = cert.NotAfterUnix();
  int64_t left = not_after ? std::max<int64_t>(*not_after - now_unix, 0) : 0;
  constexpr int64_t kCap =
      std::chrono::duration_cast<std::chrono::seconds>(kMaxTrackedValidity).count();
  l.expires_at = now + std::chrono::seconds(std::min(left, kCap));
  l.next_send = std::max(now, l.expires_at - kRenewalWindow);
  l.peer_certificate = std::move(cert);
  l.peer_der.assign(der.begin(), der.end());
  l.rejection = CertificateRejection::kNone;
  if (l.state == LinkState::kAuthorised) return;  // a renewed certificate
  l.state = LinkState::kAuthorised;
  Emit(link, l);
}

void LinkAuthorisation::Reject(uint32_t link, Link& l, const CertificateVerdict& verdict) {
  bool repeat = l.state == LinkState::kRejected && l.rejection == verdict.rejection;
  l.state = LinkState::kRejected;
  l.rejection = verdict.rejection;
  l.peer_certificate.reset();
  l.peer_der.clear();
  l.expires_at = Timestamp::Infinite();
  l.next_send = Timestamp::Infinite();
  if (repeat) return;  // the same refusal again: the node has acted on it already
  ++counters_.rejections;
  Emit(link, l, verdict.message);
}

void LinkAuthorisation::Recheck(uint32_t link, Link& l, Timestamp now, int64_t now_unix) {
  if (l.state != LinkState::kAuthorised) return;
  identity::Certificate cert = std::move(*l.peer_certificate);
  Bytes der = std::move(l.peer_der);
  Judge(link, l, std::move(cert), der, now, now_unix);
}

void LinkAuthorisation::UpdateRevocationList(const identity::RevocationList& crl, Timestamp now,
                                             int64_t now_unix) {
  revoked_serials_ = crl.serials();
  for (auto& [link, l] : links_) Recheck(link, l, now, now_unix);
}

void LinkAuthorisation::SetOwnCertificate(Bytes der, Timestamp now) {
  own_certificate_der_ = std::move(der);
  for (auto& [link, l] : links_) {
    if (l.state != LinkState::kStaticLeaf) SendCertificate(link, l, now);
  }
}

void LinkAuthorisation::TickLink(uint32_t link, Link& l, Timestamp now, int64_t now_unix) {
  if (l.state == LinkState::kAuthorised && now >= l.expires_at) Recheck(link, l, now, now_unix);
  if (now < l.next_send) return;
  if (l.state == LinkState::kAwaitingCertificate) {
    SendCertificate(link, l, now);
    SendRequest(link);
    l.resend_interval = std::min(l.resend_interval * 2, kCertificateResendMax);
    l.next_send = now + l.resend_interval;
  } else if (l.state == LinkState::kAuthorised) {
    SendRequest(link);  // the peer's certificate is close to its end: ask for a renewed one
    l.next_send = now + kRenewalRequestInterval;
  }
}

void LinkAuthorisation::Tick(Timestamp now, int64_t now_unix) {
  for (auto& [link, l] : links_) TickLink(link, l, now, now_unix);
}

Timestamp LinkAuthorisation::NextDeadline() const {
  Timestamp next = Timestamp::Infinite();
  for (const auto& [link, l] : links_) next = std::min({next, l.next_send, l.expires_at});
  return next;
}

AuthorisationOutput LinkAuthorisation::TakeOutput() {
  return std::exchange(output_, {});
}

void LinkAuthorisation::SendCertificate(uint32_t link, Link& l, Timestamp now) {
  output_.messages.push_back({link, CertificateMessage{own_certificate_der_}});
  l.last_certificate_sent = now;
  l.certificate_sent = true;
}

void LinkAuthorisation::SendRequest(uint32_t link) {
  output_.messages.push_back({link, CertificateRequest{}});
}

void LinkAuthorisation::Emit(uint32_t link, const Link& l, std::string message) {
  output_.events.push_back({.link = link,
                            .key = l.key,
                            .state = l.state,
                            .rejection = l.rejection,
                            .message = std::move(message)});
}

bool LinkAuthorisation::IsAuthorised(uint32_t link) const {
  std::optional<LinkState> s = State(link);
  return s == LinkState::kAuthorised || s == LinkState::kStaticLeaf;
}

std::optional<LinkState> LinkAuthorisation::State(uint32_t link) const {
  auto it = links_.find(link);
  if (it == links_.end()) return std::nullopt;
  return it->second.state;
}

CertificateRejection LinkAuthorisation::Rejection(uint32_t link) const {
  auto it = links_.find(link);
  return it == links_.end() ? CertificateRejection::kNone : it->second.rejection;
}

const identity::Certificate* LinkAuthorisation::PeerCertificate(uint32_t link) const {
  auto it = links_.find(link);
  if (it == links_.end() || !it->second.peer_certificate) return nullptr;
  return &*it->second.peer_certificate;
}

}  // namespace plexus::mesh
