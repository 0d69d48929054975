#include "testing/sim/babel_node.h"

#include <map>
#include <memory>

namespace plexus::sim {

Status BabelNode::AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now) {
  return engine_.AddInterface(id, link_local, now);
}

void BabelNode::AddPrefix(const babel::Destination& destination, Timestamp now) {
  engine_.AddPrefix(destination, now);
}

void BabelNode::InterfaceDown(uint32_t id, Timestamp now) {
  engine_.InterfaceDown(id, now);
}

void BabelNode::InterfaceUp(uint32_t id, Timestamp now) {
  engine_.InterfaceUp(id, now);
}

void BabelNode::Receive(uint32_t id, const IpAddress& source, ByteSpan packet, Timestamp now) {
  engine_.Receive(id, source, packet, now);
}

void BabelNode::Tick(Timestamp now) {
  engine_.Tick(now);
}

Timestamp BabelNode::NextDeadline() const {
  return engine_.NextDeadline();
}

std::vector<babel::OutgoingPacket> BabelNode::TakeOutgoing() {
  std::vector<babel::OutgoingPacket> out = engine_.TakeOutgoing();
  if (saved_ != nullptr && !out.empty()) *saved_ = engine_.seqno();
  return out;
}

std::vector<babel::InstalledRoute> BabelNode::Fib() const {
  return engine_.Fib();
}

uint64_t BabelNode::fib_version() const {
  return engine_.fib_version();
}

std::optional<std::vector<babel::Destination>> BabelNode::TakeFibChanges() {
  return engine_.TakeFibChanges();
}

std::optional<babel::InstalledRoute> BabelNode::FibEntry(
    const babel::Destination& destination) const {
  return engine_.FibEntry(destination);
}

ProtocolFactory BabelFactory(babel::EngineParams params) {
  auto saved = std::make_shared<std::map<int, babel::Seqno>>();
  return [params, saved](int node, Random& random, Timestamp now) {
    babel::EngineParams p = params;
    p.router_id = babel::RouterId::FromUint64(static_cast<uint64_t>(node) + 1);
    auto it = saved->find(node);
    if (it != saved->end()) p.initial_seqno = it->second.Next();
    babel::Seqno& slot = (*saved)[node];
    auto protocol = std::make_unique<BabelNode>(p, random, now, &slot);
    slot = protocol->engine().seqno();
    return protocol;
  };
}

}  // namespace plexus::sim
