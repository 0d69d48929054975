// Noise_IKpsk2 message processing, step by step as on the protocol page.
#include "wireguard/noise.h"

#include <sodium.h>

#include <cstring>

#include "crypto/aead.h"
#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

using crypto::AeadKey;
using crypto::Hash;
using crypto::PrivateKey;
using crypto::PublicKey;
using DhResult = crypto::Secret<crypto::kKeySize>;

// The running (chaining key, hash) pair of a Noise handshake.
struct SymmetricState {
  ChainingKey ck;
  Hash h{};

  ~SymmetricState() { sodium_memzero(h.data(), h.size()); }

  // ck = HASH(CONSTRUCTION); h = HASH(HASH(ck || IDENTIFIER) || responder_static).
  void Initialize(const PublicKey& responder_static) {
    Hash c = crypto::Blake2sHash({AsBytes(kConstruction)});
    ck = ChainingKey(c);
    h = crypto::Blake2sHash({c, AsBytes(kIdentifier)});
    MixHash(responder_static.span());
  }
  void MixHash(ByteSpan data) { h = crypto::Blake2sHash({h, data}); }
  // ck = KDF1(ck, input).
  void MixKey(ByteSpan input) {
    ChainingKey next;
    crypto::Kdf({&next}, ck.span(), input);
    ck = std::move(next);
  }
  // (ck, key) = KDF2(ck, input).
  AeadKey MixKeyAndGetKey(ByteSpan input) {
    ChainingKey next;
    AeadKey key;
    crypto::Kdf({&next, &key}, ck.span(), input);
    ck = std::move(next);
    return key;
  }
  // (ck, tau, key) = KDF3(ck, psk); h = HASH(h || tau). Protocol page, psk step.
  AeadKey MixPsk(const PresharedKey& psk) {
    ChainingKey next;
    crypto::Secret<crypto::kHashSize> tau;
    AeadKey key;
    crypto::Kdf({&next, &tau, &key}, ck.span(), psk.span());
    ck = std::move(next);
    MixHash(tau.span());
    return key;
  }
  // out = AEAD(key, 0, plaintext, h); h = HASH(h || out).
  void EncryptAndHash(MutableByteSpan out, const AeadKey& key, ByteSpan plaintext) {
    crypto::ChaChaPolySeal(out, key, 0, plaintext, h);
    MixHash(out);
  }
  bool DecryptAndHash(MutableByteSpan out, const AeadKey& key, ByteSpan ciphertext) {
    if (!crypto::ChaChaPolyOpen(out, key, 0, ciphertext, h)) return false;
    MixHash(ciphertext);
    return true;
  }
};

// DH(private, public) or nullopt-equivalent false when it is all zeros.
bool Dh(DhResult& out, const PrivateKey& priv, const PublicKey& pub) {
  return crypto::X25519(out, priv.secret(), pub);
}

// ck = KDF1(ck, DH(priv, pub)); false on a low-order point.
bool MixDh(SymmetricState& s, const PrivateKey& priv, const PublicKey& pub) {
  DhResult dh;
  if (!Dh(dh, priv, pub)) return false;
  s.MixKey(dh.span());
  return true;
}

// e: h = HASH(h || e); ck = KDF1(ck, e) (protocol page, first two steps after
// the ephemeral is chosen).
void MixEphemeral(SymmetricState& s, const PublicKey& e) {
  s.MixHash(e.span());
  s.MixKey(e.span());
}

void SaveState(Handshake& hs, SymmetricState& s) {
  hs.hash = s.h;
  hs.chaining_key = std::move(s.ck);
}

void LoadState(SymmetricState& s, const Handshake& hs) {
  s.h = hs.hash;
  s.ck = hs.chaining_key.Clone();
}

}  // namespace

std::string_view ToString(HandshakeState s) {
  switch (s) {
    case HandshakeState::kZeroed:
      return "zeroed";
    case HandshakeState::kCreatedInitiation:
      return "created_initiation";
    case HandshakeState::kConsumedInitiation:
      return "consumed_initiation";
    case HandshakeState::kCreatedResponse:
      return "created_response";
    case HandshakeState::kConsumedResponse:
      return "consumed_response";
  }
  return "unknown";
}

