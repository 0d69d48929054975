// Node::RoutesJson: the `plexus routes` document (schema: routes_format.h).
#include "node/node.h"

namespace plexus::node {

namespace {

nlohmann::json OptionalMillis(const std::optional<babel::Micros>& rtt) {
  if (!rtt) return nullptr;
  return static_cast<double>(rtt->count()) / 1000.0;
}

nlohmann::json RouteJson(const babel::RouteInfo& r,
                         const std::vector<std::shared_ptr<PeerSlot>>& slots) {
  nlohmann::json j = {
      {"prefix", r.destination.prefix.ToString()},
      {"source_prefix", r.destination.source_prefix
                            ? nlohmann::json(r.destination.source_prefix->ToString())
                            : nlohmann::json(nullptr)},
      {"local", r.local},
      {"metric", r.metric.value()},
      {"router_id", r.router_id.ToString()},
      {"seqno", r.seqno.value()},
      {"feasible", r.feasible},
      {"selected", r.selected},
  };
  if (r.local) return j;
  j["advertised_metric"] = r.advertised_metric.value();
  j["link_cost"] = r.link_cost.value();
  j["rtt_ms"] = OptionalMillis(r.rtt);
  j["next_hop"] = r.next_hop ? nlohmann::json(r.next_hop->ToString()) : nlohmann::json(nullptr);
  if (r.interface_id && *r.interface_id < slots.size()) {
    j["peer"] = slots[*r.interface_id]->public_key.ToBase64();
  }
  return j;
}

}  // namespace

nlohmann::json Node::RoutesJson() const {
  const Timestamp now = clock_.Now();
  nlohmann::json routes = nlohmann::json::array();
  for (const babel::RouteInfo& r : router_->engine().Routes(now)) {
    routes.push_back(RouteJson(r, slots_));
  }
  nlohmann::json neighbours = nlohmann::json::array();
  for (const babel::NeighbourInfo& n : router_->engine().Neighbours(now)) {
    const uint32_t link = n.key.interface_id;
    neighbours.push_back({
        {"peer", link < slots_.size() ? slots_[link]->public_key.ToBase64() : ""},
        {"address", n.key.address.ToString()},
        {"link", std::string(ToString(router_->liveness().state(link)))},
        {"rxcost", n.rxcost.value()},
        {"txcost", n.txcost.value()},
        {"cost", n.cost.value()},
        {"rtt_ms", OptionalMillis(n.rtt)},
    });
  }
  return {
      {"router_id", router_->engine().router_id().ToString()},
      {"link_local", router_->link_local().ToString()},
      {"routes", std::move(routes)},
      {"neighbours", std::move(neighbours)},
  };
}

}  // namespace plexus::node
