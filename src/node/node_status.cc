// Node::Status and the control-socket requests (schema: status_format.h).
#include "node/node.h"

namespace plexus::node {

namespace {

nlohmann::json PrefixList(const std::vector<Prefix>& prefixes) {
  nlohmann::json list = nlohmann::json::array();
  for (const Prefix& p : prefixes) list.push_back(p.ToString());
  return list;
}

}  // namespace

std::string Node::PeerState(const wireguard::Peer& peer, Timestamp now) const {
  std::shared_ptr<wireguard::Keypair> sending = device_->SendingKeypair(peer.public_key(), now);
  if (sending) return "established";
  if (peer.handshake().state == wireguard::HandshakeState::kCreatedInitiation) {
    return "handshake pending";
  }
  if (!peer.endpoint()) return "no endpoint";
  if (!peer.stats().last_handshake.IsZero()) return "expired";
  return "idle";
}

nlohmann::json Node::StatusJson() const {
  const Timestamp now = clock_.Now();
  const WallTime wall = clock_.WallNow();
  nlohmann::json peers = nlohmann::json::array();
  uint64_t rx_packets = 0, tx_packets = 0;
  for (size_t i = 0; i < slots_.size(); ++i) {
    const PeerSlot& slot = *slots_[i];
    const wireguard::Peer* peer = device_->FindPeer(slot.public_key);
    if (peer == nullptr) continue;
    int64_t last_handshake = 0;
    if (!peer->stats().last_handshake.IsZero()) {
      auto age =
          std::chrono::duration_cast<std::chrono::seconds>(now - peer->stats().last_handshake);
      last_handshake = wall.seconds - age.count();
    }
    rx_packets += slot.rx_packets.load();
    tx_packets += slot.tx_packets.load();
    peers.push_back({
        {"public_key", slot.public_key.ToBase64()},
        {"endpoint",
         peer->endpoint() ? nlohmann::json(peer->endpoint()->ToString()) : nlohmann::json(nullptr)},
        {"allowed_prefixes", PrefixList(peer_prefixes_[i])},
        {"last_handshake_unix", last_handshake},
        {"rx_bytes", slot.rx_bytes.load()},
        {"tx_bytes", slot.tx_bytes.load()},
        {"state", PeerState(*peer, now)},
        {"persistent_keepalive", peer_keepalive_[i]},
        {"link", IsMesh(i) ? nlohmann::json(ToString(router_->liveness().state(i)))
                           : nlohmann::json(nullptr)},
        {"admitted", static_cast<bool>(admitted_[i])},
        {"authorisation", AuthorisationJson(static_cast<uint32_t>(i))},
    });
  }
  nlohmann::json drops = nlohmann::json::object();
  for (size_t r = 0; r < wireguard::kDropReasonCount; ++r) {
    auto reason = static_cast<wireguard::DropReason>(r);
    uint64_t n = device_->drops(reason) + drops_.Get(reason);
    if (n > 0) drops[std::string(wireguard::ToString(reason))] = n;
  }
  for (size_t d = 0; d < kNodeDropCount; ++d) {
    uint64_t n = drops_.Get(static_cast<NodeDrop>(d));
    if (n > 0) drops[std::string(ToString(static_cast<NodeDrop>(d)))] = n;
  }
  nlohmann::json status = {
      {"interface",
       {{"name", tun_->name()},
        {"public_key", device_->public_key().ToBase64()},
        {"listen_port", udp_->local_port()},
        {"addresses", PrefixList(addresses_)},
        {"mtu", mtu_}}},
      {"peers", std::move(peers)},
      {"drops", std::move(drops)},
      {"counters",
       {{"rx_packets", rx_packets},
        {"tx_packets", tx_packets},
        {"udp_gso", udp_->capabilities().gso ? 1 : 0},
        {"udp_gro", udp_->capabilities().gro ? 1 : 0},
        {"tun_offloads", tun_->has_vnet_header() ? 1 : 0},
        {"babel_packets_received", router_->engine().stats().packets_received},
        {"babel_packets_sent", router_->engine().stats().packets_sent},
        {"babel_malformed",
         router_->engine().stats().malformed_packets + router_->counters().malformed},
        {"mesh_links_went_down", router_->counters().links_went_down},
        {"babel_updates_filtered", router_->engine().stats().updates_filtered}}},
  };
  if (identity_) status["identity"] = IdentityJson();
  return status;
}

nlohmann::json Node::HandleRequest(const nlohmann::json& request) {
  auto command = request.find("command");
  if (command == request.end() || !command->is_string()) {
    return ControlError("request has no \"command\" string");
  }
  if (*command == "status") return ControlOk(StatusJson());
  if (*command == "routes") return ControlOk(RoutesJson());
  return ControlError(fmt::format("unknown command \"{}\"", command->get<std::string>()));
}

}  // namespace plexus::node
