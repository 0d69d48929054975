// The per-node WireGuard core: the local static identity, the cookie checker,
// the handshake rate limiter, the peers (by public key) and the
// receiver-index table. Pure: no sockets, no timers of its own; `now` is an
// argument, randomness comes from the injected Random, and the injected Clock
// is read only for the wall time in TAI64N timestamps (whitepaper §5.4.2).
//
// THREADING: every Device method runs on the control thread only. The data
// plane never calls the Device; it works from snapshots the node publishes
// and reports back through the control thread.
//
// How the node drives it:
//
//   UDP datagram arrives            type 1-3 (or everything, single-threaded):
//                                     out = Receive(now, datagram, from, under_load)
//                                   type 4 on a worker: look the receiver index up in
//                                     the snapshot, keypair->Open(...), then post
//                                     TransportReceived(*keypair, from, n, size, now)
//   IP packet for a peer (worker)   keypair = snapshot.SendingKeypair(peer)
//                                     none: stage the packet, post PacketQueued(peer, now)
//                                     else keypair->Seal(...), send to snapshot endpoint,
//                                     post TransportSent(*keypair, n, size, now)
//   timer                           out = Tick(now); sleep until NextDeadline()
//   after every call                send out.datagrams; flush/drop staged packets per
//                                   out.flush_staged / out.drop_staged; if
//                                   out.keypairs_changed, republish the snapshot from
//                                   Keypairs(), SendingKeypair(peer), PeerEndpoint(peer)
//
// Data-plane events may be coalesced per batch (one TransportSent per peer per
// batch with summed sizes): the timers only need "something was sent/received
// at about now". `under_load` is the node's judgement (e.g. its handshake
// queue is long); under load handshake messages need a valid mac2 (else a
// cookie reply is sent) and pass the per-source rate limiter (§5.3).
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <optional>
#include <unordered_map>
#include <vector>

#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "wireguard/cookie.h"
#include "wireguard/index_table.h"
#include "wireguard/keypair.h"
#include "wireguard/noise.h"
#include "wireguard/outputs.h"
#include "wireguard/peer.h"
#include "wireguard/ratelimiter.h"

namespace plexus::wireguard {

inline constexpr size_t kDefaultMtu = 1420;

class Device {
 public:
  Device(crypto::PrivateKey private_key, Random& random, const Clock& wall_clock,
         size_t mtu = kDefaultMtu);
  ~Device();
  Device(const Device&) = delete;
  Device& operator=(const Device&) = delete;

  const crypto::PublicKey& public_key() const { return identity_.public_key; }

  // Peers. AddPeer fails for our own key or a duplicate.
  Status AddPeer(PeerConfig config, Timestamp now);
  // Invalidates the peer's keypairs; returns false when unknown. Republish after.
  bool RemovePeer(const crypto::PublicKey& peer);
  // Who may open a session without being a peer: an initiation from such a
  // key (consumed in full, so the initiator holds the key) makes it a peer,
  // with no endpoint but the initiation's and no keepalive, listed in
  // Outputs::admitted. None (the default): such initiations are dropped as
  // kUnknownPeer, as in WireGuard.
  void SetAdmission(std::function<bool(const crypto::PublicKey&)> admit) {
    admit_ = std::move(admit);
  }
  Status SetEndpoint(const crypto::PublicKey& peer, const Endpoint& endpoint);
  const Peer* FindPeer(const crypto::PublicKey& peer) const;
  std::vector<crypto::PublicKey> PeerKeys() const;

  // A datagram from the UDP socket (any type). Type 4 is decrypted here too,
  // into out.packets (for tests, the fuzzer and a single-threaded node).
  Outputs Receive(Timestamp now, ByteSpan datagram, const Endpoint& from, bool under_load);
  // Encrypts `packet` for `peer` on the control thread (the data plane's job
  // done inline). Without a sending keypair: out.drop = kNoKeypair and a
  // handshake is started; the caller stages the packet.
  Outputs Send(const crypto::PublicKey& peer, ByteSpan packet, Timestamp now);
  // Starts a new handshake with `peer` now (at most one per REKEY_TIMEOUT,
  // as always): the node saw the link go silent.
  Outputs Rehandshake(const crypto::PublicKey& peer, Timestamp now);

  // Data-plane events.
  Outputs PacketQueued(const crypto::PublicKey& peer, Timestamp now);
  Outputs TransportSent(const Keypair& keypair, size_t plaintext_bytes, size_t message_bytes,
                        Timestamp now);
  Outputs TransportReceived(const Keypair& keypair, const Endpoint& from, size_t plaintext_bytes,
                            size_t message_bytes, Timestamp now);

  // Timers (whitepaper §6).
  Outputs Tick(Timestamp now);
  Timestamp NextDeadline() const;

  // Snapshot sources for the data plane.
  std::shared_ptr<Keypair> SendingKeypair(const crypto::PublicKey& peer, Timestamp now) const;
  std::optional<Endpoint> PeerEndpoint(const crypto::PublicKey& peer) const;
  std::shared_ptr<Keypair> KeypairByIndex(uint32_t local_index) const;
  // Every live keypair (current, previous, next of every peer), for the
  // receiver-index snapshot.
  std::vector<std::shared_ptr<Keypair>> Keypairs() const;
  // Increases whenever a keypair slot changes.
  uint64_t keypair_generation() const { return ctx_.generation; }

  // Drops counted by Receive, per reason.
  uint64_t drops(DropReason r) const { return drops_[static_cast<size_t>(r)]; }

 private:
  Peer* MutablePeer(const crypto::PublicKey& peer);
  void ReceiveHandshake(MessageType type, Timestamp now, ByteSpan datagram, const Endpoint& from,
                        bool under_load, Outputs& out);
  void ReceiveInitiation(Timestamp now, ByteSpan datagram, const Endpoint& from, Outputs& out);
  void ReceiveResponse(Timestamp now, ByteSpan datagram, const Endpoint& from, Outputs& out);
  void ReceiveCookieReply(Timestamp now, ByteSpan datagram, Outputs& out);
  void ReceiveTransport(Timestamp now, ByteSpan datagram, const Endpoint& from, Outputs& out);
  void Count(Outputs& out);

  StaticIdentity identity_;
  Random& random_;
  IndexTable indices_;
  DeviceContext ctx_;
  CookieChecker cookie_checker_;
  HandshakeRateLimiter rate_limiter_;
  std::unordered_map<crypto::PublicKey, std::unique_ptr<Peer>, crypto::PublicKeyHash> peers_;
  std::array<uint64_t, kDropReasonCount> drops_{};
  std::function<bool(const crypto::PublicKey&)> admit_;
};

}  // namespace plexus::wireguard
