#include "babel/interface.h"

#include <gtest/gtest.h>

#include "babel/rtt.h"
#include "testing/fake_random.h"

namespace plexus::babel {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000'000});

TEST(InterfaceTest, WireIntervalIsClampedCentiseconds) {
  EXPECT_EQ(WireInterval(seconds(4)), Centiseconds(400));
  EXPECT_EQ(WireInterval(milliseconds(15)), Centiseconds(1));
  EXPECT_EQ(WireInterval(milliseconds(1)), Centiseconds(1)) << "never zero";
  EXPECT_EQ(WireInterval(Duration::zero()), Centiseconds(1));
  EXPECT_EQ(WireInterval(seconds(1000)), Centiseconds(0xFFFF));
}

TEST(InterfaceTest, HellosCountUpWithWrapAndRestartTheTimer) {
  Interface interface(1, *IpAddress::Parse("fe80::1"), InterfaceParams{}, Seqno(0xFFFF));
  EXPECT_EQ(interface.NextDeadline(), Timestamp::Infinite());
  const Hello first = interface.MakeHello(kT0);
  EXPECT_EQ(first.seqno, Seqno(0xFFFF));
  EXPECT_EQ(first.interval, Centiseconds(400));
  EXPECT_EQ(first.timestamp, MicrosTimestamp(kT0));
  EXPECT_FALSE(first.IsUnicast());
  EXPECT_FALSE(interface.HelloDue(kT0 + milliseconds(3999)));
  EXPECT_TRUE(interface.HelloDue(kT0 + seconds(4)));
  EXPECT_EQ(interface.MakeHello(kT0 + seconds(4)).seqno, Seqno(0));
}

TEST(InterfaceTest, UpdateTimerIsJitteredEarlierByAtMostAQuarter) {
  InterfaceParams params;
  params.update_interval = seconds(16);
  Interface interface(1, *IpAddress::Parse("fe80::1"), params, Seqno(0));
  testing::FakeRandom random(3);
  Timestamp earliest = Timestamp::Infinite(), latest;
  for (int i = 0; i < 200; ++i) {
    interface.ScheduleUpdate(kT0, random);
    EXPECT_FALSE(interface.UpdateDue(kT0 + seconds(12) - milliseconds(1)));
    EXPECT_TRUE(interface.UpdateDue(kT0 + seconds(16)));
    earliest = std::min(earliest, interface.NextDeadline());
    latest = std::max(latest, interface.NextDeadline());
  }
  EXPECT_LT(latest - earliest, seconds(4));
  EXPECT_GT(latest - earliest, seconds(2)) << "jitter is spread";
}

}  // namespace
}  // namespace plexus::babel
