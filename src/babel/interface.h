// A Babel interface (RFC 8966 §3.2.3): in plexus one link, with its own
// link-local address, parameters, Hello seqno and the two periodic timers of
// §3.4.1 (Hello) and §3.7.1 (full update).
//
//   AddInterface --> Hello now, next Hello after hello_interval
//                --> full update now, next one after update_interval - jitter
//
// The update timer is jittered from Random (RFC 8966 §3.7.1: periodic updates
// SHOULD NOT be synchronised) by up to a quarter of the interval, always
// earlier, so receivers' route expiry (3.5 x interval) holds.
//
// Threading: not thread-safe; owned by the Babel engine on the control thread.
#pragma once

#include <cstddef>
#include <cstdint>

#include "babel/constants.h"
#include "babel/neighbour.h"
#include "babel/seqno.h"
#include "babel/tlv.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/time.h"

namespace plexus::babel {

struct InterfaceParams {
  Duration hello_interval = kMulticastHelloInterval;
  // Periodic full update interval; RFC 8966 Appendix B: 4 x hello interval.
  Duration update_interval = kUpdateInterval;
  LinkParams link;
  size_t max_packet_size = kMaxPacketSize;
};

// An interval as carried on the wire: centiseconds, at least 1, at most 0xFFFF.
Centiseconds WireInterval(Duration interval);

class Interface {
 public:
  Interface(uint32_t id, const IpAddress& link_local, const InterfaceParams& params,
            Seqno initial_hello_seqno)
      : id_(id), link_local_(link_local), params_(params), hello_seqno_(initial_hello_seqno) {}

  uint32_t id() const { return id_; }
  const IpAddress& link_local() const { return link_local_; }
  const InterfaceParams& params() const { return params_; }
  Centiseconds hello_interval() const { return WireInterval(params_.hello_interval); }
  Centiseconds update_interval() const { return WireInterval(params_.update_interval); }

  // A scheduled multicast Hello (RFC 8966 §3.4.1) carrying the next seqno and
  // an RFC 9616 timestamp; the Hello timer restarts from `now`.
  Hello MakeHello(Timestamp now);
  // Restarts the update timer from `now`, with jitter.
  void ScheduleUpdate(Timestamp now, Random& random);

  bool HelloDue(Timestamp now) const { return next_hello_ <= now; }
  bool UpdateDue(Timestamp now) const { return next_update_ <= now; }
  Timestamp NextDeadline() const { return std::min(next_hello_, next_update_); }

 private:
  uint32_t id_;
  IpAddress link_local_;
  InterfaceParams params_;
  Seqno hello_seqno_;
  Timestamp next_hello_ = Timestamp::Infinite();
  Timestamp next_update_ = Timestamp::Infinite();
};

}  // namespace plexus::babel
