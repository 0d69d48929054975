#include "node/link_liveness.h"

#include <algorithm>

namespace plexus::node {

std::string_view ToString(LinkState state) {
  switch (state) {
    case LinkState::kUnknown:
      return "unknown";
    case LinkState::kUp:
      return "up";
    case LinkState::kDown:
      return "down";
  }
  return "?";
}

void LinkLiveness::AddLink(uint32_t link, Timestamp now) {
  Link& l = links_[link];
  l.last_sent = now - params_.probe_interval;  // probe at once
}

void LinkLiveness::CountKeepalive(Link& link, Timestamp now) const {
  const bool close =
      !link.last_keepalive.IsZero() && now - link.last_keepalive <= 2 * params_.probe_interval;
  link.close_keepalives = close ? link.close_keepalives + 1 : 1;
  link.last_keepalive = now;
  if (link.close_keepalives >= kProberKeepalives) link.probed = true;
}

bool LinkLiveness::OnReceived(uint32_t link, Timestamp now, bool keepalive_only) {
  auto it = links_.find(link);
  if (it == links_.end()) return false;
  Link& l = it->second;
  l.last_received = std::max(l.last_received, now);
  if (keepalive_only) CountKeepalive(l, now);
  if (l.state == LinkState::kUp) return false;
  l.state = LinkState::kUp;
  l.last_change = now;
  return true;
}

void LinkLiveness::OnSent(uint32_t link, Timestamp now) {
  auto it = links_.find(link);
  if (it != links_.end()) it->second.last_sent = std::max(it->second.last_sent, now);
}

Timestamp LinkLiveness::DownDue(const Link& link) const {
  if (link.state != LinkState::kUp || !link.probed) return Timestamp::Infinite();
  return link.last_received + params_.timeout;
}

LivenessEvents LinkLiveness::Tick(Timestamp now) {
  LivenessEvents events;
  for (auto& [id, link] : links_) {
    if (DownDue(link) <= now) {
      link.state = LinkState::kDown;
      link.last_change = now;
      events.down.push_back(id);
    }
    if (ProbeDue(link) <= now) {
      link.last_sent = now;
      events.probe.push_back(id);
    }
  }
  return events;
}

Timestamp LinkLiveness::NextDeadline() const {
  Timestamp next = Timestamp::Infinite();
  for (const auto& [id, link] : links_) next = std::min({next, ProbeDue(link), DownDue(link)});
  return next;
}

LinkState LinkLiveness::state(uint32_t link) const {
  auto it = links_.find(link);
  return it == links_.end() ? LinkState::kUnknown : it->second.state;
}

bool LinkLiveness::probed(uint32_t link) const {
  auto it = links_.find(link);
  return it != links_.end() && it->second.probed;
}

Timestamp LinkLiveness::last_change(uint32_t link) const {
  auto it = links_.find(link);
  return it == links_.end() ? Timestamp() : it->second.last_change;
}

}  // namespace plexus::node