Tai64n MakeTai64n(WallTime wall) {
  Tai64n t;
  uint64_t seconds = 0x400000000000000aULL + static_cast<uint64_t>(wall.seconds);
  StoreBe32(t.data(), static_cast<uint32_t>(seconds >> 32));
  StoreBe32(t.data() + 4, static_cast<uint32_t>(seconds));
  StoreBe32(t.data() + 8, wall.nanoseconds & kTimestampNanosMask);
  return t;
}

StaticIdentity::StaticIdentity(crypto::PrivateKey key)
    : private_key(std::move(key)), public_key(private_key.Public()) {}

Handshake::Handshake(const StaticIdentity& local, const PublicKey& remote, PresharedKey psk)
    : remote_static(remote), preshared_key(std::move(psk)) {
  if (!Dh(static_static, local.private_key, remote)) static_static.Wipe();
}

void Handshake::Clear() {
  state = HandshakeState::kZeroed;
  ephemeral_private = PrivateKey();
  remote_ephemeral = PublicKey();
  sodium_memzero(hash.data(), hash.size());
  chaining_key.Wipe();
  local_index = 0;
  remote_index = 0;
}

Verdict<MessageInitiation> CreateInitiation(Handshake& hs, const StaticIdentity& local,
                                            uint32_t local_index, WallTime wall, Random& random) {
  if (hs.static_static.IsZero()) return DropReason::kBadPublicKey;
  SymmetricState s;
  s.Initialize(hs.remote_static);
  PrivateKey ephemeral = PrivateKey::Generate(random);
  MessageInitiation msg{};
  SetHeader(msg.header, MessageType::kInitiation);
  SetLe32(msg.sender_index, local_index);
  msg.ephemeral = ephemeral.Public().bytes();
  MixEphemeral(s, PublicKey(msg.ephemeral));
  // es
  DhResult dh;
  if (!Dh(dh, ephemeral, hs.remote_static)) return DropReason::kBadPublicKey;
  AeadKey key = s.MixKeyAndGetKey(dh.span());
  s.EncryptAndHash(msg.encrypted_static, key, local.public_key.span());
  // ss
  key = s.MixKeyAndGetKey(hs.static_static.span());
  Tai64n timestamp = MakeTai64n(wall);
  s.EncryptAndHash(msg.encrypted_timestamp, key, timestamp);

  SaveState(hs, s);
  hs.ephemeral_private = std::move(ephemeral);
  hs.local_index = local_index;
  hs.remote_index = 0;
  hs.state = HandshakeState::kCreatedInitiation;
  return msg;
}

Verdict<Handshake*> ConsumeInitiation(
    const MessageInitiation& msg, const StaticIdentity& local,
    const std::function<Handshake*(const crypto::PublicKey&)>& find_peer, Timestamp now) {
  SymmetricState s;
  s.Initialize(local.public_key);
  PublicKey ephemeral(msg.ephemeral);
  MixEphemeral(s, ephemeral);
  // es
  DhResult dh;
  if (!Dh(dh, local.private_key, ephemeral)) return DropReason::kBadPublicKey;
  AeadKey key = s.MixKeyAndGetKey(dh.span());
  ByteArray<crypto::kKeySize> static_bytes;
  if (!s.DecryptAndHash(static_bytes, key, msg.encrypted_static)) {
    return DropReason::kHandshakeDecryptFailed;
  }
  Handshake* hs = find_peer(PublicKey(static_bytes));
  if (hs == nullptr) return DropReason::kUnknownPeer;
  if (hs->static_static.IsZero()) return DropReason::kBadPublicKey;
  // ss
  key = s.MixKeyAndGetKey(hs->static_static.span());
  Tai64n timestamp;
  if (!s.DecryptAndHash(timestamp, key, msg.encrypted_timestamp)) {
    return DropReason::kHandshakeDecryptFailed;
  }
  // Whitepaper §5.1: the TAI64N must be strictly greater than the last one.
  if (std::memcmp(timestamp.data(), hs->latest_timestamp.data(), kTimestampSize) <= 0) {
    return DropReason::kStaleTimestamp;
  }
  if (!hs->last_initiation_consumption.IsZero() &&
      now - hs->last_initiation_consumption < Duration(1s) / kInitiationsPerSecond) {
    return DropReason::kHandshakeFlood;
  }

  SaveState(*hs, s);
  hs->remote_ephemeral = ephemeral;
  hs->remote_index = GetLe32(msg.sender_index);
  hs->latest_timestamp = timestamp;
  hs->last_initiation_consumption = now;
  hs->state = HandshakeState::kConsumedInitiation;
  return hs;
}

