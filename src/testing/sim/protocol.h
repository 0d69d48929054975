// NodeProtocol: what the simulator drives on each node. It is the shape of
// babel::Engine (babel_node.h adapts one); the simulator's own tests plug in
// small fakes, so the framework is testable without the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "babel/engine.h"
#include "base/bytes.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"

namespace plexus::sim {

class NodeProtocol {
 public:
  virtual ~NodeProtocol() = default;

  virtual Status AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now) = 0;
  virtual void AddPrefix(const babel::Destination& destination, Timestamp now) = 0;
  virtual void InterfaceDown(uint32_t id, Timestamp now) = 0;
  virtual void InterfaceUp(uint32_t id, Timestamp now) = 0;
  virtual void Receive(uint32_t id, const IpAddress& source, ByteSpan packet, Timestamp now) = 0;
  virtual void Tick(Timestamp now) = 0;
  virtual Timestamp NextDeadline() const = 0;
  virtual std::vector<babel::OutgoingPacket> TakeOutgoing() = 0;
  // Sorted by destination; own prefixes excluded.
  virtual std::vector<babel::InstalledRoute> Fib() const = 0;
  virtual uint64_t fib_version() const = 0;
  // The destinations whose FIB entry may have changed since the last call,
  // or nullopt when unknown (the simulator then compares all of Fib()).
  virtual std::optional<std::vector<babel::Destination>> TakeFibChanges() { return std::nullopt; }
  virtual std::optional<babel::InstalledRoute> FibEntry(
      const babel::Destination& /*destination*/) const {
    return std::nullopt;
  }
};

// Creates the protocol of node `node` (0-based) at `now`; `random` is the
// network's and outlives the protocol.
using ProtocolFactory =
    std::function<std::unique_ptr<NodeProtocol>(int node, Random& random, Timestamp now)>;

}  // namespace plexus::sim
