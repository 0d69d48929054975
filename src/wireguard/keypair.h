// A session keypair: the transport keys one handshake derives (whitepaper
// §5.4.5) and the per-direction state of transport messages (§5.4.6).
//
// THREADING CONTRACT
//   A Keypair is shared by three threads and is therefore held by
//   std::shared_ptr: the control thread (Device/Peer own the current,
//   previous and next slots and drop keypairs when they rotate or expire) and
//   the two data-plane workers, which hold references through the immutable
//   snapshots the node publishes. Whichever thread drops the last reference
//   destroys the keypair, and the keys wipe themselves then (secret.h) - never
//   while a worker may still be encrypting with them.
//   - Immutable after construction: keys, indices, creation time, initiator
//     flag, peer key. Read them from any thread.
//   - Seal / NextSendCounter: the TUN->UDP worker (any number of threads):
//     the send counter is a std::atomic, incremented with fetch_add, so each
//     counter value is used exactly once.
//   - Open: the UDP->TUN worker (any number of threads): the AEAD is
//     stateless; the replay window is guarded by a per-keypair mutex held only
//     for the window update after the tag verified.
//   - Invalidate / valid: any thread; an atomic flag. The control thread
//     invalidates a keypair it zeroes, so a worker still holding an old
//     snapshot stops using it.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>

#include "base/bytes.h"
#include "base/time.h"
#include "crypto/aead.h"
#include "crypto/x25519.h"
#include "wireguard/drop_reason.h"
#include "wireguard/messages.h"
#include "wireguard/replay_window.h"

namespace plexus::wireguard {

struct SessionKeys {
  crypto::AeadKey send;
  crypto::AeadKey receive;
};

class Keypair {
 public:
  Keypair(SessionKeys keys, uint32_t local_index, uint32_t remote_index, bool initiator,
          Timestamp created, const crypto::PublicKey& peer);
  Keypair(const Keypair&) = delete;
  Keypair& operator=(const Keypair&) = delete;

  uint32_t local_index() const { return local_index_; }
  uint32_t remote_index() const { return remote_index_; }
  // True when this side sent the initiation (only the initiator rekeys on time).
  bool is_initiator() const { return initiator_; }
  Timestamp created() const { return created_; }
  const crypto::PublicKey& peer() const { return peer_; }
  bool valid() const { return valid_.load(std::memory_order_acquire); }
  void Invalidate() { valid_.store(false, std::memory_order_release); }

  // Length of the padded plaintext for an n-byte packet: n rounded up to a
  // multiple of 16, but not beyond `mtu` (and never below n) - the rule of
  // whitepaper §5.4.6 as wireguard-go applies it.
  static size_t PaddedSize(size_t n, size_t mtu);
  // Size of the transport message carrying a padded plaintext of `padded`.
  static constexpr size_t MessageSize(size_t padded) { return padded + kTransportOverhead; }

  // TUN->UDP worker. Writes a complete transport-data message for `plaintext`
  // into `out` (16-byte header, the plaintext zero-padded to
  // PaddedSize(plaintext.size(), mtu) and encrypted, 16-byte tag) and returns
  // its size. Seal does the padding. `plaintext` may already sit at
  // out.data() + 16 (in place) or anywhere that does not overlap `out`. An
  // empty plaintext makes a keepalive. Fails with kKeypairExpired (older than
  // REJECT_AFTER_TIME or invalidated), kCounterExhausted, kBufferTooSmall.
  Verdict<size_t> Seal(MutableByteSpan out, ByteSpan plaintext, size_t mtu, Timestamp now);

  // UDP->TUN worker. Authenticates and decrypts the transport message
  // `datagram` (already classified as type 4 and routed here by its receiver
  // index) into `out`, which may be exactly datagram.data() + 16 (in place),
  // then checks the counter against the replay window. Returns the padded
  // plaintext length (0 for a keepalive); the node trims the padding using the
  // IP header's length. Fails with kKeypairExpired, kCounterExhausted,
  // kBufferTooSmall, kDecryptFailed, kReplay.
  Verdict<size_t> Open(MutableByteSpan out, ByteSpan datagram, Timestamp now);

  // Reserves the next send counter (what Seal does internally).
  uint64_t NextSendCounter() { return send_counter_.fetch_add(1, std::memory_order_relaxed); }
  // The next counter Seal would use: the number of messages sent so far.
  uint64_t send_counter() const { return send_counter_.load(std::memory_order_relaxed); }
  // Tests only: jump the counter (e.g. to just below REKEY_AFTER_MESSAGES).
  void SetSendCounterForTest(uint64_t v) { send_counter_.store(v); }

  // True when the keypair may no longer be used at `now` (whitepaper §6.1).
  bool Expired(Timestamp now) const;

 private:
  const crypto::AeadKey send_key_;
  const crypto::AeadKey receive_key_;
  const uint32_t local_index_;
  const uint32_t remote_index_;
  const bool initiator_;
  const Timestamp created_;
  const crypto::PublicKey peer_;
  std::atomic<bool> valid_{true};
  std::atomic<uint64_t> send_counter_{0};
  std::mutex replay_mutex_;
  ReplayWindow replay_window_;  // guarded by replay_mutex_
};

}  // namespace plexus::wireguard
