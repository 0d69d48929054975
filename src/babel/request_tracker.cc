#include "babel/request_tracker.h"

#include <algorithm>
#include <utility>

namespace plexus::babel {

RequestKey RequestTracker::KeyOf(const SeqnoRequest& request) {
  return {{request.prefix, request.source_prefix}, request.router_id, request.seqno.value()};
}

std::optional<OutgoingRequest> RequestTracker::Start(const RequestKey& key, OutgoingRequest request,
                                                     bool originated, Timestamp now) {
  auto it = pending_.find(key);
  if (it != pending_.end() && now < it->second.deadline) {
    it->second.originated |= originated;
    return std::nullopt;  // duplicate suppression
  }
  Pending& entry = pending_[key];
  entry.request = request;
  entry.originated |= originated;
  entry.resends_left = params_.max_resends;
  entry.timeout = params_.initial_timeout;
  entry.deadline = now + entry.timeout;
  return request;
}

std::optional<OutgoingRequest> RequestTracker::SendRouteRequest(
    const Destination& destination, std::optional<NeighbourKey> neighbour, Timestamp now) {
  RouteRequest tlv{destination.prefix, destination.source_prefix};
  return Start({destination, std::nullopt, 0}, {tlv, neighbour}, true, now);
}

std::optional<OutgoingRequest> RequestTracker::SendSeqnoRequest(
    const SeqnoRequest& request, std::optional<NeighbourKey> neighbour, Timestamp now) {
  return Start(KeyOf(request), {request, neighbour}, true, now);
}

// A pending Seqno Request for the same destination and router-id that makes
// `request` redundant: a newer seqno, or the same seqno with a hop count no
// lower.
RequestTracker::Pending* RequestTracker::Covering(const SeqnoRequest& request) {
  const RequestKey key = KeyOf(request);
  for (auto& [other, entry] : pending_) {
    if (other.destination != key.destination || other.router_id != key.router_id) continue;
    const auto& pending = std::get<SeqnoRequest>(entry.request.tlv);
    if (pending.seqno.IsNewerThan(request.seqno)) return &entry;
    if (pending.seqno == request.seqno && pending.hop_count >= request.hop_count - 1) return &entry;
  }
  return nullptr;
}

ForwardResult RequestTracker::ForwardSeqnoRequest(const SeqnoRequest& request,
                                                  const NeighbourKey& from,
                                                  std::optional<NeighbourKey> selected,
                                                  Timestamp now) {
  if (request.hop_count < 2) return {std::nullopt, ForwardDropReason::kHopCountTooLow};
  if (!selected) return {std::nullopt, ForwardDropReason::kNoRoute};
  if (*selected == from) return {std::nullopt, ForwardDropReason::kWouldGoBack};
  if (Pending* covering = Covering(request)) {
    covering->requesters.insert(from);
    return {std::nullopt, ForwardDropReason::kDuplicate};
  }
  SeqnoRequest forwarded = request;
  forwarded.hop_count = static_cast<uint8_t>(request.hop_count - 1);
  // A pending entry with the same key has a lower hop count: replace it.
  const RequestKey key = KeyOf(request);
  std::set<NeighbourKey> requesters;
  bool originated = false;
  if (auto it = pending_.find(key); it != pending_.end()) {
    requesters = std::move(it->second.requesters);
    originated = it->second.originated;
    pending_.erase(it);
  }
  auto out = Start(key, {forwarded, selected}, originated, now);
  Pending& entry = pending_[key];
  entry.requesters = std::move(requesters);
  entry.requesters.insert(from);
  return {out, std::nullopt};
}

bool RequestTracker::Satisfies(const RequestKey& key, const Update& update) {
  if (update.wildcard || key.destination.prefix != update.prefix ||
      key.destination.source_prefix != update.source_prefix)
    return false;
  if (!key.IsSeqnoRequest() || update.IsRetraction()) return true;
  if (update.router_id && *update.router_id != *key.router_id) return true;
  return update.seqno >= Seqno(key.seqno);  // modular; half a circle away is not >=
}

std::vector<SatisfiedRequest> RequestTracker::OnUpdate(const Update& update) {
  std::vector<SatisfiedRequest> satisfied;
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (!Satisfies(it->first, update)) {
      ++it;
      continue;
    }
    const Pending& entry = it->second;
    satisfied.push_back(
        {it->first, entry.originated,
         std::vector<NeighbourKey>(entry.requesters.begin(), entry.requesters.end())});
    it = pending_.erase(it);
  }
  return satisfied;
}

std::vector<OutgoingRequest> RequestTracker::Tick(Timestamp now) {
  std::vector<OutgoingRequest> resends;
  for (auto it = pending_.begin(); it != pending_.end();) {
    Pending& entry = it->second;
    if (now < entry.deadline) {
      ++it;
    } else if (entry.resends_left == 0) {
      it = pending_.erase(it);  // gave up
    } else {
      --entry.resends_left;
      entry.timeout *= 2;
      entry.deadline = now + entry.timeout;
      resends.push_back(entry.request);
      ++it;
    }
  }
  return resends;
}

Timestamp RequestTracker::NextDeadline() const {
  Timestamp earliest = Timestamp::Infinite();
  for (const auto& [key, entry] : pending_) earliest = std::min(earliest, entry.deadline);
  return earliest;
}

}  // namespace plexus::babel
