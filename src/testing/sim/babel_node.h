// BabelNode: a babel::Engine as a simulated node (protocol.h). Node n gets
// router-id n + 1.
#pragma once

#include <memory>

#include "babel/engine.h"
#include "testing/sim/protocol.h"

namespace plexus::sim {

class BabelNode final : public NodeProtocol {
 public:
  BabelNode(const babel::EngineParams& params, Random& random, Timestamp now)
      : engine_(params, random, now) {}

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
};

// Nodes running babel::Engine with `params` (router_id replaced per node).
ProtocolFactory BabelFactory(babel::EngineParams params);

}  // namespace plexus::sim
