#include "testing/sim/event_queue.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace plexus::sim {
namespace {

const Timestamp kT0 = Timestamp::FromNanos(int64_t{1'000'000'000});

TEST(EventQueueTest, RunsEventsInTimeOrder) {
  EventQueue q(kT0);
  std::vector<int> order;
  q.Schedule(kT0 + std::chrono::seconds(3), [&] { order.push_back(3); });
  q.Schedule(kT0 + std::chrono::seconds(1), [&] { order.push_back(1); });
  q.Schedule(kT0 + std::chrono::seconds(2), [&] { order.push_back(2); });
  while (q.RunNext()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(q.now(), kT0 + std::chrono::seconds(3));
  EXPECT_EQ(q.events_run(), 3u);
}

TEST(EventQueueTest, SimultaneousEventsRunInSchedulingOrder) {
  EventQueue q(kT0);
  std::string order;
  for (char c : std::string("abcdefghij"))
    q.Schedule(kT0 + std::chrono::seconds(1), [&, c] { order += c; });
  while (q.RunNext()) {
  }
  EXPECT_EQ(order, "abcdefghij");
}

TEST(EventQueueTest, EventScheduledInThePastRunsNowAfterEarlierOnes) {
  EventQueue q(kT0);
  std::vector<std::string> log;
  q.Schedule(kT0 + std::chrono::seconds(5), [&] {
    log.push_back("first");
    q.Schedule(kT0, [&] { log.push_back("past@" + std::to_string((q.now() - kT0).count())); });
  });
  q.Schedule(kT0 + std::chrono::seconds(5), [&] { log.push_back("second"); });
  while (q.RunNext()) {
  }
  EXPECT_EQ(log, (std::vector<std::string>{"first", "second", "past@5000000000"}));
}

TEST(EventQueueTest, EventsScheduledDuringAnEventKeepOrder) {
  EventQueue q(kT0);
  std::vector<int> order;
  q.Schedule(kT0 + std::chrono::seconds(1), [&] {
    order.push_back(1);
    q.Schedule(kT0 + std::chrono::seconds(1), [&] { order.push_back(3); });
  });
  q.Schedule(kT0 + std::chrono::seconds(1), [&] { order.push_back(2); });
  while (q.RunNext()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
}

TEST(EventQueueTest, NextTimeAndAdvance) {
  EventQueue q(kT0);
  EXPECT_TRUE(q.NextTime().IsInfinite());
  EXPECT_FALSE(q.RunNext());
  q.Schedule(kT0 + std::chrono::seconds(2), [] {});
  EXPECT_EQ(q.NextTime(), kT0 + std::chrono::seconds(2));
  q.AdvanceTo(kT0 + std::chrono::seconds(1));
  EXPECT_EQ(q.now(), kT0 + std::chrono::seconds(1));
  q.AdvanceTo(kT0);  // never back
  EXPECT_EQ(q.now(), kT0 + std::chrono::seconds(1));
  EXPECT_EQ(q.size(), 1u);
}

}  // namespace
}  // namespace plexus::sim
