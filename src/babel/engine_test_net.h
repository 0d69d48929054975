// A tiny in-test network for engine tests: Engine instances joined by
// point-to-point links that deliver packets instantly (or drop them while a
// link is cut), driven by a fake time that jumps to the next deadline.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "babel/engine.h"
#include "babel/tlv.h"
#include "testing/fake_random.h"

namespace plexus::babel::testnet {

inline Destination Dest(const char* prefix, const char* source = nullptr) {
  Destination d{*Prefix::Parse(prefix), std::nullopt};
  if (source != nullptr) d.source_prefix = *Prefix::Parse(source);
  return d;
}

inline IpAddress Ll(int node, int interface) {
  return *IpAddress::Parse("fe80::" + std::to_string(node + 1) + ":" + std::to_string(interface));
}

struct Sent {
  int node;
  OutgoingPacket packet;
  Packet decoded;
};

class Net {
 public:
  explicit Net(int nodes, EngineParams params = {}) {
    for (int i = 0; i < nodes; ++i) {
      randoms_.push_back(std::make_unique<testing::FakeRandom>(1000 + i));
      params.router_id = RouterId::FromUint64(0x100 + i);
      engines_.push_back(std::make_unique<Engine>(params, *randoms_.back(), now_));
    }
  }

  Engine& operator[](int node) { return *engines_[node]; }
  Timestamp now() const { return now_; }
  size_t size() const { return engines_.size(); }

  // Joins node a and node b; returns the link's index. Interface ids count
  // from 1 per node.
  int Link(int a, int b, Duration delay = Duration::zero()) {
    links_.push_back({End(a), End(b), true, delay});
    const int index = static_cast<int>(links_.size()) - 1;
    by_end_[{a, links_.back().a.interface}] = index;
    by_end_[{b, links_.back().b.interface}] = index;
    EXPECT_TRUE(
        engines_[a]->AddInterface(links_.back().a.interface, links_.back().a.address, now_));
    EXPECT_TRUE(
        engines_[b]->AddInterface(links_.back().b.interface, links_.back().b.address, now_));
    return static_cast<int>(links_.size()) - 1;
  }
  uint32_t InterfaceOf(int link, int node) const {
    return links_[link].a.node == node ? links_[link].a.interface : links_[link].b.interface;
  }
  IpAddress AddressOf(int link, int node) const {
    return links_[link].a.node == node ? links_[link].a.address : links_[link].b.address;
  }
  // The node at the other end of `node`'s interface.
  int PeerOf(int node, uint32_t interface) const {
    const LinkState& link = links_[by_end_.at({node, interface})];
    return link.a.node == node ? link.b.node : link.a.node;
  }
  // A cut link drops everything silently (no InterfaceDown).
  void Cut(int link, bool cut = true) { links_[link].up = !cut; }

  // Delivers queued packets until none are left; every packet is recorded.
  void Deliver() {
    for (int round = 0; round < 1000; ++round) {
      bool any = false;
      for (size_t n = 0; n < engines_.size(); ++n) {
        for (OutgoingPacket& p : engines_[n]->TakeOutgoing()) {
          any = true;
          Route(static_cast<int>(n), p);
        }
      }
      if (!any) return;
    }
    ADD_FAILURE() << "packets still flowing after 1000 rounds";
  }

  // Runs every timer up to now + d, delivering packets as they go.
  void Run(Duration d) {
    const Timestamp end = now_ + d;
    for (int steps = 0; steps < 1'000'000; ++steps) {
      Deliver();
      Timestamp next = in_flight_.empty() ? Timestamp::Infinite() : in_flight_.begin()->first;
      for (auto& e : engines_) next = std::min(next, e->NextDeadline());
      if (next > end) break;
      now_ = std::max(now_, next);
      Land();
      for (auto& e : engines_) {
        if (e->NextDeadline() <= now_) e->Tick(now_);
      }
    }
    now_ = end;
    Land();
    for (auto& e : engines_) e->Tick(now_);
    Deliver();
  }

