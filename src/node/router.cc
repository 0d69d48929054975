#include "node/router.h"

#include <algorithm>
#include <chrono>

#include "babel/constants.h"
#include "base/log.h"
#include "node/link_local_udp.h"

namespace plexus::node {

namespace {

Duration Seconds(double s) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

babel::InterfaceParams InterfaceParamsFrom(const BabelConfig& babel) {
  babel::InterfaceParams p;
  p.hello_interval = Seconds(babel.hello_interval_s);
  p.update_interval = Seconds(babel.update_interval_s.value_or(4 * babel.hello_interval_s));
  p.link.cost.quality = babel.etx ? babel::LinkQuality::kEtx : babel::LinkQuality::kTwoOutOfThree;
  p.link.rtt.rtt_min = std::chrono::milliseconds(babel.rtt_min_ms);
  p.link.rtt.rtt_max = std::chrono::milliseconds(babel.rtt_max_ms);
  p.link.rtt.max_rtt_penalty = static_cast<uint16_t>(babel.max_rtt_penalty);
  return p;
}

IpAddress MulticastGroup() {
  return *IpAddress::Parse(babel::kMulticastGroupV6);
}

}  // namespace

babel::RouterId RouterIdOf(const crypto::PublicKey& key) {
  return babel::RouterId::FromBytes(LinkLocalAddress(key).bytes().subspan(8, 8));
}

RouterParams MakeRouterParams(const BabelConfig& babel, const crypto::PublicKey& key) {
  RouterParams p;
  p.link_local = LinkLocalAddress(key);
  p.engine.router_id = RouterIdOf(key);
  p.engine.interface = InterfaceParamsFrom(babel);
  p.liveness.probe_interval = Seconds(babel.link_probe_interval_s);
  p.liveness.timeout = Seconds(babel.link_timeout_s);
  return p;
}

Router::Router(const RouterParams& params, Random& random, Timestamp now)
    : link_local_(params.link_local),
      start_jitter_(params.start_jitter),
      random_(random),
      engine_(params.engine, random, now),
      liveness_(params.liveness) {}

void Router::AddLink(uint32_t link, Timestamp now) {
  const auto jitter_us = static_cast<uint32_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(start_jitter_).count());
  starting_[link] = now + std::chrono::microseconds(jitter_us ? random_.Uniform(jitter_us) : 0);
  StartDueLinks(now);
}

void Router::RemoveLink(uint32_t link, Timestamp now) {
  if (starting_.erase(link) > 0) return;
  if (!links_.contains(link)) return;
  links_.erase(link);
  engine_.RemoveInterface(link, now);
  liveness_.RemoveLink(link);
}

bool Router::HasLink(uint32_t link) const {
  return starting_.contains(link) || links_.contains(link);
}

void Router::StartDueLinks(Timestamp now) {
  for (auto it = starting_.begin(); it != starting_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    if (Status s = engine_.AddInterface(it->first, link_local_, now); !s) {
      PLEXUS_LOG_ERROR("babel: link {}: {}", it->first, s.error().message());
    } else {
      liveness_.AddLink(it->first, now);
      links_.insert(it->first);
    }
    it = starting_.erase(it);
  }
}

void Router::AddPrefix(const Prefix& prefix, Timestamp now) {
  engine_.AddPrefix({prefix.Network(), std::nullopt}, now);
}

// The peer got there first: start at once rather than drop its packets.
void Router::StartEarly(uint32_t link, Timestamp now) {
  auto it = starting_.find(link);
  if (it == starting_.end()) return;
  it->second = now;
  StartDueLinks(now);
}

Status Router::Receive(uint32_t link, ByteSpan packet, Timestamp now) {
  Result<LinkLocalUdp> udp = ParseLinkLocalUdp(packet);
  if (!udp) {
    StartEarly(link, now);
    ++counters_.malformed;
    return udp.error();
  }
  return Receive(link, *udp, now);
}

Status Router::Receive(uint32_t link, const LinkLocalUdp& udp, Timestamp now) {
  StartEarly(link, now);
  if (udp.destination_port != babel::kUdpPort) {
    ++counters_.wrong_port;
    return MakeError("UDP port {} is not Babel's", udp.destination_port);
  }
  engine_.Receive(link, udp.source, udp.payload, now);
  return Ok();
}

void Router::TransportReceived(uint32_t link, Timestamp now, bool keepalive_only) {
  StartEarly(link, now);
  if (liveness_.OnReceived(link, now, keepalive_only)) engine_.InterfaceUp(link, now);
}

void Router::TransportSent(uint32_t link, Timestamp now) {
  liveness_.OnSent(link, now);
}

void Router::Tick(Timestamp now) {
  StartDueLinks(now);
  LivenessEvents events = liveness_.Tick(now);
  for (uint32_t link : events.down) {
    ++counters_.links_went_down;
    PLEXUS_LOG_INFO("babel: link {} went silent: down", link);
    engine_.InterfaceDown(link, now);
    went_down_.push_back(link);
  }
  probes_.insert(probes_.end(), events.probe.begin(), events.probe.end());
  engine_.Tick(now);
}

Timestamp Router::NextDeadline() const {
  Timestamp next = std::min(engine_.NextDeadline(), liveness_.NextDeadline());
  for (const auto& [link, start] : starting_) next = std::min(next, start);
  return next;
}

RouterOutput Router::TakeOutput() {
  RouterOutput out;
  out.probes.swap(probes_);
  out.went_down.swap(went_down_);
  for (babel::OutgoingPacket& p : engine_.TakeOutgoing()) {
    const IpAddress destination = p.destination.value_or(MulticastGroup());
    out.packets.push_back(
        {p.interface_id, BuildLinkLocalUdp(link_local_, destination, babel::kUdpPort, p.payload)});
  }
  return out;
}

}  // namespace plexus::node
