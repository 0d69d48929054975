#include "wireguard/timers.h"

#include <algorithm>

#include "wireguard/constants.h"

namespace plexus::wireguard {

Duration Timers::Jitter(Random& random) {
  auto max_ns = std::chrono::duration_cast<Duration>(kRekeyTimeoutJitterMax).count();
  return Duration(random.Uniform(static_cast<uint32_t>(max_ns)));
}

void Timers::SetPersistentKeepalive(Duration interval, Timestamp now) {
  persistent_interval_ = interval;
  persistent_keepalive_ = interval > Duration(0) ? now : Timestamp();
}

void Timers::HandshakeInitiated(Timestamp now, Random& random) {
  retransmit_handshake_ = now + kRekeyTimeout + Jitter(random);
}

void Timers::HandshakeComplete() {
  retransmit_handshake_ = Timestamp();
  handshake_attempts_ = 0;
}

void Timers::SessionDerived(Timestamp now) {
  zero_key_material_ = now + kRejectAfterTime * 3;
}

void Timers::DataSent(Timestamp now, Random& random) {
  if (new_handshake_.IsZero()) {
    new_handshake_ = now + kKeepaliveTimeout + kRekeyTimeout + Jitter(random);
  }
}

void Timers::DataReceived(Timestamp now) {
  if (send_keepalive_.IsZero()) {
    send_keepalive_ = now + kKeepaliveTimeout;
  } else {
    need_another_keepalive_ = true;
  }
}

void Timers::AnyAuthenticatedPacketSent() {
  send_keepalive_ = Timestamp();
}

void Timers::AnyAuthenticatedPacketReceived() {
  new_handshake_ = Timestamp();
}

void Timers::AnyAuthenticatedPacketTraversal(Timestamp now) {
  if (persistent_interval_ > Duration(0)) persistent_keepalive_ = now + persistent_interval_;
}

void Timers::StopAll() {
  retransmit_handshake_ = send_keepalive_ = new_handshake_ = Timestamp();
  zero_key_material_ = persistent_keepalive_ = Timestamp();
  need_another_keepalive_ = false;
}

void Timers::FireRetransmit(Timestamp now, TimerActions& a) {
  retransmit_handshake_ = Timestamp();
  if (handshake_attempts_ > kMaxTimerHandshakes) {
    // §6.4: after REKEY_ATTEMPT_TIME, stop; keys go after 3 * REJECT_AFTER_TIME.
    a.give_up_handshake = true;
    send_keepalive_ = Timestamp();
    if (zero_key_material_.IsZero()) zero_key_material_ = now + kRejectAfterTime * 3;
    return;
  }
  ++handshake_attempts_;
  a.retransmit_handshake = true;
}

TimerActions Timers::Fire(Timestamp now) {
  TimerActions a;
  if (Due(retransmit_handshake_, now)) FireRetransmit(now, a);
  if (Due(send_keepalive_, now)) {
    send_keepalive_ = Timestamp();
    a.send_keepalive = true;
    if (need_another_keepalive_) {
      need_another_keepalive_ = false;
      send_keepalive_ = now + kKeepaliveTimeout;
    }
  }
  if (Due(new_handshake_, now)) {
    new_handshake_ = Timestamp();
    a.new_handshake = true;
  }
  if (Due(zero_key_material_, now)) {
    zero_key_material_ = Timestamp();
    a.zero_key_material = true;
  }
  if (Due(persistent_keepalive_, now)) {
    persistent_keepalive_ = Timestamp();
    a.persistent_keepalive = persistent_interval_ > Duration(0);
  }
  return a;
}

Timestamp Timers::NextDeadline() const {
  Timestamp next = Timestamp::Infinite();
  for (Timestamp t : {retransmit_handshake_, send_keepalive_, new_handshake_, zero_key_material_,
                      persistent_keepalive_}) {
    if (!t.IsZero()) next = std::min(next, t);
  }
  return next;
}

}  // namespace plexus::wireguard