  std::vector<Sent>& sent() { return sent_; }
  // Large networks skip decoding and recording every packet.
  void set_record(bool record) { record_ = record; }
  uint64_t packets() const { return packets_; }
  // Packets sent by `node` since the last clear.
  std::vector<Sent> SentBy(int node) const {
    std::vector<Sent> out;
    for (const Sent& s : sent_) {
      if (s.node == node) out.push_back(s);
    }
    return out;
  }

 private:
  struct LinkEnd {
    int node;
    uint32_t interface;
    IpAddress address;
  };
  struct LinkState {
    LinkEnd a, b;
    bool up;
    Duration delay;
  };
  // A packet on a link with a delay.
  struct Flight {
    int link;
    int to_node;
    uint32_t to_interface;
    IpAddress from;
    Bytes payload;
  };

  // Hands over the delayed packets due by now (dropped if the link was cut).
  void Land() {
    while (!in_flight_.empty() && in_flight_.begin()->first <= now_) {
      const Flight f = std::move(in_flight_.begin()->second);
      in_flight_.erase(in_flight_.begin());
      if (links_[f.link].up) engines_[f.to_node]->Receive(f.to_interface, f.from, f.payload, now_);
    }
  }

  LinkEnd End(int node) {
    const int interface = ++interfaces_[node];
    return {node, static_cast<uint32_t>(interface), Ll(node, interface)};
  }

  void Route(int node, const OutgoingPacket& p) {
    const auto it = by_end_.find({node, p.interface_id});
    if (it == by_end_.end()) {
      ADD_FAILURE() << "packet on unknown interface " << p.interface_id;
      return;
    }
    const LinkState& link = links_[it->second];
    const bool from_a = link.a.node == node;
    const LinkEnd& self = from_a ? link.a : link.b;
    const LinkEnd& peer = from_a ? link.b : link.a;
    EXPECT_LE(p.payload.size(), kMaxPacketSize);
    if (record_) {
      Result<Packet> decoded = DecodePacket(p.payload, self.address);
      EXPECT_TRUE(decoded.ok());
      if (decoded) sent_.push_back({node, p, *decoded});
    }
    ++packets_;
    if (!link.up || (p.destination && *p.destination != peer.address)) return;
    if (link.delay > Duration::zero()) {
      in_flight_.emplace(now_ + link.delay,
                         Flight{it->second, peer.node, peer.interface, self.address, p.payload});
      return;
    }
    engines_[peer.node]->Receive(peer.interface, self.address, p.payload, now_);
  }

  Timestamp now_ = Timestamp::FromNanos(int64_t{1'000'000'000'000});
  std::vector<std::unique_ptr<testing::FakeRandom>> randoms_;
  std::vector<std::unique_ptr<Engine>> engines_;
  std::vector<LinkState> links_;
  std::map<int, int> interfaces_;
  std::map<std::pair<int, uint32_t>, int> by_end_;  // (node, interface) -> link
  std::vector<Sent> sent_;
  std::multimap<Timestamp, Flight> in_flight_;  // equal times keep their order
  bool record_ = true;
  uint64_t packets_ = 0;
};

// The installed route of `dest` at `engine`, if any.
inline std::optional<InstalledRoute> FibEntry(const Engine& engine, const Destination& dest) {
  for (const InstalledRoute& r : engine.Fib()) {
    if (r.destination == dest) return r;
  }
  return std::nullopt;
}

// Every Update TLV in `sent`.
inline std::vector<Update> Updates(const std::vector<Sent>& sent) {
  std::vector<Update> out;
  for (const Sent& s : sent) {
    for (const Tlv& tlv : s.decoded.tlvs) {
      if (const auto* u = std::get_if<Update>(&tlv)) out.push_back(*u);
    }
  }
  return out;
}

}  // namespace plexus::babel::testnet
