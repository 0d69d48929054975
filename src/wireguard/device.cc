#include "wireguard/device.h"

#include <algorithm>

#include "base/log.h"

namespace plexus::wireguard {

Device::Device(crypto::PrivateKey private_key, Random& random, const Clock& wall_clock, size_t mtu)
    : identity_(std::move(private_key)),
      random_(random),
      ctx_{identity_, indices_, random, wall_clock, mtu},
      cookie_checker_(identity_.public_key) {}

Device::~Device() {
  peers_.clear();  // peers free their indices while indices_ still exists
}

Status Device::AddPeer(PeerConfig config, Timestamp now) {
  if (config.public_key == identity_.public_key) return MakeError("peer key is our own key");
  if (peers_.contains(config.public_key)) {
    return MakeError("peer {} already exists", config.public_key.ToBase64());
  }
  crypto::PublicKey key = config.public_key;
  peers_.emplace(key, std::make_unique<Peer>(ctx_, std::move(config), now));
  return Ok();
}

bool Device::RemovePeer(const crypto::PublicKey& peer) {
  if (peers_.erase(peer) == 0) return false;
  ++ctx_.generation;
  return true;
}

Status Device::SetEndpoint(const crypto::PublicKey& peer, const Endpoint& endpoint) {
  Peer* p = MutablePeer(peer);
  if (p == nullptr) return MakeError("unknown peer {}", peer.ToBase64());
  p->set_endpoint(endpoint);
  ++ctx_.generation;
  return Ok();
}

const Peer* Device::FindPeer(const crypto::PublicKey& peer) const {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.get();
}

Peer* Device::MutablePeer(const crypto::PublicKey& peer) {
  auto it = peers_.find(peer);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<crypto::PublicKey> Device::PeerKeys() const {
  std::vector<crypto::PublicKey> keys;
  for (const auto& [key, peer] : peers_) keys.push_back(key);
  return keys;
}

void Device::Count(Outputs& out) {
  if (!out.drop) return;
  ++drops_[static_cast<size_t>(*out.drop)];
  PLEXUS_LOG_DEBUG("wireguard: dropped datagram: {}", ToString(*out.drop));
}

Outputs Device::Receive(Timestamp now, ByteSpan datagram, const Endpoint& from, bool under_load) {
  Outputs out;
  Verdict<MessageType> type = ClassifyDatagram(datagram);
  if (!type) {
    out.drop = type.reason();
  } else if (*type == MessageType::kCookieReply) {
    ReceiveCookieReply(now, datagram, out);
  } else if (*type == MessageType::kTransport) {
    ReceiveTransport(now, datagram, from, out);
  } else {
    ReceiveHandshake(*type, now, datagram, from, under_load, out);
  }
  Count(out);
  return out;
}

// Whitepaper §5.3 / wireguard-go's RoutineHandshake: mac1 always; under load
// also mac2 (else send a cookie reply) and the per-source rate limit.
void Device::ReceiveHandshake(MessageType type, Timestamp now, ByteSpan datagram,
                              const Endpoint& from, bool under_load, Outputs& out) {
  MacState macs = cookie_checker_.Validate(datagram, from, under_load, now);
  if (macs == MacState::kInvalidMac1) {
    out.drop = DropReason::kBadMac1;
    return;
  }
  if (under_load && macs != MacState::kValidMac2) {
    uint32_t sender = LoadLe32(datagram.data() + 4);
    MessageCookieReply reply = cookie_checker_.CreateReply(datagram, sender, from, now, random_);
    ByteSpan bytes = AsSpan(reply);
    out.datagrams.push_back({from, Bytes(bytes.begin(), bytes.end())});
    out.drop = DropReason::kCookieRequired;
    return;
  }
  if (under_load && !rate_limiter_.Allow(from.address(), now)) {
    out.drop = DropReason::kRateLimited;
    return;
  }
  if (type == MessageType::kInitiation) {
    ReceiveInitiation(now, datagram, from, out);
  } else {
    ReceiveResponse(now, datagram, from, out);
  }
}

void Device::ReceiveInitiation(Timestamp now, ByteSpan datagram, const Endpoint& from,
                               Outputs& out) {
  auto msg = CopyMessage<MessageInitiation>(datagram);
  Peer* peer = nullptr;
  std::optional<crypto::PublicKey> admitted;
  auto find = [&](const crypto::PublicKey& key) -> Handshake* {
    peer = MutablePeer(key);
    if (peer == nullptr && admit_ && key != identity_.public_key && admit_(key)) {
      PeerConfig config;
      config.public_key = key;  // no endpoint but the initiation's, no keepalive
      peers_.emplace(key, std::make_unique<Peer>(ctx_, std::move(config), now));
      peer = MutablePeer(key);
      admitted = key;
    }
    return peer ? &peer->handshake() : nullptr;
  };
  Verdict<Handshake*> hs = ConsumeInitiation(msg, identity_, find, now);
  if (!hs) {
    // The initiator did not prove it holds the key: forget it again.
    if (admitted) peers_.erase(*admitted);
    out.drop = hs.reason();
    return;
  }
  if (admitted) out.admitted.push_back(*admitted);
  peer->OnInitiationConsumed(from, now, out);
}

void Device::ReceiveResponse(Timestamp now, ByteSpan datagram, const Endpoint& from, Outputs& out) {
  auto msg = CopyMessage<MessageResponse>(datagram);
  uint32_t index = GetLe32(msg.receiver_index);
  Peer* peer = indices_.Lookup(index);
  if (peer == nullptr || peer->handshake().local_index != index) {
    out.drop = DropReason::kUnexpectedResponse;
    return;
  }
  Verdict<Handshake*> hs = ConsumeResponse(msg, identity_, peer->handshake());
  if (!hs) {
    out.drop = hs.reason();
    return;
  }
  peer->OnResponseConsumed(from, now, out);
}

void Device::ReceiveCookieReply(Timestamp now, ByteSpan datagram, Outputs& out) {
  auto msg = CopyMessage<MessageCookieReply>(datagram);
  Peer* peer = indices_.Lookup(GetLe32(msg.receiver_index));
  if (peer == nullptr) {
    out.drop = DropReason::kUnknownReceiverIndex;
    return;
  }
  Verdict<bool> ok = peer->cookie().ConsumeReply(msg, now);
  if (!ok) out.drop = ok.reason();
}

void Device::ReceiveTransport(Timestamp now, ByteSpan datagram, const Endpoint& from,
                              Outputs& out) {
  std::shared_ptr<Keypair> keypair = KeypairByIndex(LoadLe32(datagram.data() + 4));
  if (!keypair) {
    out.drop = DropReason::kUnknownReceiverIndex;
    return;
  }
  Bytes plaintext(datagram.size() - kTransportOverhead);
  Verdict<size_t> n = keypair->Open(plaintext, datagram, now);
  if (!n) {
    out.drop = n.reason();
    return;
  }
  MutablePeer(keypair->peer())->OnTransportReceived(*keypair, from, *n, datagram.size(), now, out);
  if (*n > 0) out.packets.push_back({keypair->peer(), std::move(plaintext)});
}

Outputs Device::Send(const crypto::PublicKey& peer, ByteSpan packet, Timestamp now) {
  Outputs out;
  Peer* p = MutablePeer(peer);
  std::shared_ptr<Keypair> keypair = p ? p->SendingKeypair(now) : nullptr;
  if (!keypair) {
    if (p) p->OnPacketQueued(now, out);
    out.drop = DropReason::kNoKeypair;
    return out;
  }
  if (!p->endpoint()) {
    out.drop = DropReason::kNoEndpoint;
    return out;
  }
  Bytes message(Keypair::MessageSize(Keypair::PaddedSize(packet.size(), ctx_.mtu)));
  Verdict<size_t> size = keypair->Seal(message, packet, ctx_.mtu, now);
  if (!size) {
    out.drop = size.reason();
    p->OnPacketQueued(now, out);
    return out;
  }
  out.datagrams.push_back({*p->endpoint(), std::move(message), p->public_key()});
  p->OnTransportSent(*keypair, packet.size(), *size, now, out);
  return out;
}

Outputs Device::Rehandshake(const crypto::PublicKey& peer, Timestamp now) {
  Outputs out;
  if (Peer* p = MutablePeer(peer)) p->Rehandshake(now, out);
  return out;
}

Outputs Device::PacketQueued(const crypto::PublicKey& peer, Timestamp now) {
  Outputs out;
  if (Peer* p = MutablePeer(peer)) p->OnPacketQueued(now, out);
  return out;
}

Outputs Device::TransportSent(const Keypair& keypair, size_t plaintext_bytes, size_t message_bytes,
                              Timestamp now) {
  Outputs out;
  if (Peer* p = MutablePeer(keypair.peer())) {
    p->OnTransportSent(keypair, plaintext_bytes, message_bytes, now, out);
  }
  return out;
}

Outputs Device::TransportReceived(const Keypair& keypair, const Endpoint& from,
                                  size_t plaintext_bytes, size_t message_bytes, Timestamp now) {
  Outputs out;
  Peer* p = MutablePeer(keypair.peer());
  // A keypair the peer no longer holds (rotated out meanwhile) proves nothing new.
  if (p && p->KeypairByIndex(keypair.local_index()).get() == &keypair) {
    p->OnTransportReceived(keypair, from, plaintext_bytes, message_bytes, now, out);
  }
  return out;
}

Outputs Device::Tick(Timestamp now) {
  Outputs out;
  for (auto& [key, peer] : peers_) peer->Tick(now, out);
  return out;
}

Timestamp Device::NextDeadline() const {
  Timestamp next = Timestamp::Infinite();
  for (const auto& [key, peer] : peers_) next = std::min(next, peer->NextDeadline());
  return next;
}

std::shared_ptr<Keypair> Device::SendingKeypair(const crypto::PublicKey& peer,
                                                Timestamp now) const {
  const Peer* p = FindPeer(peer);
  return p ? p->SendingKeypair(now) : nullptr;
}

std::optional<Endpoint> Device::PeerEndpoint(const crypto::PublicKey& peer) const {
  const Peer* p = FindPeer(peer);
  return p ? p->endpoint() : std::nullopt;
}

std::shared_ptr<Keypair> Device::KeypairByIndex(uint32_t local_index) const {
  Peer* p = indices_.Lookup(local_index);
  return p ? p->KeypairByIndex(local_index) : nullptr;
}

std::vector<std::shared_ptr<Keypair>> Device::Keypairs() const {
  std::vector<std::shared_ptr<Keypair>> all;
  for (const auto& [key, peer] : peers_) {
    for (const auto* slot : {&peer->current(), &peer->previous(), &peer->next()}) {
      if (*slot) all.push_back(*slot);
    }
  }
  return all;
}

}  // namespace plexus::wireguard
