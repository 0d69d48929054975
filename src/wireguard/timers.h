// The per-peer timers of whitepaper §6 as named events feeding deadlines
// (STYLE.md rule 7), after the kernel module's timers.c.
//
//   event (called by Peer)              effect on timers
//   HandshakeInitiated                  retransmit_handshake = now + REKEY_TIMEOUT + jitter
//   HandshakeComplete                   retransmit_handshake off, attempts = 0
//   SessionDerived                      zero_key_material = now + 3 * REJECT_AFTER_TIME
//   DataSent (non-keepalive)            new_handshake = now + KEEPALIVE + REKEY_TIMEOUT + jitter,
//                                       unless already armed
//   DataReceived (non-keepalive)        send_keepalive = now + KEEPALIVE_TIMEOUT unless armed,
//                                       else remember to send another one after it
//   AnyAuthenticatedPacketSent          send_keepalive off (we just said something)
//   AnyAuthenticatedPacketReceived      new_handshake off (the peer is alive)
//   AnyAuthenticatedPacketTraversal     persistent_keepalive = now + interval (when enabled)
//
//   timer fires                          action for the Peer (TimerActions)
//   retransmit_handshake                 attempts <= kMaxTimerHandshakes: ++attempts and
//                                        send a retry; else give up: drop staged packets,
//                                        send_keepalive off, zero keys in 3*REJECT_AFTER_TIME
//   send_keepalive                       send a keepalive (re-armed once if needed)
//   new_handshake                        send a new initiation (§6.5: peer went silent)
//   zero_key_material                    zero every keypair and the handshake (§6.3)
//   persistent_keepalive                 send a keepalive (§6.5)
//
// Pure: `now` and the jitter's Random are arguments. Threading: control thread.
#pragma once

#include "base/random.h"
#include "base/time.h"

namespace plexus::wireguard {

struct TimerActions {
  bool retransmit_handshake = false;
  bool give_up_handshake = false;
  bool send_keepalive = false;
  bool new_handshake = false;
  bool zero_key_material = false;
  bool persistent_keepalive = false;
};

class Timers {
 public:
  // 0 disables the persistent keepalive.
  void SetPersistentKeepalive(Duration interval, Timestamp now);
  Duration persistent_keepalive() const { return persistent_interval_; }

  void HandshakeInitiated(Timestamp now, Random& random);
  void HandshakeComplete();
  void SessionDerived(Timestamp now);
  void DataSent(Timestamp now, Random& random);
  void DataReceived(Timestamp now);
  void AnyAuthenticatedPacketSent();
  void AnyAuthenticatedPacketReceived();
  void AnyAuthenticatedPacketTraversal(Timestamp now);
  // A new (not retried) initiation starts a fresh count (kernel send.c).
  void ResetHandshakeAttempts() { handshake_attempts_ = 0; }
  // Disarms every timer (peer removed or keys zeroed does not need this).
  void StopAll();

  // Runs every timer due at `now`, disarming or re-arming it, and reports
  // what the peer must do.
  TimerActions Fire(Timestamp now);
  // The earliest armed deadline, or Timestamp::Infinite().
  Timestamp NextDeadline() const;

  int handshake_attempts() const { return handshake_attempts_; }
  bool retransmit_armed() const { return !retransmit_handshake_.IsZero(); }
  bool new_handshake_armed() const { return !new_handshake_.IsZero(); }
  bool send_keepalive_armed() const { return !send_keepalive_.IsZero(); }
  bool zero_key_material_armed() const { return !zero_key_material_.IsZero(); }

 private:
  static bool Due(Timestamp deadline, Timestamp now) {
    return !deadline.IsZero() && deadline <= now;
  }
  static Duration Jitter(Random& random);
  void FireRetransmit(Timestamp now, TimerActions& a);

  // Each is zero when disarmed.
  Timestamp retransmit_handshake_;
  Timestamp send_keepalive_;
  Timestamp new_handshake_;
  Timestamp zero_key_material_;
  Timestamp persistent_keepalive_;
  int handshake_attempts_ = 0;
  bool need_another_keepalive_ = false;
  Duration persistent_interval_{0};
};

}  // namespace plexus::wireguard
