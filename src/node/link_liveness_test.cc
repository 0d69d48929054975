#include "node/link_liveness.h"

#include <gtest/gtest.h>

namespace plexus::node {
namespace {

using std::chrono::milliseconds;

Timestamp At(int ms) {
  return Timestamp::FromNanos(int64_t{ms} * 1'000'000 + 1'000'000'000);
}

LivenessParams Params() {
  return {milliseconds(100), milliseconds(400)};
}

TEST(LinkLivenessTest, ProbesANewLinkAtOnceThenWhenIdle) {
  LinkLiveness l(Params());
  l.AddLink(7, At(0));
  EXPECT_EQ(l.NextDeadline(), At(0));
  EXPECT_EQ(l.Tick(At(0)).probe, std::vector<uint32_t>{7});
  EXPECT_EQ(l.NextDeadline(), At(100));
  l.OnSent(7, At(60));  // traffic: no probe needed until 100 ms after it
  EXPECT_TRUE(l.Tick(At(100)).probe.empty());
  EXPECT_EQ(l.NextDeadline(), At(160));
  EXPECT_EQ(l.Tick(At(160)).probe, std::vector<uint32_t>{7});
}

TEST(LinkLivenessTest, UnknownLinkNeverGoesDown) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  for (int t = 0; t <= 5000; t += 100) EXPECT_TRUE(l.Tick(At(t)).down.empty());
  EXPECT_EQ(l.state(1), LinkState::kUnknown);
}

TEST(LinkLivenessTest, SilentLinkGoesDownAfterTimeoutAndComesBack) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  EXPECT_TRUE(l.OnReceived(1, At(10), true));   // came up
  EXPECT_FALSE(l.OnReceived(1, At(30), true));  // already up
  EXPECT_FALSE(l.probed(1));
  EXPECT_FALSE(l.OnReceived(1, At(50), true));  // the third close keepalive
  EXPECT_TRUE(l.probed(1));
  EXPECT_EQ(l.state(1), LinkState::kUp);
  EXPECT_TRUE(l.Tick(At(449)).down.empty());
  EXPECT_LE(l.NextDeadline(), At(450));
  EXPECT_EQ(l.Tick(At(450)).down, std::vector<uint32_t>{1});
  EXPECT_EQ(l.state(1), LinkState::kDown);
  EXPECT_EQ(l.last_change(1), At(450));
  EXPECT_TRUE(l.Tick(At(2000)).down.empty());  // reported once
  EXPECT_TRUE(l.OnReceived(1, At(2100)));
  EXPECT_EQ(l.state(1), LinkState::kUp);
}

TEST(LinkLivenessTest, KeepsProbingWhileDown) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  for (int t = 0; t <= 20; t += 10) l.OnReceived(1, At(t), true);
  int probes = 0;
  for (int t = 0; t <= 1000; t += 50) probes += static_cast<int>(l.Tick(At(t)).probe.size());
  EXPECT_EQ(l.state(1), LinkState::kDown);
  EXPECT_EQ(probes, 11);  // every 100 ms, down or not, so the far end hears us come back
}

// A standard WireGuard peer: Babel Hellos every 4 s, keepalives at most every
// second. Its silences are not failures; Babel's own timers judge the link.
TEST(LinkLivenessTest, PeerThatDoesNotProbeIsNeverDeclaredDown) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  for (int t = 0; t <= 20000; t += 1000) {
    l.OnReceived(1, At(t), t % 4000 != 0);  // keepalives every second, Hellos every 4 s
    EXPECT_TRUE(l.Tick(At(t + 500)).down.empty()) << t;
  }
  EXPECT_FALSE(l.probed(1));
  EXPECT_EQ(l.state(1), LinkState::kUp);
}

TEST(LinkLivenessTest, DataTrafficAloneDoesNotMakeALinkProbed) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  for (int t = 0; t <= 1000; t += 10) l.OnReceived(1, At(t), false);
  EXPECT_FALSE(l.probed(1));
  EXPECT_TRUE(l.Tick(At(5000)).down.empty());
}

TEST(LinkLivenessTest, SpacedKeepalivesRestartTheCount) {
  LinkLiveness l(Params());
  l.AddLink(1, At(0));
  l.OnReceived(1, At(0), true);
  l.OnReceived(1, At(150), true);
  l.OnReceived(1, At(1000), true);  // 850 ms later: not a probe rhythm
  l.OnReceived(1, At(1150), true);
  EXPECT_FALSE(l.probed(1));
  l.OnReceived(1, At(1300), true);
  EXPECT_TRUE(l.probed(1));
}

TEST(LinkLivenessTest, UnknownLinksAreIgnored) {
  LinkLiveness l(Params());
  EXPECT_FALSE(l.OnReceived(3, At(0)));
  l.OnSent(3, At(0));
  EXPECT_EQ(l.NextDeadline(), Timestamp::Infinite());
  EXPECT_EQ(l.state(3), LinkState::kUnknown);
}

}  // namespace
}  // namespace plexus::node
