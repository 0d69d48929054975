#include "babel/hello_history.h"

namespace plexus::babel {

void HelloHistory::Shift(int missed) {
  bits_ = missed >= kLength ? 0 : static_cast<uint16_t>(bits_ << missed);
}

void HelloHistory::Undo(int entries) {
  bits_ = entries >= kLength ? 0 : static_cast<uint16_t>(bits_ >> entries);
}

HelloHistory::Outcome HelloHistory::Receive(Seqno seqno, Duration interval, Timestamp now) {
  Outcome outcome = Outcome::kRecorded;
  // Signed distance modulo 2^16: positive when `seqno` is ahead of expected.
  const int gap = static_cast<int16_t>(static_cast<uint16_t>(seqno.value() - expected_.value()));
  if (!started_ || gap > kMaxSeqnoGap || gap < -kMaxSeqnoGap) {
    if (started_) outcome = Outcome::kReset;
    *this = HelloHistory();
    started_ = true;
  } else if (gap < 0) {
    Undo(-gap);  // the sender increased its interval without our noticing
  } else {
    Shift(gap);  // Hellos were lost
  }
  Shift(1);
  bits_ |= 1;
  expected_ = seqno.Next();
  if (interval > Duration::zero()) {
    interval_ = interval;
    deadline_ = now + interval * 3 / 2;
  }
  return outcome;
}

void HelloHistory::Tick(Timestamp now) {
  while (deadline_ <= now) {
    Shift(1);
    ++expected_;
    deadline_ = IsEmpty() ? Timestamp::Infinite() : deadline_ + interval_;
  }
}

}  // namespace plexus::babel
