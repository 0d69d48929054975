// Per-peer protocol state (whitepaper §5 and §6; the kernel module's peer.c
// with the send/receive decisions of send.c and receive.c that are not I/O):
// identity, endpoint, handshake, cookie, the three keypair slots, timers and
// statistics.
//
// Keypair slots (kernel noise.c rules):
//   initiator's new keypair -> current; old current (or an unconfirmed next)
//                              -> previous
//   responder's new keypair -> next (it may not send on it yet); previous is
//                              dropped. The first transport message received
//                              on `next` confirms it: next -> current,
//                              current -> previous.
// Dropped keypairs are invalidated and their indices freed at once.
//
// Threading: control thread only. Keypairs handed out (shared_ptr) are
// shared with the data plane as described in keypair.h.
#pragma once

#include <memory>
#include <optional>

#include "base/ip.h"
#include "base/random.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "wireguard/cookie.h"
#include "wireguard/index_table.h"
#include "wireguard/keypair.h"
#include "wireguard/noise.h"
#include "wireguard/outputs.h"
#include "wireguard/timers.h"

namespace plexus::wireguard {

struct PeerConfig {
  crypto::PublicKey public_key;
  PresharedKey preshared_key;  // all zeros: no preshared key (as wg(8))
  std::optional<Endpoint> endpoint;
  Duration persistent_keepalive{0};  // 0: off
};

struct PeerStats {
  Timestamp last_handshake;  // monotonic; zero: never
  uint64_t rx_bytes = 0;     // transport messages received, whole datagrams
  uint64_t tx_bytes = 0;
};

// What peers share, owned by the Device.
struct DeviceContext {
  const StaticIdentity& local;
  IndexTable& indices;
  Random& random;
  const Clock& wall_clock;  // read only for TAI64N timestamps (§5.4.2)
  size_t mtu = 0;
  uint64_t generation = 0;  // bumped whenever any keypair slot changes
};

class Peer {
 public:
  Peer(DeviceContext& ctx, PeerConfig config, Timestamp now);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  const crypto::PublicKey& public_key() const { return public_key_; }
  const std::optional<Endpoint>& endpoint() const { return endpoint_; }
  void set_endpoint(const Endpoint& e) { endpoint_ = e; }
  const PeerStats& stats() const { return stats_; }
  Handshake& handshake() { return handshake_; }
  const Handshake& handshake() const { return handshake_; }
  PeerCookie& cookie() { return cookie_; }
  const Timers& timers() const { return timers_; }
  const std::shared_ptr<Keypair>& current() const { return current_; }
  const std::shared_ptr<Keypair>& previous() const { return previous_; }
  const std::shared_ptr<Keypair>& next() const { return next_; }
  std::shared_ptr<Keypair> KeypairByIndex(uint32_t local_index) const;
  // The current keypair when it may still send at `now`, else nullptr.
  std::shared_ptr<Keypair> SendingKeypair(Timestamp now) const;

  // Sends (if the REKEY_TIMEOUT rate limit allows) a handshake initiation.
  void SendInitiation(Timestamp now, bool is_retry, Outputs& out);
  // After ConsumeInitiation succeeded for this peer from `from`.
  void OnInitiationConsumed(const Endpoint& from, Timestamp now, Outputs& out);
  // After ConsumeResponse succeeded for this peer from `from`.
  void OnResponseConsumed(const Endpoint& from, Timestamp now, Outputs& out);
  // Encrypts and emits a keepalive, or starts a handshake when no keypair.
  void SendKeepalive(Timestamp now, Outputs& out);
  // Data-plane events (STYLE.md rule 7).
  void OnTransportSent(const Keypair& keypair, size_t plaintext_bytes, size_t message_bytes,
                       Timestamp now, Outputs& out);
  void OnTransportReceived(const Keypair& keypair, const Endpoint& from, size_t plaintext_bytes,
                           size_t message_bytes, Timestamp now, Outputs& out);
  // Data is waiting: start a handshake unless a keypair can send or, as
  // responder, a fresh keypair awaits the initiator's first message.
  void OnPacketQueued(Timestamp now, Outputs& out);
  // A new handshake now (rate-limited like every initiation).
  void Rehandshake(Timestamp now, Outputs& out);
  // Runs due timers and drops keypairs older than REJECT_AFTER_TIME.
  void Tick(Timestamp now, Outputs& out);
  Timestamp NextDeadline() const;

 private:
  void Emit(ByteSpan message, Outputs& out) const;
  void AddKeypair(std::shared_ptr<Keypair> keypair, Outputs& out);
  bool ReceivedWithKeypair(const Keypair& keypair, Outputs& out);
  void DropKeypair(std::shared_ptr<Keypair>& slot);
  void ReleaseHandshakeIndex();
  void ZeroKeyMaterial(Outputs& out);
  void ExpireKeypairs(Timestamp now, Outputs& out);
  void MarkChanged(Outputs& out);
  void KeepKeyFreshOnSend(Timestamp now, Outputs& out);
  void KeepKeyFreshOnReceive(Timestamp now, Outputs& out);
  void HandshakeComplete(Timestamp now);

  DeviceContext& ctx_;
  const crypto::PublicKey public_key_;
  std::optional<Endpoint> endpoint_;
  Handshake handshake_;
  PeerCookie cookie_;
  Timers timers_;
  std::shared_ptr<Keypair> current_;
  std::shared_ptr<Keypair> previous_;
  std::shared_ptr<Keypair> next_;
  Timestamp last_sent_handshake_;
  bool sent_lastminute_handshake_ = false;
  PeerStats stats_;
};

}  // namespace plexus::wireguard
