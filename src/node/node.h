// Node: the daemon. Wires the WireGuard core (control thread) to the TUN
// device and UDP socket (data-plane workers), configures the interface and
// serves the control socket (DESIGN.md §3).
//
//   control thread (EventLoop)            workers
//   ──────────────────────────            ───────
//   wireguard::Device  <── events ──────  TxWorker: TUN -> seal -> UDP
//        │ keypairs changed               RxWorker: UDP -> open -> TUN
//        └─> Snapshot ── publish ──────>  (read once per batch, no locks)
//   ControlServer thread ── Post ──> status
//
// THREADING: construct, Run() and destroy on one thread (the control thread);
// the workers and the control-socket thread reach it only through
// EventLoop::Post.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <vector>

#include "base/random.h"
#include "base/time.h"
#include "io/event_loop.h"
#include "io/tun_device.h"
#include "io/udp_socket.h"
#include "mesh/link_control.h"
#include "mesh/origin_filter.h"
#include "node/config.h"
#include "node/control_server.h"
#include "node/control_sink.h"
#include "node/drop_counters.h"
#include "node/node_identity.h"
#include "node/peer_slot.h"
#include "node/registry_agent.h"
#include "node/route_installer.h"
#include "node/router.h"
#include "node/seqno_store.h"
#include "node/snapshot.h"
#include "wireguard/device.h"

namespace plexus::node {

// Runs a node with kernel TUN/UDP for `config` until SIGINT/SIGTERM; returns
// the process exit code. Errors at startup are printed with what failed.
int RunNode(const Config& config);

// What a Node runs on; the kernel implementations in RunNode, fakes in tests.
struct NodeIo {
  const Clock& clock;
  Random& random;
  io::EventLoop& loop;
  std::unique_ptr<io::TunDevice> tun;
  std::unique_ptr<io::UdpSocket> udp;
  // Where selected routes go in the kernel; none in unit tests.
  std::unique_ptr<RouteInstaller> routes = nullptr;
  // Where the node keeps state between runs (the Babel seqno); empty in
  // unit tests: nothing is kept unless the config names a file.
  std::string state_dir;
  // With [identity]: talk to the registry in the background (heartbeats,
  // CRL and config polls, renewal; registry_agent.h). Off in unit tests.
  bool registry_agent = false;
};

class Node final : private ControlSink, private RegistryAgentSink {
 public:
  static Result<std::unique_ptr<Node>> Create(const Config& config, NodeIo io);
  ~Node() override;

  // Starts the data-plane workers (call after EventLoop::StopOnSignals, so
  // they inherit its signal mask) and, if configured, the control socket.
  Status Start();
  // Stops the workers and the control socket; idempotent.
  void Stop();

  // The `plexus status` document (status_format.h). Control thread.
  nlohmann::json StatusJson() const;
  // Answers one control-socket request. Control thread.
  nlohmann::json HandleRequest(const nlohmann::json& request);

  // Tests only: entries the forwarding table takes after the configured ones
  // and before the routing protocol's; publishes at once. Control thread.
  void SetRoutedForTesting(std::vector<ForwardingEntry> routed);
  // The `plexus routes` document. Control thread.
  nlohmann::json RoutesJson() const;

 private:
  Node(const Config& config, NodeIo io);
  Status AddPeers(const Config& config);

  // ControlSink (worker threads): post to the control thread.
  void HandshakeMessage(Bytes datagram, const Endpoint& from) override;
  void PacketQueued(uint32_t peer) override;
  void TransportSent(std::shared_ptr<wireguard::Keypair> keypair, size_t bytes) override;
  void TransportReceived(std::shared_ptr<wireguard::Keypair> keypair, const Endpoint& from,
                         size_t bytes) override;
  void LinkLocalPacket(uint32_t peer, Bytes packet) override;

  // RegistryAgentSink (the agent's thread): post to the control thread.
  void RegistryDocument(identity::SignedDocument doc) override;
  void CertificateRenewed(Bytes der) override;
  void StartRegistryAgent();

  // Control thread.
  void Apply(wireguard::Outputs out);
  void SendDatagrams(std::vector<wireguard::Datagram>& datagrams);
  void CountTransportSent(const wireguard::Datagram& d);
  void FlushStaged(const crypto::PublicKey& peer, std::vector<wireguard::Datagram>& out);
  void DropStaged(const crypto::PublicKey& peer);
  void Publish();
  std::shared_ptr<const ForwardingTable> BuildForwardingTable() const;
  // A Babel / link-control packet from the peer at `peer` (DESIGN.md §2.2).
  void HandleLinkLocal(uint32_t peer, Bytes packet);
  void ArmTimer();
  PeerSlot* SlotFor(const crypto::PublicKey& key);
  std::optional<uint32_t> IndexOf(const crypto::PublicKey& key) const;
  // A peer configured without allowed_prefixes is a mesh link, routed by Babel.
  bool IsMesh(uint32_t peer) const { return peer_prefixes_[peer].empty(); }
  // Appends a peer's slot (or reuses a retired one); returns its index.
  uint32_t AddSlot(const crypto::PublicKey& key, std::vector<Prefix> prefixes, uint16_t keepalive,
                   bool admitted);

