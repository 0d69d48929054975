#include "babel/interface.h"

#include <algorithm>

#include "babel/rtt.h"

namespace plexus::babel {

Centiseconds WireInterval(Duration interval) {
  const int64_t cs = std::chrono::duration_cast<Centiseconds>(interval).count();
  return Centiseconds(std::clamp<int64_t>(cs, 1, 0xFFFF));
}

Hello Interface::MakeHello(Timestamp now) {
  Hello hello;
  hello.seqno = hello_seqno_;
  hello_seqno_ = hello_seqno_.Next();
  hello.interval = hello_interval();
  hello.timestamp = MicrosTimestamp(now);
  next_hello_ = now + params_.hello_interval;
  return hello;
}

void Interface::ScheduleUpdate(Timestamp now, Random& random) {
  const int64_t quarter_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(params_.update_interval).count() / 4;
  const auto jitter = std::chrono::milliseconds(
      quarter_ms > 0 ? random.Uniform(static_cast<uint32_t>(quarter_ms)) : 0);
  next_update_ = now + params_.update_interval - jitter;
}

}  // namespace plexus::babel
