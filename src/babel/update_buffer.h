// Outgoing TLVs, buffered per (interface, destination) and packed into Babel
// packets (RFC 8966 §4.2) at the end of each engine call.
//
//   Add(interface, to, tlv) --> queue (control TLVs in order,
//                                      Updates keyed by destination)
//   Flush(interface, source, max size) --> PacketWriter --> OutgoingPacket...
//
// Hellos and IHUs go first, in the order added, so a Hello and the IHUs that
// echo its neighbours' timestamps share a packet (RFC 9616 §3.1). Updates
// follow, sorted by destination, which gives PacketWriter's prefix
// compression long common prefixes; a later Update for a destination
// replaces an earlier one not yet sent (only the newest state matters).
// Requests come last, so a receiver handles them knowing the Updates sent
// with them (e.g. a retraction and the Seqno Request it caused, §3.8.2.1).
// A packet is closed when the next TLV would not fit.
//
// Threading: not thread-safe; owned by the Babel engine on the control thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include "babel/route_table.h"
#include "babel/tlv.h"
#include "base/bytes.h"
#include "base/ip.h"

namespace plexus::babel {

// A Babel packet (the UDP payload) to send on `interface_id`, to a
// neighbour's link-local address or, when `destination` is empty, to the
// multicast group ff02::1:6.
struct OutgoingPacket {
  uint32_t interface_id = 0;
  std::optional<IpAddress> destination;
  Bytes payload;
};

// What one Flush put on the wire.
struct FlushCounts {
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t updates = 0;
  uint64_t requests = 0;
  uint64_t oversized = 0;  // TLVs too large for an empty packet, dropped
};

class UpdateBuffer {
 public:
  // Queues `tlv` for `interface_id`, to `to` (nullopt: multicast).
  void Add(uint32_t interface_id, const std::optional<IpAddress>& to, const Tlv& tlv);
  // Packs everything queued for `interface_id` into packets sent from
  // `source` of at most `max_size` octets, appended to `out`.
  FlushCounts Flush(uint32_t interface_id, const IpAddress& source, size_t max_size,
                    std::vector<OutgoingPacket>& out);
  // Forgets everything queued for `interface_id`.
  void Drop(uint32_t interface_id);
  bool empty() const { return queues_.empty(); }

 private:
  using QueueKey = std::pair<uint32_t, std::optional<IpAddress>>;
  struct Queue {
    std::vector<Tlv> control;
    // In the order added; Pack sorts them and keeps each destination's last.
    std::vector<Update> updates;
    std::vector<Tlv> requests;
  };

  static std::vector<const Update*> Newest(const std::vector<Update>& updates);
  static void Pack(const QueueKey& key, const Queue& queue, const IpAddress& source,
                   size_t max_size, std::vector<OutgoingPacket>& out, FlushCounts& counts);

  std::map<QueueKey, Queue> queues_;
};

}  // namespace plexus::babel