  // Routing (router.h), control thread.
  void StartRouter(const Config& config, Timestamp now);
  // Sends what the router queued and follows changes of its selected routes.
  void DriveRouter(Timestamp now);
  void SendOnLink(uint32_t peer, const Bytes& packet, Timestamp now,
                  std::vector<wireguard::Datagram>& out);
  void SendProbe(uint32_t peer, Timestamp now, std::vector<wireguard::Datagram>& out);
  void FollowRoutes();
  void SyncKernelRoutes(const std::vector<babel::InstalledRoute>& fib);
  std::string PeerState(const wireguard::Peer& peer, Timestamp now) const;

  // Identity and link control (node_link_control.cc), with [identity]
  // (DESIGN.md §2.3): mesh links carry only link control until their peer's
  // certificate verifies; Babel runs on authorised links only; routes are
  // filtered by their originator's certificate blocks.
  Status StartLinkControl(const Config& config, Timestamp now);
  // May traffic other than link control pass on the link?
  bool Authorised(uint32_t peer) const;
  void HandleLinkControl(uint32_t peer, ByteSpan payload, Timestamp now);
  void TickLinkControl(Timestamp now);
  // Starts link control on a configured link whose start time has come (or
  // whose peer spoke first).
  void StartLinks(Timestamp now, std::optional<uint32_t> early = std::nullopt);
  // Sends what link control queued and follows its events.
  void DriveLinkControl(Timestamp now);
  void OnAuthorisation(const mesh::AuthorisationEvent& event, Timestamp now);
  void OnDocument(const mesh::FloodEvent& event);
  // A key Device::SetAdmission let in: a new mesh link awaiting its certificate.
  bool MayAdmit(const crypto::PublicKey& key) const;
  void AdmitPeer(const crypto::PublicKey& key, Timestamp now);
  void RetirePeer(uint32_t peer, Timestamp now);
  // The Babel input filter (babel::EngineParams::import_filter).
  bool AcceptRoute(const babel::RouterId& origin, const babel::Destination& d) const;
  void RebuildOriginFilters();
  int64_t UnixNow() const;
  nlohmann::json IdentityJson() const;
  nlohmann::json Refused() const;
  nlohmann::json AuthorisationJson(uint32_t peer) const;

  const Clock& clock_;
  Random& random_;
  io::EventLoop& loop_;
  std::unique_ptr<io::TunDevice> tun_;
  std::unique_ptr<io::UdpSocket> udp_;
  std::mutex udp_send_mutex_;
  std::mutex tun_write_mutex_;

  std::vector<Prefix> addresses_;
  std::vector<Prefix> networks_;   // [interface] networks: unreachable unless routed
  std::vector<Prefix> announced_;  // [babel] announce: originated, delivered to the TUN
  size_t mtu_;
  std::string control_socket_;
  std::vector<std::vector<Prefix>> peer_prefixes_;
  std::vector<uint16_t> peer_keepalive_;
  std::unique_ptr<wireguard::Device> device_;
  // Shared with the snapshots that name them, so a retired peer's slot
  // outlives the workers' last look at it.
  std::vector<std::shared_ptr<PeerSlot>> slots_;
  std::shared_ptr<const AllowedIps> allowed_ips_;
  // Routes the routing protocol selected, into the forwarding table after
  // the configured ones (BuildForwardingTable).
  std::vector<ForwardingEntry> routed_;
  std::vector<ForwardingEntry> routed_for_testing_;  // SetRoutedForTesting
  SnapshotHolder snapshots_;
  DropCounters drops_;
  std::atomic<int> handshake_backlog_{0};

  io::TimerId timer_ = io::kNoTimer;
  Timestamp timer_deadline_ = Timestamp::Infinite();
  std::vector<std::thread> workers_;
  std::unique_ptr<ControlServer> control_;

  std::unique_ptr<RouteInstaller> kernel_routes_;
  std::unordered_map<crypto::PublicKey, uint32_t, crypto::PublicKeyHash> peer_index_;
  std::string state_dir_;
  std::unique_ptr<SeqnoStore> seqno_store_;
  std::unique_ptr<Router> router_;
  uint64_t fib_version_ = 0;
  std::set<babel::Destination> installed_;  // in the kernel through kernel_routes_

  // With [identity] only (node_link_control.cc).
  std::optional<IdentityConfig> identity_config_;
  std::optional<NodeIdentity> identity_;
  std::unique_ptr<mesh::LinkControl> link_control_;
  // What each authorised neighbour may originate, by its router-id.
  struct Origin {
    mesh::OriginFilter filter;
    std::vector<Prefix> blocks;  // its certificate's: no one else may originate inside them
  };
  std::map<babel::RouterId, Origin> origins_;
  std::vector<Prefix> own_blocks_;
  std::vector<bool> admitted_;                 // per peer: let in by SetAdmission
  std::vector<bool> retired_;                  // per peer: an admitted peer cut off
  std::map<uint32_t, Timestamp> pending_;      // admitted, awaiting a certificate until then
  std::map<uint32_t, Timestamp> link_starts_;  // configured mesh links: link control starts then
  struct Refusal {
    Timestamp until;     // not admitted again before
    std::string reason;  // identity::CertificateRejectionName
  };
  std::map<crypto::PublicKey, Refusal> refused_;  // admitted keys whose certificate failed
  bool want_registry_agent_ = false;              // NodeIo::registry_agent
  std::unique_ptr<RegistryAgent> registry_agent_;
};

}  // namespace plexus::node
