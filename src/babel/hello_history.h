// The Hello history of one neighbour (RFC 8966 §3.4.1, Appendix A.1): which of
// the last 16 Hellos it sent us arrived, plus the "hello timer" that counts a
// Hello as missed when it is late.
//
//   Receive(s):  |s - e| > 16 (mod 2^16)  -> reset (the sender rebooted)
//                s behind e               -> undo (e - s) entries
//                s ahead of e             -> fast-forward (s - e) zeros
//                then shift in a 1, e = s + 1, timer = now + 1.5 x interval
//   timer fires: shift in a 0, e = e + 1, timer = + interval (no margin);
//                an all-zero history stops the timer (the history is empty)
//
// A neighbour keeps one history for multicast and one for unicast Hellos;
// each has its own expected seqno and timer (§3.4.1).
//
// Threading: not thread-safe; owned by a NeighbourTable on the control thread.
#pragma once

#include <cstdint>

#include "babel/seqno.h"
#include "base/time.h"

namespace plexus::babel {

class HelloHistory {
 public:
  static constexpr int kLength = 16;
  // RFC 8966 §3.4.1: seqnos further than this from the expected one mean the
  // sender lost its Hello seqno.
  static constexpr int kMaxSeqnoGap = 16;

  enum class Outcome : uint8_t {
    kRecorded,  // the Hello was added to the existing history
    kReset,     // the seqno jumped; the history restarted from this Hello
  };

  // Records a Hello carrying `seqno` and advertising `interval` (zero for an
  // unscheduled Hello, which leaves the timer alone). On kReset the caller
  // should flush the rest of the neighbour's state (§3.4.1).
  Outcome Receive(Seqno seqno, Duration interval, Timestamp now);

  // Runs the hello timer up to `now`: one 0 bit per expiry.
  void Tick(Timestamp now);

  // Forgets everything, as if no Hello was ever received.
  void Clear() { *this = HelloHistory(); }

  // When the hello timer fires next; Timestamp::Infinite() if it is stopped.
  Timestamp deadline() const { return deadline_; }
  // Bit 0 is the most recent Hello; a set bit means it was received.
  uint16_t bits() const { return bits_; }
  // True when no Hello of the last kLength was received (or none ever).
  bool IsEmpty() const { return bits_ == 0; }
  // The seqno the next Hello should carry; meaningful once one was received.
  Seqno expected() const { return expected_; }

 private:
  void Shift(int missed);
  void Undo(int entries);

  bool started_ = false;
  uint16_t bits_ = 0;
  Seqno expected_;
  Duration interval_{0};
  Timestamp deadline_ = Timestamp::Infinite();
};

}  // namespace plexus::babel
