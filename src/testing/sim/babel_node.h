// BabelNode: a babel::Engine as a simulated node (protocol.h). Node n gets
// router-id n + 1.
#pragma once

#include <memory>

#include "babel/engine.h"
#include "testing/sim/protocol.h"

namespace plexus::sim {

class BabelNode final : public NodeProtocol {
 public:
  // `saved` (may be null) models the node's seqno file (node/seqno_store.h):
  // it holds the seqno of everything the node has sent, across restarts.
  BabelNode(const babel::EngineParams& params, Random& random, Timestamp now,
            babel::Seqno* saved = nullptr)
      : engine_(params, random, now), saved_(saved) {}

  Status AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now) override;
  void AddPrefix(const babel::Destination& destination, Timestamp now) override;
  void InterfaceDown(uint32_t id, Timestamp now) override;
  void InterfaceUp(uint32_t id, Timestamp now) override;
  void Receive(uint32_t id, const IpAddress& source, ByteSpan packet, Timestamp now) override;
  void Tick(Timestamp now) override;
  Timestamp NextDeadline() const override;
  std::vector<babel::OutgoingPacket> TakeOutgoing() override;
  std::vector<babel::InstalledRoute> Fib() const override;
  uint64_t fib_version() const override;
  std::optional<std::vector<babel::Destination>> TakeFibChanges() override;
  std::optional<babel::InstalledRoute> FibEntry(
      const babel::Destination& destination) const override;

  babel::Engine& engine() { return engine_; }

 private:
  babel::Engine engine_;
  babel::Seqno* saved_;
};

// Nodes running babel::Engine with `params` (router_id replaced per node). A
// restarted node starts one past the seqno it last sent, as the node does
// with its seqno file; a node's first start draws a random one.
ProtocolFactory BabelFactory(babel::EngineParams params);

}  // namespace plexus::sim
