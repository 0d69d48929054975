// Node: identity and link control (DESIGN.md §2.2, §2.3), with [identity].
//
//   handshake with a configured mesh peer ──┐
//   initiation from an unknown key, admitted ┴─> LinkControl::AddLink
//        │ (only UDP 6327 passes on the link: RxWorker, LinkSender, HandleLinkLocal)
//        v
//   certificate verified ──> kAuthorised: Babel starts on the link, its
//        │                   certificate's blocks filter the routes it originates
//        v
//   revoked / expired / bad ──> kRejected: Babel stops on the link (its routes
//                               are retracted); an admitted peer is removed
//
// CRLs and network configs that arrive (from neighbours or the registry) are
// written to the state directory, so a restarted node starts from them.
#include <algorithm>

#include "base/log.h"
#include "node/link_local_udp.h"
#include "node/node.h"

namespace plexus::node {

namespace {

// An admitted key has this long to present a valid certificate.
constexpr Duration kAdmissionTimeout = std::chrono::seconds(30);
// A key whose certificate was refused is not admitted again for this long.
constexpr Duration kRefusalHold = std::chrono::seconds(60);
// An admitted peer whose certificate was refused is removed after this long.
constexpr Duration kRefusedGrace = std::chrono::seconds(2);
// Configured mesh links start link control within this long of the start.
constexpr Duration kLinkStartJitter = std::chrono::milliseconds(300);

bool AnyContains(const std::vector<Prefix>& blocks, const Prefix& p) {
  return std::any_of(blocks.begin(), blocks.end(), [&](const Prefix& b) { return b.Contains(p); });
}

}  // namespace

Status Node::StartLinkControl(const Config& config, Timestamp now) {
  if (!identity_config_) return Ok();
  Result<NodeIdentity> id =
      LoadNodeIdentity(identity_config_->dir, device_->public_key(), UnixNow());
  if (!id) return id.error().Wrap("[identity]");
  identity_ = std::move(*id);
  Result<std::vector<Prefix>> blocks = identity_->certificate.IpAddressBlocks();
  if (!blocks) return blocks.error().Wrap(identity_->dir + "/node.crt");
  own_blocks_ = std::move(*blocks);
  for (const Prefix& p : announced_) {
    if (!AnyContains(own_blocks_, p)) {
      PLEXUS_LOG_WARNING(
          "[babel] announce {}: outside this node's certificate blocks; peers "
          "will refuse the route",
          p.ToString());
    }
  }
  mesh::LinkControlParams params{identity_->ca.Clone(), identity_->certificate_der, {}};
  for (const PeerConfig& p : config.peers) {
    if (!p.allowed_prefixes.empty()) params.static_leaves.push_back(p.public_key);
  }
  link_control_ = std::make_unique<mesh::LinkControl>(std::move(params));
  const int64_t unix_now = UnixNow();
  for (const auto* doc : {&identity_->crl, &identity_->network_config}) {
    if (!*doc) continue;
    identity::DocumentVerdict verdict = link_control_->OfferDocument(**doc, now, unix_now);
    if (!verdict) {
      PLEXUS_LOG_WARNING("{}: {} in the state directory: {}", identity_->dir, (*doc)->kind,
                         verdict.message);
    }
  }
  // A configured mesh link starts after a random delay (as Babel's did
  // without an identity, router.h): two nodes started together would
  // otherwise open crossed handshakes and both wait out a REKEY_TIMEOUT.
  const auto jitter_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(kLinkStartJitter).count());
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (IsMesh(i)) {
      link_starts_[i] = now + std::chrono::microseconds(random_.Uniform(jitter_us));
    } else {
      link_control_->AddLink(i, slots_[i]->public_key, now);  // a static leaf
    }
  }
  if (identity_config_->accept_unknown) {
    device_->SetAdmission([this](const crypto::PublicKey& key) { return MayAdmit(key); });
  }
  RebuildOriginFilters();
  PLEXUS_LOG_INFO("identity: {} of network {}; links are authorised by certificate",
                  identity_->name, identity_->network);
  return Ok();
}

