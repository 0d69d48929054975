#include "babel/update_buffer.h"

#include <algorithm>
#include <tuple>

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
  queue.updates.push_back(*update);
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

// The last Update queued for each destination, sorted by destination.
std::vector<const Update*> UpdateBuffer::Newest(const std::vector<Update>& updates) {
  std::vector<const Update*> sorted;
  sorted.reserve(updates.size());
  for (const Update& update : updates) sorted.push_back(&update);
  const auto key = [](const Update* u) { return std::tie(u->prefix, u->source_prefix); };
  std::stable_sort(sorted.begin(), sorted.end(),
                   [&](const Update* a, const Update* b) { return key(a) < key(b); });
  std::vector<const Update*> newest;
  newest.reserve(sorted.size());
  for (size_t i = 0; i < sorted.size(); ++i) {
    if (i + 1 < sorted.size() && key(sorted[i]) == key(sorted[i + 1])) continue;
    newest.push_back(sorted[i]);
  }
  return newest;
}

void UpdateBuffer::Pack(const QueueKey& key, const Queue& queue, const IpAddress& source,
                        size_t max_size, std::vector<OutgoingPacket>& out, FlushCounts& counts) {
  Packer packer(key.first, key.second, source, max_size, out, counts);
  for (const Tlv& tlv : queue.control) packer.Add(tlv);
  for (const Update* update : Newest(queue.updates)) packer.Add(*update);
  for (const Tlv& tlv : queue.requests) packer.Add(tlv);
  packer.Emit();
}

void UpdateBuffer::Drop(uint32_t interface_id) {
  auto it = queues_.lower_bound({interface_id, std::nullopt});
  while (it != queues_.end() && it->first.first == interface_id) it = queues_.erase(it);
}

}  // namespace plexus::babel