Verdict<MessageResponse> CreateResponse(Handshake& hs, uint32_t local_index, Random& random) {
  if (hs.state != HandshakeState::kConsumedInitiation) return DropReason::kUnexpectedResponse;
  SymmetricState s;
  LoadState(s, hs);
  PrivateKey ephemeral = PrivateKey::Generate(random);
  MessageResponse msg{};
  SetHeader(msg.header, MessageType::kResponse);
  SetLe32(msg.sender_index, local_index);
  SetLe32(msg.receiver_index, hs.remote_index);
  msg.ephemeral = ephemeral.Public().bytes();
  MixEphemeral(s, PublicKey(msg.ephemeral));
  // ee, se
  if (!MixDh(s, ephemeral, hs.remote_ephemeral) || !MixDh(s, ephemeral, hs.remote_static)) {
    return DropReason::kBadPublicKey;
  }
  AeadKey key = s.MixPsk(hs.preshared_key);
  s.EncryptAndHash(msg.encrypted_nothing, key, {});

  SaveState(hs, s);
  hs.ephemeral_private = std::move(ephemeral);
  hs.local_index = local_index;
  hs.state = HandshakeState::kCreatedResponse;
  return msg;
}

Verdict<Handshake*> ConsumeResponse(const MessageResponse& msg, const StaticIdentity& local,
                                    Handshake& hs) {
  if (hs.state != HandshakeState::kCreatedInitiation) return DropReason::kUnexpectedResponse;
  SymmetricState s;
  LoadState(s, hs);
  PublicKey ephemeral(msg.ephemeral);
  MixEphemeral(s, ephemeral);
  // ee, se
  if (!MixDh(s, hs.ephemeral_private, ephemeral) || !MixDh(s, local.private_key, ephemeral)) {
    return DropReason::kBadPublicKey;
  }
  AeadKey key = s.MixPsk(hs.preshared_key);
  ByteArray<0> nothing;
  if (!s.DecryptAndHash(nothing, key, msg.encrypted_nothing)) {
    return DropReason::kHandshakeDecryptFailed;
  }

  SaveState(hs, s);
  hs.remote_ephemeral = ephemeral;
  hs.remote_index = GetLe32(msg.sender_index);
  hs.state = HandshakeState::kConsumedResponse;
  return &hs;
}

std::shared_ptr<Keypair> BeginSession(Handshake& hs, Timestamp now) {
  bool initiator = hs.state == HandshakeState::kConsumedResponse;
  if (!initiator && hs.state != HandshakeState::kCreatedResponse) return nullptr;
  // Protocol page: (T_send_i, T_recv_i) = KDF2(ck, empty); the responder's
  // keys are the same two, swapped.
  SessionKeys keys;
  if (initiator) {
    crypto::Kdf({&keys.send, &keys.receive}, hs.chaining_key.span(), {});
  } else {
    crypto::Kdf({&keys.receive, &keys.send}, hs.chaining_key.span(), {});
  }
  auto keypair = std::make_shared<Keypair>(std::move(keys), hs.local_index, hs.remote_index,
                                           initiator, now, hs.remote_static);
  hs.Clear();
  return keypair;
}

}  // namespace plexus::wireguard