bool Node::Authorised(uint32_t peer) const {
  if (retired_[peer]) return false;
  if (!link_control_ || !IsMesh(peer)) return true;
  return link_control_->IsAuthorised(peer);
}

int64_t Node::UnixNow() const {
  return clock_.WallNow().seconds;
}

void Node::StartLinks(Timestamp now, std::optional<uint32_t> early) {
  for (auto it = link_starts_.begin(); it != link_starts_.end();) {
    if (it->second > now && it->first != early) {
      ++it;
      continue;
    }
    link_control_->AddLink(it->first, slots_[it->first]->public_key, now);
    it = link_starts_.erase(it);
  }
}

void Node::HandleLinkControl(uint32_t peer, ByteSpan payload, Timestamp now) {
  StartLinks(now, peer);
  if (std::optional<mesh::LinkControlDrop> drop =
          link_control_->Receive(peer, payload, now, UnixNow())) {
    PLEXUS_LOG_DEBUG("link control from peer {}: dropped: {}", peer,
                     mesh::LinkControlDropName(*drop));
  }
  DriveLinkControl(now);
}

void Node::TickLinkControl(Timestamp now) {
  StartLinks(now);
  link_control_->Tick(now, UnixNow());
  std::erase_if(refused_, [&](const auto& r) { return r.second.until <= now; });
  for (auto it = pending_.begin(); it != pending_.end();) {
    const uint32_t peer = it->first;
    const Timestamp until = it->second;
    ++it;
    if (until > now) continue;
    if (!refused_.contains(slots_[peer]->public_key)) {
      PLEXUS_LOG_INFO("peer {} showed no valid certificate within {} s: removed",
                      slots_[peer]->public_key.ToBase64(),
                      std::chrono::duration_cast<std::chrono::seconds>(kAdmissionTimeout).count());
    }
    RetirePeer(peer, now);
  }
  DriveLinkControl(now);
}

void Node::DriveLinkControl(Timestamp now) {
  mesh::LinkControlOutput out = link_control_->TakeOutput();
  for (const mesh::AuthorisationEvent& e : out.authorisation) OnAuthorisation(e, now);
  for (const mesh::FloodEvent& e : out.documents) OnDocument(e);
  wireguard::Outputs sent;
  for (const mesh::LinkPayload& p : out.payloads) {
    if (p.link >= slots_.size() || retired_[p.link]) continue;
    const Bytes packet =
        BuildLinkLocalUdp(router_->link_local(), LinkLocalAddress(slots_[p.link]->public_key),
                          mesh::kLinkControlPort, p.payload);
    SendOnLink(p.link, packet, now, sent.datagrams);
  }
  // Babel may have started or stopped on a link.
  DriveRouter(now);
  Apply(std::move(sent));
}

void Node::OnAuthorisation(const mesh::AuthorisationEvent& e, Timestamp now) {
  if (e.link >= slots_.size() || retired_[e.link]) return;
  const identity::Certificate* cert = link_control_->authorisation().PeerCertificate(e.link);
  switch (e.state) {
    case mesh::LinkState::kAuthorised:
      PLEXUS_LOG_INFO("link {} to {} authorised", e.link,
                      cert != nullptr ? cert->SubjectCommonName() : e.key.ToBase64());
      pending_.erase(e.link);
      if (!router_->HasLink(e.link)) router_->AddLink(e.link, now);
      break;
    case mesh::LinkState::kRejected:
      PLEXUS_LOG_WARNING("link {} to {} refused: {}: {}", e.link, e.key.ToBase64(),
                         identity::CertificateRejectionName(e.rejection), e.message);
      router_->RemoveLink(e.link, now);
      if (admitted_[e.link]) {
        refused_[e.key] = {now + kRefusalHold,
                           std::string(identity::CertificateRejectionName(e.rejection))};
        // Removed shortly, not at once: our own certificate (staged until
        // the session is confirmed) still reaches the peer, so it can tell
        // why it is refused.
        pending_[e.link] = now + kRefusedGrace;
      }
      break;
    case mesh::LinkState::kAwaitingCertificate:
    case mesh::LinkState::kStaticLeaf:
      break;
  }
  RebuildOriginFilters();
  Publish();
}

