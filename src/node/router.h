// Router: the node's routing, on the control thread (DESIGN.md §2.5, §3).
// It runs the Babel engine over the node's mesh links and watches their
// transport, so that a silent link is declared down at once.
//
//   data plane: link-local UDP 6696 ──Receive──> babel::Engine ──> Babel packets
//   transport events ─TransportReceived/Sent──> LinkLiveness ──> probes, InterfaceDown/Up
//   TakeOutput(): IPv6 packets to send on links, keepalive probes
//   engine().Fib(): the selected routes, for the forwarding table
//
// A mesh link is one Babel interface whose id is the node's peer index. It
// starts after a random delay of up to RouterParams::start_jitter: two nodes
// started together would otherwise both open a WireGuard handshake at the
// same instant, and crossed initiations cost both a REKEY_TIMEOUT (5 s). The
// node speaks from one link-local address on every link (LinkLocalAddress of
// its public key) and its router-id is that address's interface identifier.
//
// Threading: not thread-safe; owned by the Node on its control thread.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "babel/engine.h"
#include "base/bytes.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "node/config.h"
#include "node/link_liveness.h"
#include "node/link_local_udp.h"

namespace plexus::node {

struct RouterParams {
  IpAddress link_local;
  Duration start_jitter = std::chrono::milliseconds(300);
  babel::EngineParams engine;
  LivenessParams liveness;
};

// The router-id of the node whose WireGuard key is `key`: the interface
// identifier of its link-local address (LinkLocalAddress).
babel::RouterId RouterIdOf(const crypto::PublicKey& key);

// The parameters of `babel` for the node whose WireGuard key is `key`.
RouterParams MakeRouterParams(const BabelConfig& babel, const crypto::PublicKey& key);

// An IPv6 packet (link-local UDP) to send on the link with peer index `link`.
struct LinkPacket {
  uint32_t link = 0;
  Bytes packet;
};

struct RouterOutput {
  std::vector<LinkPacket> packets;
  std::vector<uint32_t> probes;  // links that need a keepalive
  // Links that just went silent: the session may be gone at the far end (it
  // restarted), so the node starts a new handshake rather than wait for
  // WireGuard's timers (up to 15 s).
  std::vector<uint32_t> went_down;
};

struct RouterCounters {
  uint64_t malformed = 0;        // link-local packets that failed ParseLinkLocalUdp
  uint64_t wrong_port = 0;       // link-local UDP to a port the router does not serve
  uint64_t links_went_down = 0;  // silent links declared down
};

class Router {
 public:
  Router(const RouterParams& params, Random& random, Timestamp now);

  // Babel starts on the link after the start jitter (see above).
  void AddLink(uint32_t link, Timestamp now);
  // Stops Babel on the link (its routes are retracted); no-op when absent.
  void RemoveLink(uint32_t link, Timestamp now);
  bool HasLink(uint32_t link) const;
  void AddPrefix(const Prefix& prefix, Timestamp now);

  // A link-local UDP packet (the whole IPv6 packet) that arrived on `link`.
  // Bad packets are counted and answered with the reason.
  Status Receive(uint32_t link, ByteSpan packet, Timestamp now);
  // The same, parsed already (node/link_local_udp.h).
  Status Receive(uint32_t link, const LinkLocalUdp& udp, Timestamp now);
  // Transport messages were received / sent on the link (liveness);
  // `keepalive_only`: nothing but one WireGuard keepalive arrived.
  void TransportReceived(uint32_t link, Timestamp now, bool keepalive_only = false);
  void TransportSent(uint32_t link, Timestamp now);

  void Tick(Timestamp now);
  Timestamp NextDeadline() const;
  RouterOutput TakeOutput();

  const babel::Engine& engine() const { return engine_; }
  const LinkLiveness& liveness() const { return liveness_; }
  const IpAddress& link_local() const { return link_local_; }
  const RouterCounters& counters() const { return counters_; }

 private:
  void StartDueLinks(Timestamp now);
  void StartEarly(uint32_t link, Timestamp now);

  IpAddress link_local_;
  Duration start_jitter_;
  Random& random_;
  std::map<uint32_t, Timestamp> starting_;  // links waiting for their start time
  std::set<uint32_t> links_;                // links Babel runs on
  babel::Engine engine_;
  LinkLiveness liveness_;
  RouterCounters counters_;
  std::vector<uint32_t> probes_;
  std::vector<uint32_t> went_down_;
};

}  // namespace plexus::node
