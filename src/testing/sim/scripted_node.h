// ScriptedNode: a NodeProtocol for the simulator's own tests. It sends the
// packets and installs the FIBs of a timed script (through its deadline, so
// the simulator's tick machinery is exercised) and records every call.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "testing/sim/protocol.h"

namespace plexus::sim {

class ScriptedNode final : public NodeProtocol {
 public:
  struct Received {
    Timestamp at;
    uint32_t interface_id;
    IpAddress source;
    Bytes payload;
  };

  // At `at`, queue `packet`.
  void SendAt(Timestamp at, babel::OutgoingPacket packet) { sends_.emplace(at, std::move(packet)); }
  // At `at`, replace the FIB with `fib`.
  void InstallAt(Timestamp at, std::vector<babel::InstalledRoute> fib) {
    fibs_.emplace(at, std::move(fib));
  }
  // Makes NextDeadline() report `at` forever (Tick does not advance it).
  void StallAt(Timestamp at) { stall_ = at; }

  Status AddInterface(uint32_t id, const IpAddress& link_local, Timestamp now) override {
    interfaces.emplace_back(id, link_local);
    if (greet) outbox_.push_back({id, std::nullopt, Bytes{std::byte{0xAA}}});
    return {};
  }
  void AddPrefix(const babel::Destination& destination, Timestamp now) override {
    prefixes.push_back(destination);
  }
  void InterfaceDown(uint32_t id, Timestamp now) override {
    events.push_back(Event("down", id, now));
  }
  void InterfaceUp(uint32_t id, Timestamp now) override { events.push_back(Event("up", id, now)); }
  void Receive(uint32_t id, const IpAddress& source, ByteSpan packet, Timestamp now) override {
    received.push_back({now, id, source, Bytes(packet.begin(), packet.end())});
  }
  void Tick(Timestamp now) override {
    ticks.push_back(now);
    for (auto it = sends_.begin(); it != sends_.end() && it->first <= now;) {
      outbox_.push_back(std::move(it->second));
      it = sends_.erase(it);
    }
    for (auto it = fibs_.begin(); it != fibs_.end() && it->first <= now;) {
      fib_ = std::move(it->second);
      ++fib_version_;
      it = fibs_.erase(it);
    }
  }
  Timestamp NextDeadline() const override {
    Timestamp t = stall_.value_or(Timestamp::Infinite());
    if (!sends_.empty()) t = std::min(t, sends_.begin()->first);
    if (!fibs_.empty()) t = std::min(t, fibs_.begin()->first);
    return t;
  }
  std::vector<babel::OutgoingPacket> TakeOutgoing() override { return std::exchange(outbox_, {}); }
  std::vector<babel::InstalledRoute> Fib() const override { return fib_; }
  uint64_t fib_version() const override { return fib_version_; }

  bool greet = false;  // AddInterface queues a packet {0xAA}, as Engine sends a Hello
  std::vector<std::pair<uint32_t, IpAddress>> interfaces;
  std::vector<babel::Destination> prefixes;
  std::vector<std::string> events;  // "down 1 @1000000000"
  std::vector<Received> received;
  std::vector<Timestamp> ticks;

 private:
  static std::string Event(const char* what, uint32_t id, Timestamp now) {
    return std::string(what) + " " + std::to_string(id) + " @" + std::to_string(now.nanos());
  }

  std::multimap<Timestamp, babel::OutgoingPacket> sends_;
  std::multimap<Timestamp, std::vector<babel::InstalledRoute>> fibs_;
  std::optional<Timestamp> stall_;
  std::vector<babel::OutgoingPacket> outbox_;
  std::vector<babel::InstalledRoute> fib_;
  uint64_t fib_version_ = 0;
};

// A factory that keeps a pointer to every instance it made, newest last per node.
struct ScriptedFactory {
  std::map<int, std::vector<ScriptedNode*>> made;
  // Called on each new instance before the network uses it.
  std::function<void(int node, ScriptedNode&)> setup;

  ProtocolFactory Make() {
    return [this](int node, Random&, Timestamp) {
      auto p = std::make_unique<ScriptedNode>();
      made[node].push_back(p.get());
      if (setup) setup(node, *p);
      return p;
    };
  }
  ScriptedNode& Latest(int node) { return *made.at(node).back(); }
};

}  // namespace plexus::sim
