#include "wireguard/peer.h"

#include <algorithm>

#include "base/log.h"
#include "wireguard/constants.h"

namespace plexus::wireguard {

Peer::Peer(DeviceContext& ctx, PeerConfig config, Timestamp now)
    : ctx_(ctx),
      public_key_(config.public_key),
      endpoint_(config.endpoint),
      handshake_(ctx.local, config.public_key, std::move(config.preshared_key)),
      cookie_(config.public_key) {
  timers_.SetPersistentKeepalive(config.persistent_keepalive, now);
}

Peer::~Peer() {
  ReleaseHandshakeIndex();
  DropKeypair(current_);
  DropKeypair(previous_);
  DropKeypair(next_);
}

std::shared_ptr<Keypair> Peer::KeypairByIndex(uint32_t local_index) const {
  for (const auto* slot : {&current_, &previous_, &next_}) {
    if (*slot && (*slot)->local_index() == local_index) return *slot;
  }
  return nullptr;
}

std::shared_ptr<Keypair> Peer::SendingKeypair(Timestamp now) const {
  if (!current_ || current_->Expired(now)) return nullptr;
  if (current_->send_counter() >= kRejectAfterMessages) return nullptr;
  return current_;
}

void Peer::Emit(ByteSpan message, Outputs& out) const {
  if (!endpoint_) return;  // nowhere to send yet; timers keep retrying
  out.datagrams.push_back({*endpoint_, Bytes(message.begin(), message.end()), public_key_});
}

void Peer::MarkChanged(Outputs& out) {
  ++ctx_.generation;
  out.keypairs_changed = true;
}

void Peer::ReleaseHandshakeIndex() {
  if (handshake_.local_index != 0) ctx_.indices.Remove(handshake_.local_index);
  handshake_.local_index = 0;
}

void Peer::DropKeypair(std::shared_ptr<Keypair>& slot) {
  if (!slot) return;
  // The index may already belong to a newer keypair only if it was reused,
  // which Insert never does while this keypair holds it.
  ctx_.indices.Remove(slot->local_index());
  slot->Invalidate();
  slot.reset();
}

void Peer::SendInitiation(Timestamp now, bool is_retry, Outputs& out) {
  if (!is_retry) timers_.ResetHandshakeAttempts();
  if (!last_sent_handshake_.IsZero() && now - last_sent_handshake_ < kRekeyTimeout) return;
  last_sent_handshake_ = now;
  ReleaseHandshakeIndex();
  uint32_t index = ctx_.indices.Insert(this, ctx_.random);
  auto msg =
      CreateInitiation(handshake_, ctx_.local, index, ctx_.wall_clock.WallNow(), ctx_.random);
  if (!msg) {
    ctx_.indices.Remove(index);
    PLEXUS_LOG_DEBUG("wireguard: peer {}: cannot initiate: {}", public_key_.ToBase64(),
                     ToString(msg.reason()));
    return;
  }
  cookie_.AddMacs(AsMutableSpan(*msg), now);
  timers_.AnyAuthenticatedPacketTraversal(now);
  timers_.AnyAuthenticatedPacketSent();
  Emit(AsSpan(*msg), out);
  timers_.HandshakeInitiated(now, ctx_.random);
}

void Peer::OnInitiationConsumed(const Endpoint& from, Timestamp now, Outputs& out) {
  timers_.AnyAuthenticatedPacketReceived();
  timers_.AnyAuthenticatedPacketTraversal(now);
  endpoint_ = from;
  ReleaseHandshakeIndex();  // an initiation of ours in flight is superseded
  uint32_t index = ctx_.indices.Insert(this, ctx_.random);
  auto msg = CreateResponse(handshake_, index, ctx_.random);
  if (!msg) {
    ctx_.indices.Remove(index);
    out.drop = msg.reason();
    return;
  }
  cookie_.AddMacs(AsMutableSpan(*msg), now);
  AddKeypair(BeginSession(handshake_, now), out);
  timers_.SessionDerived(now);
  timers_.AnyAuthenticatedPacketTraversal(now);
  timers_.AnyAuthenticatedPacketSent();
  Emit(AsSpan(*msg), out);
}

void Peer::OnResponseConsumed(const Endpoint& from, Timestamp now, Outputs& out) {
  timers_.AnyAuthenticatedPacketReceived();
  timers_.AnyAuthenticatedPacketTraversal(now);
  endpoint_ = from;
  AddKeypair(BeginSession(handshake_, now), out);
  timers_.SessionDerived(now);
  HandshakeComplete(now);
  // Confirm the session to the responder: staged data, or else a keepalive.
  out.flush_staged.push_back(public_key_);
  SendKeepalive(now, out);
}

void Peer::HandshakeComplete(Timestamp now) {
  timers_.HandshakeComplete();
  sent_lastminute_handshake_ = false;
  stats_.last_handshake = now;
}

void Peer::AddKeypair(std::shared_ptr<Keypair> keypair, Outputs& out) {
  if (keypair->is_initiator()) {
    if (next_) {
      DropKeypair(previous_);
      previous_ = std::move(next_);
      DropKeypair(current_);
    } else {
      DropKeypair(previous_);
      previous_ = std::move(current_);
    }
    current_ = std::move(keypair);
  } else {
    DropKeypair(next_);
    next_ = std::move(keypair);
    DropKeypair(previous_);
  }
  MarkChanged(out);
}

bool Peer::ReceivedWithKeypair(const Keypair& keypair, Outputs& out) {
  if (next_.get() != &keypair) return false;
  DropKeypair(previous_);
  previous_ = std::move(current_);
  current_ = std::move(next_);
  MarkChanged(out);
  return true;
}

void Peer::SendKeepalive(Timestamp now, Outputs& out) {
  std::shared_ptr<Keypair> keypair = SendingKeypair(now);
  if (!keypair) {
    SendInitiation(now, false, out);
    return;
  }
  if (!endpoint_) return;
  Bytes message(Keypair::MessageSize(0));
  auto size = keypair->Seal(message, {}, ctx_.mtu, now);
  if (!size) return;
  out.datagrams.push_back({*endpoint_, std::move(message), public_key_});
  OnTransportSent(*keypair, 0, *size, now, out);
}

void Peer::OnTransportSent(const Keypair& keypair, size_t plaintext_bytes, size_t message_bytes,
                           Timestamp now, Outputs& out) {
  stats_.tx_bytes += message_bytes;
  timers_.AnyAuthenticatedPacketTraversal(now);
  timers_.AnyAuthenticatedPacketSent();
  if (plaintext_bytes > 0) timers_.DataSent(now, ctx_.random);
  KeepKeyFreshOnSend(now, out);
}

// Whitepaper §6.2: rekey after REKEY_AFTER_MESSAGES, and (initiator only)
// after REKEY_AFTER_TIME, when sending.
void Peer::KeepKeyFreshOnSend(Timestamp now, Outputs& out) {
  const Keypair* k = current_.get();
  if (k == nullptr || !k->valid()) return;
  if (k->send_counter() > kRekeyAfterMessages ||
      (k->is_initiator() && now - k->created() >= kRekeyAfterTime)) {
    SendInitiation(now, false, out);
  }
}

// Whitepaper §6.2: the initiator of a session older than REJECT_AFTER_TIME -
// KEEPALIVE_TIMEOUT - REKEY_TIMEOUT rekeys on receive, once.
void Peer::KeepKeyFreshOnReceive(Timestamp now, Outputs& out) {
  const Keypair* k = current_.get();
  if (k == nullptr || !k->valid() || !k->is_initiator() || sent_lastminute_handshake_) return;
  if (now - k->created() >= kRejectAfterTime - kKeepaliveTimeout - kRekeyTimeout) {
    sent_lastminute_handshake_ = true;
    SendInitiation(now, false, out);
  }
}

void Peer::OnTransportReceived(const Keypair& keypair, const Endpoint& from, size_t plaintext_bytes,
                               size_t message_bytes, Timestamp now, Outputs& out) {
  stats_.rx_bytes += message_bytes;
  if (endpoint_ != from) {
    endpoint_ = from;  // roaming (whitepaper §2.1)
    MarkChanged(out);
  }
  if (ReceivedWithKeypair(keypair, out)) {
    HandshakeComplete(now);
    out.flush_staged.push_back(public_key_);
  }
  KeepKeyFreshOnReceive(now, out);
  timers_.AnyAuthenticatedPacketReceived();
  timers_.AnyAuthenticatedPacketTraversal(now);
  if (plaintext_bytes > 0) timers_.DataReceived(now);
}

// As responder with a fresh unconfirmed keypair (whitepaper §5.4.7: we may not
// send until the initiator has), the initiator's first message is on its
// way: wait for it rather than start a crossed handshake. Queued packets go
// out when it confirms the keypair.
void Peer::OnPacketQueued(Timestamp now, Outputs& out) {
  if (SendingKeypair(now)) return;
  if (next_ && now - next_->created() < kRekeyTimeout) return;
  SendInitiation(now, false, out);
}

void Peer::Rehandshake(Timestamp now, Outputs& out) {
  SendInitiation(now, false, out);
}

void Peer::ZeroKeyMaterial(Outputs& out) {
  bool had = current_ || previous_ || next_;
  DropKeypair(current_);
  DropKeypair(previous_);
  DropKeypair(next_);
  ReleaseHandshakeIndex();
  handshake_.Clear();
  if (had) MarkChanged(out);
}

void Peer::ExpireKeypairs(Timestamp now, Outputs& out) {
  for (auto* slot : {&current_, &previous_, &next_}) {
    if (*slot && (*slot)->Expired(now)) {
      DropKeypair(*slot);
      MarkChanged(out);
    }
  }
}

void Peer::Tick(Timestamp now, Outputs& out) {
  TimerActions a = timers_.Fire(now);
  if (a.retransmit_handshake) SendInitiation(now, true, out);
  if (a.give_up_handshake) out.drop_staged.push_back(public_key_);
  if (a.send_keepalive || a.persistent_keepalive) SendKeepalive(now, out);
  if (a.new_handshake) SendInitiation(now, false, out);
  if (a.zero_key_material) ZeroKeyMaterial(out);
  ExpireKeypairs(now, out);
}

Timestamp Peer::NextDeadline() const {
  Timestamp next = timers_.NextDeadline();
  for (const auto* slot : {&current_, &previous_, &next_}) {
    if (*slot) next = std::min(next, (*slot)->created() + kRejectAfterTime);
  }
  return next;
}

}  // namespace plexus::wireguard
