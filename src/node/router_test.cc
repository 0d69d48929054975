#include "node/router.h"

#include <gtest/gtest.h>

#include "node/link_local_udp.h"
#include "testing/fake_random.h"

namespace plexus::node {
namespace {

using std::chrono::milliseconds;

crypto::PublicKey Key(uint64_t seed) {
  testing::FakeRandom random(seed);
  return crypto::PrivateKey::Generate(random).Public();
}

Prefix P(std::string_view text) {
  return *Prefix::Parse(text);
}

// Two routers joined by one link (peer index 0 on each side), packets handed
// across by hand, the transport reported as alive while `connected`.
class RouterPairTest : public ::testing::Test {
 protected:
  RouterPairTest()
      : a_(MakeRouterParams(Babel(), Key(1)), random_a_, now_),
        b_(MakeRouterParams(Babel(), Key(2)), random_b_, now_) {
    a_.AddLink(0, now_);
    b_.AddLink(0, now_);
    a_.AddPrefix(P("fd00:a::1/64"), now_);
    a_.AddPrefix(P("10.0.1.1/24"), now_);
    b_.AddPrefix(P("fd00:b::/64"), now_);
  }

  static BabelConfig Babel() {
    BabelConfig c;
    c.hello_interval_s = 0.2;
    c.link_probe_interval_s = 0.05;
    c.link_timeout_s = 0.2;
    return c;
  }

  // Runs both routers for `duration` in 10 ms steps.
  void Run(Duration duration) {
    const Timestamp end = now_ + duration;
    while (now_ < end) {
      now_ = now_ + milliseconds(10);
      a_.Tick(now_);
      b_.Tick(now_);
      Deliver(a_, b_);
      Deliver(b_, a_);
    }
  }

  void Deliver(Router& from, Router& to) {
    RouterOutput out = from.TakeOutput();
    probes_ += out.probes.size();
    if (&from == &a_)
      went_down_a_.insert(went_down_a_.end(), out.went_down.begin(), out.went_down.end());
    if (!connected_) return;
    if (!out.packets.empty() || !out.probes.empty()) {
      to.TransportReceived(0, now_, out.packets.empty());  // probes alone: keepalives
    }
    for (const LinkPacket& p : out.packets) {
      from.TransportSent(0, now_);
      ASSERT_TRUE(to.Receive(0, p.packet, now_));
    }
  }

  static bool Routes(const Router& r, std::string_view prefix) {
    for (const babel::InstalledRoute& route : r.engine().Fib()) {
      if (route.destination.prefix == P(prefix)) return true;
    }
    return false;
  }

  testing::FakeRandom random_a_{11};
  testing::FakeRandom random_b_{12};
  Timestamp now_ = Timestamp::FromNanos(1'000'000'000);
  Router a_;
  Router b_;
  bool connected_ = true;
  size_t probes_ = 0;
  std::vector<uint32_t> went_down_a_;
};

TEST_F(RouterPairTest, LearnEachOthersPrefixes) {
  Run(std::chrono::seconds(2));
  EXPECT_TRUE(Routes(b_, "fd00:a::/64"));
  EXPECT_TRUE(Routes(b_, "10.0.1.0/24"));
  EXPECT_TRUE(Routes(a_, "fd00:b::/64"));
  for (const babel::InstalledRoute& route : b_.engine().Fib()) {
    EXPECT_EQ(route.interface_id, 0u);
    EXPECT_EQ(route.next_hop, a_.link_local());  // IPv4 too: RFC 9229
  }
  EXPECT_EQ(a_.liveness().state(0), LinkState::kUp);
  EXPECT_GT(probes_, 0u);
}

TEST_F(RouterPairTest, SilentLinkIsDeclaredDownWithinTheTimeout) {
  Run(std::chrono::seconds(2));
  ASSERT_TRUE(Routes(a_, "fd00:b::/64"));
  connected_ = false;
  Run(milliseconds(300));  // timeout 200 ms (+ a 10 ms step)
  EXPECT_EQ(a_.liveness().state(0), LinkState::kDown);
  EXPECT_FALSE(Routes(a_, "fd00:b::/64"));
  EXPECT_EQ(a_.counters().links_went_down, 1u);
  EXPECT_EQ(went_down_a_, std::vector<uint32_t>{0});  // the node re-handshakes on it
  connected_ = true;
  Run(std::chrono::seconds(2));
  EXPECT_EQ(a_.liveness().state(0), LinkState::kUp);
  EXPECT_TRUE(Routes(a_, "fd00:b::/64"));
}

TEST_F(RouterPairTest, PacketsAreLinkLocalUdpToTheBabelPort) {
  Run(milliseconds(100));
  RouterOutput out = a_.TakeOutput();
  Run(milliseconds(300));
  out = a_.TakeOutput();
  a_.Tick(now_ + std::chrono::seconds(1));
  out = a_.TakeOutput();
  ASSERT_FALSE(out.packets.empty());
  auto udp = ParseLinkLocalUdp(out.packets[0].packet);
  ASSERT_TRUE(udp) << udp.error().message();
  EXPECT_EQ(udp->source, a_.link_local());
  EXPECT_EQ(udp->destination_port, 6696);
}

TEST_F(RouterPairTest, BadPacketsAreCountedNotFatal) {
  EXPECT_FALSE(a_.Receive(0, Bytes(10, std::byte{0}), now_));
  EXPECT_EQ(a_.counters().malformed, 1u);
  const Bytes other_port =
      BuildLinkLocalUdp(b_.link_local(), a_.link_local(), 6327, Bytes(4, std::byte{0}));
  EXPECT_FALSE(a_.Receive(0, other_port, now_));
  EXPECT_EQ(a_.counters().wrong_port, 1u);
  const Bytes garbage =
      BuildLinkLocalUdp(b_.link_local(), a_.link_local(), 6696, Bytes(40, std::byte{0xAB}));
  EXPECT_TRUE(a_.Receive(0, garbage, now_));  // reaches the engine, which counts it
  EXPECT_EQ(a_.engine().stats().malformed_packets, 1u);
}

}  // namespace
}  // namespace plexus::node
