// Test harness: two Devices on one fake network. Header-only so that the
// library glob does not pick it up; included by *_test.cc only.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "testing/fake_clock.h"
#include "testing/fake_random.h"
#include "wireguard/device.h"

namespace plexus::wireguard::testing_util {

// Two devices, A at 192.0.2.1:51820 and B at 198.51.100.2:51820, peered with
// each other, passing datagrams in memory. Every Outputs is pumped until no
// datagram is left; a filter may drop or observe datagrams in flight.
class DevicePair {
 public:
  explicit DevicePair(bool psk = false) {
    testing::FakeRandom keys(99);
    crypto::PrivateKey ka = crypto::PrivateKey::Generate(keys);
    crypto::PrivateKey kb = crypto::PrivateKey::Generate(keys);
    pa_ = ka.Public();
    pb_ = kb.Public();
    ep_a_ = *Endpoint::Parse("192.0.2.1:51820");
    ep_b_ = *Endpoint::Parse("198.51.100.2:51820");
    a_ = std::make_unique<Device>(std::move(ka), random_a_, clock_);
    b_ = std::make_unique<Device>(std::move(kb), random_b_, clock_);
    PresharedKey psk_a, psk_b;
    if (psk) {
      keys.Fill(psk_a.mutable_span());
      psk_b = psk_a.Clone();
    }
    EXPECT_TRUE(a_->AddPeer({pb_, std::move(psk_a), ep_b_, Duration(0)}, now()).ok());
    EXPECT_TRUE(b_->AddPeer({pa_, std::move(psk_b), ep_a_, Duration(0)}, now()).ok());
  }

  Device& a() { return *a_; }
  Device& b() { return *b_; }
  const crypto::PublicKey& pa() const { return pa_; }
  const crypto::PublicKey& pb() const { return pb_; }
  Endpoint& ep_a() { return ep_a_; }
  Endpoint& ep_b() { return ep_b_; }
  testing::FakeClock& clock() { return clock_; }
  Timestamp now() const { return clock_.Now(); }

  // Delivers `out`'s datagrams (sent by `sender`) and everything they cause.
  void Pump(Device& sender, Outputs out) {
    std::deque<InFlight> q;
    Enqueue(sender, out, q);
    while (!q.empty()) {
      InFlight f = std::move(q.front());
      q.pop_front();
      bool to_a = f.to == a_.get();
      if (filter && !filter(*f.to, f.bytes)) continue;
      (to_a ? delivered_to_a : delivered_to_b).push_back(f.bytes);
      Outputs o = f.to->Receive(now(), f.bytes, f.from, to_a ? a_under_load : b_under_load);
      if (o.drop) (to_a ? drops_at_a : drops_at_b).push_back(*o.drop);
      for (auto& p : o.packets) (to_a ? received_by_a : received_by_b).push_back(p.packet);
      Enqueue(*f.to, o, q);
    }
  }
  // Ticks both devices at the current time and pumps.
  void Tick() {
    Pump(*a_, a_->Tick(now()));
    Pump(*b_, b_->Tick(now()));
  }
  // Advances the clock by `d`, stopping at every deadline on the way to tick
  // and pump.
  void Run(Duration d) {
    Timestamp end = now() + d;
    for (;;) {
      Timestamp next = std::min(a_->NextDeadline(), b_->NextDeadline());
      if (next > end) break;
      clock_.AdvanceTo(next);
      Tick();
    }
    clock_.AdvanceTo(end);
    Tick();
  }

  // Received plaintext packets, per receiving device.
  std::vector<Bytes> received_by_a;
  std::vector<Bytes> received_by_b;
  // Every drop, per receiving device.
  std::vector<DropReason> drops_at_a;
  std::vector<DropReason> drops_at_b;
  // Datagrams delivered (after the filter), per receiving device.
  std::vector<Bytes> delivered_to_a;
  std::vector<Bytes> delivered_to_b;
  // Return false to lose a datagram. Arguments: receiving device, bytes.
  std::function<bool(Device&, const Bytes&)> filter;
  bool a_under_load = false;
  bool b_under_load = false;
  // All outputs' flags, accumulated.
  std::vector<crypto::PublicKey> drop_staged;

 private:
  struct InFlight {
    Device* to;
    Endpoint from;
    Bytes bytes;
  };
  void Enqueue(Device& sender, Outputs& out, std::deque<InFlight>& q) {
    for (auto& d : out.drop_staged) drop_staged.push_back(d);
    for (auto& d : out.datagrams) {
      Device* to = d.to == ep_a_ ? a_.get() : d.to == ep_b_ ? b_.get() : nullptr;
      if (to == nullptr) continue;  // addressed to nowhere (e.g. an old endpoint)
      q.push_back({to, SourceOf(sender), std::move(d.bytes)});
    }
  }
  Endpoint SourceOf(Device& sender) { return &sender == a_.get() ? ep_a_ : ep_b_; }

  testing::FakeClock clock_;
  testing::FakeRandom random_a_{11};
  testing::FakeRandom random_b_{22};
  crypto::PublicKey pa_;
  crypto::PublicKey pb_;
  Endpoint ep_a_;
  Endpoint ep_b_;
  std::unique_ptr<Device> a_;
  std::unique_ptr<Device> b_;
};

inline Bytes Packet(std::string_view text) {
  ByteSpan b = AsBytes(text);
  return Bytes(b.begin(), b.end());
}
// The first `n` bytes of a padded plaintext as text.
inline std::string Text(const Bytes& b, size_t n) {
  return std::string(AsChars(ByteSpan(b).first(std::min(n, b.size()))));
}

}  // namespace plexus::wireguard::testing_util
