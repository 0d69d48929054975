#include "babel/update_buffer.h"

namespace plexus::babel {
namespace {

// Fills packets one TLV at a time, starting a new packet when one is full.
class Packer {
 public:
  Packer(uint32_t interface_id, const std::optional<IpAddress>& to, const IpAddress& source,
         size_t max_size, std::vector<OutgoingPacket>& out, FlushCounts& counts)
      : interface_id_(interface_id),
        to_(to),
        source_(source),
        max_size_(max_size),
        writer_(source, max_size),
        out_(out),
        counts_(counts) {}

  void Add(const Tlv& tlv) {
    if (!writer_.Append(tlv)) {
      Emit();
      if (!writer_.Append(tlv)) {
        ++counts_.oversized;
        return;
      }
    }
    if (std::holds_alternative<Update>(tlv)) ++counts_.updates;
    if (std::holds_alternative<RouteRequest>(tlv) || std::holds_alternative<SeqnoRequest>(tlv)) {
      ++counts_.requests;
    }
  }

  void Emit() {
    if (writer_.empty()) return;
    Bytes payload = writer_.Finish();
    ++counts_.packets;
    counts_.bytes += payload.size();
    out_.push_back({interface_id_, to_, std::move(payload)});
    writer_ = PacketWriter(source_, max_size_);
  }

 private:
  uint32_t interface_id_;
  std::optional<IpAddress> to_;
  IpAddress source_;
  size_t max_size_;
  PacketWriter writer_;
  std::vector<OutgoingPacket>& out_;
  FlushCounts& counts_;
};

}  // namespace

void UpdateBuffer::Add(uint32_t interface_id, const std::optional<IpAddress>& to, const Tlv& tlv) {
  Queue& queue = queues_[{interface_id, to}];
  if (std::holds_alternative<RouteRequest>(tlv) || std::holds_alternative<SeqnoRequest>(tlv)) {
    queue.requests.push_back(tlv);
    return;
  }
  const Update* update = std::get_if<Update>(&tlv);
  if (update == nullptr || update->wildcard) {
    queue.control.push_back(tlv);
    return;
  }
  queue.updates.insert_or_assign(Destination{update->prefix, update->source_prefix}, *update);
}

FlushCounts UpdateBuffer::Flush(uint32_t interface_id, const IpAddress& source, size_t max_size,
                                std::vector<OutgoingPacket>& out) {
  FlushCounts counts;
  auto it = queues_.lower_bound({interface_id, std::nullopt});
  while (it != queues_.end() && it->first.first == interface_id) {
    Pack(it->first, it->second, source, max_size, out, counts);
    it = queues_.erase(it);
  }
  return counts;
}

void UpdateBuffer::Pack(const QueueKey& key, const Queue& queue, const IpAddress& source,
                        size_t max_size, std::vector<OutgoingPacket>& out, FlushCounts& counts) {
  Packer packer(key.first, key.second, source, max_size, out, counts);
  for (const Tlv& tlv : queue.control) packer.Add(tlv);
  for (const auto& [destination, update] : queue.updates) packer.Add(update);
  for (const Tlv& tlv : queue.requests) packer.Add(tlv);
  packer.Emit();
}

void UpdateBuffer::Drop(uint32_t interface_id) {
  auto it = queues_.lower_bound({interface_id, std::nullopt});
  while (it != queues_.end() && it->first.first == interface_id) it = queues_.erase(it);
}

}  // namespace plexus::babel