void Node::OnDocument(const mesh::FloodEvent& e) {
  PLEXUS_LOG_INFO("identity: {} version {} accepted", mesh::DocumentKindName(e.kind), e.version);
  if (const identity::SignedDocument* doc = link_control_->flood().Held(e.kind)) {
    if (Status s = SaveDocument(identity_->dir, *doc); !s) {
      PLEXUS_LOG_WARNING("identity: keeping {}: {}", mesh::DocumentKindName(e.kind),
                         s.error().message());
    }
  }
  if (e.kind == mesh::DocumentKind::kNetworkConfig) RebuildOriginFilters();
}

bool Node::MayAdmit(const crypto::PublicKey& key) const {
  auto refused = refused_.find(key);
  if (refused != refused_.end() && refused->second.until > clock_.Now()) return false;
  return pending_.size() < static_cast<size_t>(identity_config_->max_pending_links);
}

void Node::AdmitPeer(const crypto::PublicKey& key, Timestamp now) {
  const uint32_t peer = AddSlot(key, {}, 0, true);
  pending_[peer] = now + kAdmissionTimeout;
  link_control_->AddLink(peer, key, now);
  PLEXUS_LOG_INFO("peer {} connected; awaiting its certificate", key.ToBase64());
  DriveLinkControl(now);
}

// An admitted peer is forgotten: its session, its Babel interface, its link
// control. The index is reused by the next admission.
void Node::RetirePeer(uint32_t peer, Timestamp now) {
  const crypto::PublicKey key = slots_[peer]->public_key;
  pending_.erase(peer);
  router_->RemoveLink(peer, now);
  link_control_->RemoveLink(peer, now);
  device_->RemovePeer(key);
  DropStaged(key);
  peer_index_.erase(key);
  retired_[peer] = true;
  Publish();
}

void Node::RebuildOriginFilters() {
  origins_.clear();
  const std::optional<identity::NetworkConfig>& config = link_control_->flood().network_config();
  for (uint32_t i = 0; i < slots_.size(); ++i) {
    if (retired_[i] || !IsMesh(i) || !link_control_->IsAuthorised(i)) continue;
    const identity::Certificate* cert = link_control_->authorisation().PeerCertificate(i);
    if (cert == nullptr) continue;
    Result<mesh::OriginFilter> filter =
        mesh::OriginFilter::ForCertificate(*cert, config ? &*config : nullptr);
    Result<std::vector<Prefix>> blocks = cert->IpAddressBlocks();
    if (!filter || !blocks) continue;  // verified certificates have blocks
    origins_.insert_or_assign(RouterIdOf(slots_[i]->public_key),
                              Origin{std::move(*filter), std::move(*blocks)});
  }
}

// DESIGN.md §2.3: a route is accepted only inside its originator's blocks (or
// grants). The originators judged here are the authorised neighbours, whose
// certificates this node verified; a route from farther away was judged the
// same way where it entered the mesh, and is refused here only when it claims
// a prefix inside the blocks of a node whose certificate this node holds
// (its own included).
bool Node::AcceptRoute(const babel::RouterId& origin, const babel::Destination& d) const {
  auto it = origins_.find(origin);
  if (it != origins_.end()) return it->second.filter.Accepts(d.prefix, d.source_prefix);
  if (AnyContains(own_blocks_, d.prefix)) return false;
  return std::none_of(origins_.begin(), origins_.end(),
                      [&](const auto& o) { return AnyContains(o.second.blocks, d.prefix); });
}

void Node::StartRegistryAgent() {
  RegistryAgentParams params;
  params.state_dir = identity_->dir;
  params.interval = std::chrono::duration_cast<Duration>(
      std::chrono::duration<double>(identity_config_->registry_interval_s));
  params.listen_port = udp_->local_port();
  params.exclude = networks_;
  for (const Prefix& a : addresses_) params.exclude.push_back(a.Network());
  params.exclude_interface = tun_->name();
  Result<std::unique_ptr<RegistryAgent>> agent = RegistryAgent::Create(params, *this);
  if (!agent) {
    PLEXUS_LOG_WARNING("identity: no registry agent (no heartbeats, no renewal): {}",
                       agent.error().message());
    return;
  }
  registry_agent_ = std::move(*agent);
  registry_agent_->Start();
}

