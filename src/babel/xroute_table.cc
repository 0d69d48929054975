#include "babel/xroute_table.h"

namespace plexus::babel {

std::optional<XrouteOutput> XrouteTable::Add(const Destination& destination, Metric metric) {
  if (metric.IsInfinite()) return Remove(destination);
  auto [it, inserted] = xroutes_.try_emplace(destination, metric);
  if (!inserted && it->second == metric) return std::nullopt;
  it->second = metric;
  return Output(XrouteAction::kAnnounce, destination, metric);
}

std::optional<XrouteOutput> XrouteTable::Remove(const Destination& destination) {
  if (xroutes_.erase(destination) == 0) return std::nullopt;
  return Output(XrouteAction::kRetract, destination, Metric::Infinity());
}

XrouteSeqnoAnswer XrouteTable::OnSeqnoRequest(const Destination& destination, RouterId router_id,
                                              Seqno seqno) {
  if (!xroutes_.contains(destination)) return XrouteSeqnoAnswer::kNotOurs;
  // §3.8.1.2: different router-ids, or ours is no smaller: just send an update.
  if (router_id != router_id_ || !seqno.IsNewerThan(seqno_)) return XrouteSeqnoAnswer::kSendUpdate;
  ++seqno_;  // by exactly one, modulo 2^16, whatever the requested seqno
  return XrouteSeqnoAnswer::kBumpAndSendUpdate;
}

std::optional<XrouteOutput> XrouteTable::Announcement(const Destination& destination) const {
  auto it = xroutes_.find(destination);
  if (it == xroutes_.end()) return std::nullopt;
  return Output(XrouteAction::kAnnounce, it->first, it->second);
}

std::vector<XrouteOutput> XrouteTable::Announcements() const {
  std::vector<XrouteOutput> out;
  out.reserve(xroutes_.size());
  for (const auto& [destination, metric] : xroutes_)
    out.push_back(Output(XrouteAction::kAnnounce, destination, metric));
  return out;
}

const Metric* XrouteTable::Find(const Destination& destination) const {
  auto it = xroutes_.find(destination);
  return it == xroutes_.end() ? nullptr : &it->second;
}

}  // namespace plexus::babel
