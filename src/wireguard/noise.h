// The Noise_IKpsk2_25519_ChaChaPoly_BLAKE2s handshake of WireGuard
// (whitepaper §5.4.2-§5.4.5, protocol page "First Message" .. "Transport
// Data Key Derivation"), in create/consume pairs. Pure: no clock (the
// TAI64N wall time and `now` are arguments), no I/O; randomness is injected.
// MACs are not computed here (cookie.h adds and checks them).
//
// Handshake state, per peer (STYLE.md rule 8):
//
//   initiator                               responder
//   kZeroed                                 kZeroed
//     | CreateInitiation   --- type 1 --->    | ConsumeInitiation
//   kCreatedInitiation                      kConsumedInitiation
//     |                                       | CreateResponse
//     | ConsumeResponse    <--- type 2 ---  kCreatedResponse
//   kConsumedResponse                         | BeginSession
//     | BeginSession                        kZeroed (keypair: "next")
//   kZeroed (keypair: "current")
//
// Consume* verify everything on a copy and change the Handshake only on
// success, so a forged message never disturbs a handshake in progress.
#pragma once

#include <functional>
#include <memory>
#include <string_view>

#include "base/random.h"
#include "base/time.h"
#include "crypto/blake2s.h"
#include "crypto/secret.h"
#include "crypto/x25519.h"
#include "wireguard/drop_reason.h"
#include "wireguard/keypair.h"
#include "wireguard/messages.h"

namespace plexus::wireguard {

enum class HandshakeState : uint8_t {
  kZeroed,
  kCreatedInitiation,
  kConsumedInitiation,
  kCreatedResponse,
  kConsumedResponse,
};
std::string_view ToString(HandshakeState s);

using ChainingKey = crypto::Secret<crypto::kHashSize>;
using PresharedKey = crypto::Secret<crypto::kHashSize>;
using Tai64n = ByteArray<kTimestampSize>;

// TAI64N of a wall time (protocol page: 8-byte big-endian 2^62 + 10 + seconds,
// then 4-byte big-endian nanoseconds), with the nanoseconds rounded down to
// 2^24 ns as the kernel does, so the timestamp does not leak fine timing.
Tai64n MakeTai64n(WallTime wall);

// The local static identity and the values derived from it once.
struct StaticIdentity {
  explicit StaticIdentity(crypto::PrivateKey key);
  crypto::PrivateKey private_key;
  crypto::PublicKey public_key;
};

// Per-peer handshake state (the kernel's struct noise_handshake).
struct Handshake {
  Handshake(const StaticIdentity& local, const crypto::PublicKey& remote_static, PresharedKey psk);

  // Forgets the handshake in progress (ephemeral, chaining key, hash) but keeps
  // the peer's identity and the replay state (latest_timestamp).
  void Clear();

  HandshakeState state = HandshakeState::kZeroed;
  crypto::PublicKey remote_static;
  PresharedKey preshared_key;
  // DH(local static, remote static); zero when the remote key is low-order,
  // which makes every handshake with this peer fail.
  crypto::Secret<crypto::kKeySize> static_static;
  crypto::PrivateKey ephemeral_private;
  crypto::PublicKey remote_ephemeral;
  crypto::Hash hash{};
  ChainingKey chaining_key;
  uint32_t local_index = 0;
  uint32_t remote_index = 0;
  // Greatest TAI64N accepted from this peer (replay protection, §5.1).
  Tai64n latest_timestamp{};
  // When an initiation from this peer was last consumed (flood protection).
  Timestamp last_initiation_consumption;
};

// Initiator: builds message 1 (mac1/mac2 left zero) and moves `hs` to
// kCreatedInitiation. `local_index` is the sender index, already reserved.
Verdict<MessageInitiation> CreateInitiation(Handshake& hs, const StaticIdentity& local,
                                            uint32_t local_index, WallTime wall, Random& random);

// Responder: decrypts message 1. `find_peer` maps the decrypted initiator
// static key to that peer's Handshake (nullptr: unknown peer). On success the
// handshake is in kConsumedInitiation and is returned. Rejects a timestamp not
// greater than the last accepted one (kStaleTimestamp) and initiations from
// one peer faster than kInitiationsPerSecond (kHandshakeFlood).
Verdict<Handshake*> ConsumeInitiation(
    const MessageInitiation& msg, const StaticIdentity& local,
    const std::function<Handshake*(const crypto::PublicKey&)>& find_peer, Timestamp now);

// Responder: builds message 2 (macs zero) from a kConsumedInitiation
// handshake and moves it to kCreatedResponse.
Verdict<MessageResponse> CreateResponse(Handshake& hs, uint32_t local_index, Random& random);

// Initiator: processes message 2 for `hs` (found by the message's receiver
// index, in kCreatedInitiation) and moves it to kConsumedResponse; returns &hs.
Verdict<Handshake*> ConsumeResponse(const MessageResponse& msg, const StaticIdentity& local,
                                    Handshake& hs);

// Both roles: derives the transport keys from a kCreatedResponse (responder)
// or kConsumedResponse (initiator) handshake, clears the handshake and
// returns the keypair, whose local index is the handshake's. nullptr when the
// handshake is in any other state.
std::shared_ptr<Keypair> BeginSession(Handshake& hs, Timestamp now);

}  // namespace plexus::wireguard