void Node::RegistryDocument(identity::SignedDocument doc) {
  loop_.Post([this, doc = std::move(doc)] {
    const Timestamp now = clock_.Now();
    identity::DocumentVerdict verdict = link_control_->OfferDocument(doc, now, UnixNow());
    if (!verdict) PLEXUS_LOG_DEBUG("registry {}: {}", doc.kind, verdict.message);
    DriveLinkControl(now);
  });
}

void Node::CertificateRenewed(Bytes der) {
  loop_.Post([this, der = std::move(der)] {
    Result<identity::Certificate> cert = identity::Certificate::FromDer(der);
    if (!cert) return;
    PLEXUS_LOG_INFO("identity: certificate renewed: serial {}", cert->SerialHex());
    identity_->certificate = std::move(*cert);
    identity_->certificate_der = der;
    const Timestamp now = clock_.Now();
    link_control_->SetOwnCertificate(der, now);
    DriveLinkControl(now);
  });
}

nlohmann::json Node::AuthorisationJson(uint32_t peer) const {
  if (!link_control_) return nullptr;
  const mesh::LinkAuthorisation& a = link_control_->authorisation();
  std::optional<mesh::LinkState> state = a.State(peer);
  if (!state) return nullptr;
  nlohmann::json j{{"state", mesh::LinkStateName(*state)}};
  if (*state == mesh::LinkState::kRejected) {
    j["reason"] = identity::CertificateRejectionName(a.Rejection(peer));
  }
  if (const identity::Certificate* cert = a.PeerCertificate(peer)) {
    j["name"] = cert->SubjectCommonName();
    j["serial"] = cert->SerialHex();
    if (Result<int64_t> not_after = cert->NotAfterUnix()) j["not_after_unix"] = *not_after;
  }
  return j;
}

// Keys that connected to us and were refused, while they are held off: a
// revoked node shows here once it is cut.
nlohmann::json Node::Refused() const {
  nlohmann::json list = nlohmann::json::array();
  const Timestamp now = clock_.Now();
  for (const auto& [key, r] : refused_) {
    if (r.until <= now) continue;
    list.push_back({{"public_key", key.ToBase64()}, {"reason", r.reason}});
  }
  return list;
}

nlohmann::json Node::IdentityJson() const {
  const mesh::Versions v = link_control_->flood().versions();
  const mesh::AuthorisationCounters& a = link_control_->authorisation().counters();
  const mesh::LinkControlCounters& c = link_control_->counters();
  nlohmann::json j{
      {"name", identity_->name},
      {"network", identity_->network},
      {"dir", identity_->dir},
      {"serial", identity_->certificate.SerialHex()},
      {"crl_version", v.crl_version},
      {"config_version", v.network_config_version},
      {"pending_links", pending_.size()},
      {"refused", Refused()},
      {"counters",
       {{"link_control_payloads", c.payloads_received},
        {"certificates_received", a.certificates_received},
        {"rejections", a.rejections},
        {"documents_accepted", link_control_->flood().counters().accepted}}},
  };
  if (Result<int64_t> not_after = identity_->certificate.NotAfterUnix()) {
    j["certificate_not_after"] = *not_after;
  }
  if (registry_agent_) {
    const RegistryAgent::Status r = registry_agent_->status();
    j["registry"] = {{"reachable", r.reachable},   {"last_contact_unix", r.last_contact_unix},
                     {"last_error", r.last_error}, {"heartbeats_sent", r.heartbeats_sent},
                     {"renewals", r.renewals},     {"next_renewal_unix", r.next_renewal_unix}};
  } else {
    j["registry"] = nullptr;
  }
  return j;
}

}  // namespace plexus::node
