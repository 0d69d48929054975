#include "wireguard/timers.h"

#include <gtest/gtest.h>

#include "testing/fake_random.h"
#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);

TEST(TimersTest, NothingArmedMeansInfiniteDeadline) {
  Timers t;
  EXPECT_EQ(t.NextDeadline(), Timestamp::Infinite());
  TimerActions a = t.Fire(kT0 + 1000s);
  EXPECT_FALSE(a.send_keepalive || a.new_handshake || a.retransmit_handshake);
}

TEST(TimersTest, SecondDataReceivedSchedulesAnotherKeepalive) {
  Timers t;
  t.DataReceived(kT0);
  t.DataReceived(kT0 + 1s);  // timer already armed: remember to send another
  EXPECT_EQ(t.NextDeadline(), kT0 + kKeepaliveTimeout);
  EXPECT_TRUE(t.Fire(kT0 + kKeepaliveTimeout).send_keepalive);
  EXPECT_EQ(t.NextDeadline(), kT0 + 2 * kKeepaliveTimeout);
  EXPECT_TRUE(t.Fire(kT0 + 2 * kKeepaliveTimeout).send_keepalive);
  EXPECT_EQ(t.NextDeadline(), Timestamp::Infinite());
}

TEST(TimersTest, SendingCancelsKeepaliveAndReceivingCancelsNewHandshake) {
  testing::FakeRandom random;
  Timers t;
  t.DataReceived(kT0);
  t.AnyAuthenticatedPacketSent();
  EXPECT_FALSE(t.send_keepalive_armed());
  t.DataSent(kT0, random);
  EXPECT_TRUE(t.new_handshake_armed());
  Timestamp first = t.NextDeadline();
  t.DataSent(kT0 + 1s, random);
  EXPECT_EQ(t.NextDeadline(), first) << "not pushed back by more data";
  t.AnyAuthenticatedPacketReceived();
  EXPECT_FALSE(t.new_handshake_armed());
}

TEST(TimersTest, RetransmitCountsAttemptsThenGivesUp) {
  testing::FakeRandom random;
  Timers t;
  Timestamp now = kT0;
  t.HandshakeInitiated(now, random);
  int retries = 0;
  for (;;) {
    now = t.NextDeadline();
    TimerActions a = t.Fire(now);
    if (a.give_up_handshake) break;
    ASSERT_TRUE(a.retransmit_handshake);
    ++retries;
    t.HandshakeInitiated(now, random);
  }
  EXPECT_EQ(retries, kMaxTimerHandshakes + 1);
  EXPECT_TRUE(t.zero_key_material_armed());
  EXPECT_EQ(t.NextDeadline(), now + kRejectAfterTime * 3);
  t.HandshakeComplete();
  EXPECT_EQ(t.handshake_attempts(), 0);
}

TEST(TimersTest, PersistentKeepaliveFollowsTraversal) {
  Timers t;
  t.SetPersistentKeepalive(25s, kT0);
  EXPECT_TRUE(t.Fire(kT0).persistent_keepalive) << "first one at once";
  t.AnyAuthenticatedPacketTraversal(kT0 + 1s);
  EXPECT_EQ(t.NextDeadline(), kT0 + 26s);
  t.SetPersistentKeepalive(Duration(0), kT0);
  t.AnyAuthenticatedPacketTraversal(kT0 + 2s);
  EXPECT_FALSE(t.Fire(kT0 + 100s).persistent_keepalive);
}

}  // namespace
}  // namespace plexus::wireguard
