#include "babel/rtt.h"

#include <algorithm>

namespace plexus::babel {
namespace {

constexpr uint32_t kNegative = 0x80000000u;

}  // namespace

uint32_t MicrosTimestamp(Timestamp t) {
  return static_cast<uint32_t>(static_cast<uint64_t>(t.nanos() / 1000));
}

std::optional<Micros> RttSample(const RttTimestamps& t, Micros max_age) {
  const uint32_t local_wait = t.now - t.origin;           // t4 - t1, our clock
  const uint32_t remote_wait = t.hello_send - t.receive;  // t3 - t2, theirs
  if ((local_wait & kNegative) != 0 || (remote_wait & kNegative) != 0) return std::nullopt;
  if (Micros(local_wait) > max_age) return std::nullopt;
  const int64_t rtt = int64_t{local_wait} - int64_t{remote_wait};
  return Micros(std::max<int64_t>(rtt, 0));
}

Metric RttCost(Micros rtt, const RttParams& params) {
  if (params.max_rtt_penalty == 0 || rtt <= params.rtt_min) return Metric(0);
  if (rtt >= params.rtt_max) return Metric(params.max_rtt_penalty);
  const int64_t above = (rtt - params.rtt_min).count();
  const int64_t span = (params.rtt_max - params.rtt_min).count();
  return Metric(static_cast<uint16_t>(params.max_rtt_penalty * above / span));
}

void RttEstimator::AddSample(Micros sample, Timestamp now, const RttParams& params) {
  const int64_t decay = std::clamp(params.decay, 1, 256);
  const int64_t scaled_sample = sample.count() * kScale;
  if (!rtt(now)) {
    scaled_ = scaled_sample;
  } else {
    scaled_ = (decay * scaled_sample + (256 - decay) * scaled_ + 128) / 256;
  }
  valid_ = true;
  expiry_ = now + params.validity;
}

std::optional<Micros> RttEstimator::rtt(Timestamp now) const {
  if (!valid_ || now >= expiry_) return std::nullopt;
  return Micros((scaled_ + kScale / 2) / kScale);
}

}  // namespace plexus::babel
