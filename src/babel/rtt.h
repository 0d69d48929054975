// Round-trip time between neighbours (RFC 9616, formerly
// draft-ietf-babel-rtt-extension) and the cost it adds to a link.
//
//   A                                   B
//   t1 --- Hello (timestamp t1) ------> t2   B remembers (t1, t2)
//   t4 <-- Hello (timestamp t3)    ---- t3
//          + IHU (origin t1, receive t2)
//
//   RTT sample = (t4 - t1) - (t3 - t2)
//
// Timestamps are 32-bit microsecond counters of each node's own clock; only
// differences of one node's timestamps are taken, modulo 2^32, so clocks need
// not agree and wrap-around is harmless.
//
// Samples are smoothed by an exponential moving average and mapped to a cost:
// 0 up to rtt_min, max_rtt_penalty from rtt_max on, linear in between. The
// parameter names and defaults are babeld's (babeld(8): rtt-decay 42/256,
// rtt-min 10 ms, rtt-max 120 ms, max-rtt-penalty 96 on tunnel interfaces).
//
// Threading: not thread-safe; owned by a NeighbourTable on the control thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "babel/metric.h"
#include "base/time.h"

namespace plexus::babel {

using Micros = std::chrono::microseconds;

struct RttParams {
  // Weight of a new sample in the moving average, in 1/256 (1..256):
  // smoothed = (decay * sample + (256 - decay) * smoothed) / 256. babeld's
  // default 42 keeps 214/256 = 0.836 of the old value per sample.
  int decay = 42;
  Micros rtt_min = std::chrono::milliseconds(10);
  Micros rtt_max = std::chrono::milliseconds(120);
  // The cost added at and above rtt_max; 0 disables RTT costs.
  uint16_t max_rtt_penalty = 96;
  // Plexus's sanity bound: a sample whose origin timestamp is older than this
  // is discarded (it is stale, or the 32-bit clock may have wrapped).
  Micros max_sample_age = std::chrono::seconds(60);
  // Plexus's choice: the smoothed RTT is forgotten (costs nothing) when no
  // sample arrived for this long, so a stale measurement does not stick.
  Duration validity = std::chrono::minutes(3);
};

// Four timestamps of one exchange, named as in the drawing above.
struct RttTimestamps {
  uint32_t origin;      // t1: our Hello's timestamp, echoed in the IHU
  uint32_t receive;     // t2: when the neighbour received that Hello, its clock
  uint32_t hello_send;  // t3: the timestamp of the Hello in the IHU's packet
  uint32_t now;         // t4: when we received that packet, our clock
};

// The low 32 bits of `t` in microseconds: the timestamp plexus sends.
uint32_t MicrosTimestamp(Timestamp t);

// RFC 9616: (t4 - t1) - (t3 - t2) modulo 2^32. nullopt when a waiting time is
// "negative" (>= 2^31 modulo 2^32) or t4 - t1 exceeds `max_age`; a negative
// difference (clock drift between the two waiting times) is clamped to 0.
std::optional<Micros> RttSample(const RttTimestamps& t, Micros max_age);

// 0 for rtt <= rtt_min, max_rtt_penalty for rtt >= rtt_max, linear (rounded
// down) in between.
Metric RttCost(Micros rtt, const RttParams& params);

// The smoothed RTT of one neighbour.
class RttEstimator {
 public:
  // Folds `sample` in; the first sample (or the first after expiry) is taken as is.
  void AddSample(Micros sample, Timestamp now, const RttParams& params);
  // The smoothed RTT, or nullopt if there is none or it expired at `now`.
  std::optional<Micros> rtt(Timestamp now) const;
  // When the current value expires; Timestamp::Infinite() if there is none.
  Timestamp expiry() const { return expiry_; }
  void Clear() { *this = RttEstimator(); }

 private:
  // The smoothed RTT in 1/256 us, so rounding leaves no dead band of whole
  // microseconds around a constant input.
  static constexpr int64_t kScale = 256;
  int64_t scaled_ = 0;
  Timestamp expiry_ = Timestamp::Infinite();
  bool valid_ = false;
};

}  // namespace plexus::babel
