#include "io/event_loop.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <thread>
#include <vector>

#include "testing/fake_clock.h"

namespace plexus::io {
namespace {

class EventLoopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto loop = EventLoop::Create(clock_);
    ASSERT_TRUE(loop.ok()) << loop.error().message();
    loop_ = std::move(loop).value();
  }

  plexus::testing::FakeClock clock_;
  std::unique_ptr<EventLoop> loop_;
};

TEST_F(EventLoopTest, TimersFireInDeadlineOrder) {
  std::vector<int> fired;
  loop_->ScheduleAfter(3s, [&] { fired.push_back(3); });
  loop_->ScheduleAfter(1s, [&] { fired.push_back(1); });
  loop_->ScheduleAfter(2s, [&] { fired.push_back(2); });
  clock_.Advance(1500ms);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(fired, std::vector<int>({1}));
  clock_.Advance(10s);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(fired, std::vector<int>({1, 2, 3}));
}

TEST_F(EventLoopTest, SameDeadlineFiresInSchedulingOrder) {
  std::vector<int> fired;
  for (int i = 0; i < 5; ++i) loop_->ScheduleAfter(1s, [&, i] { fired.push_back(i); });
  clock_.Advance(1s);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(fired, std::vector<int>({0, 1, 2, 3, 4}));
}

TEST_F(EventLoopTest, TimerDoesNotFireBeforeDeadline) {
  bool fired = false;
  loop_->ScheduleAfter(1s, [&] { fired = true; });
  clock_.Advance(999ms);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_FALSE(fired);
  EXPECT_EQ(loop_->NextDeadline(), clock_.Now() + 1ms);
}

TEST_F(EventLoopTest, CancelledTimerNeverFires) {
  bool fired = false;
  TimerId id = loop_->ScheduleAfter(1s, [&] { fired = true; });
  EXPECT_TRUE(loop_->Cancel(id));
  EXPECT_FALSE(loop_->Cancel(id));
  clock_.Advance(2s);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_FALSE(fired);
  EXPECT_TRUE(loop_->NextDeadline().IsInfinite());
}

TEST_F(EventLoopTest, CallbackCanCancelLaterDueTimer) {
  bool second_fired = false;
  TimerId second = kNoTimer;
  loop_->ScheduleAfter(1s, [&] { loop_->Cancel(second); });
  second = loop_->ScheduleAfter(2s, [&] { second_fired = true; });
  clock_.Advance(3s);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_FALSE(second_fired);
}

TEST_F(EventLoopTest, TimerScheduledByCallbackRunsNextIteration) {
  int runs = 0;
  std::function<void()> again = [&] {
    ++runs;
    loop_->ScheduleAt(clock_.Now(), again);
  };
  loop_->ScheduleAt(clock_.Now(), again);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(runs, 1);
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(runs, 2);
}

TEST(EventLoopRealClockTest, RunSleepsUntilTimerThenStops) {
  SystemClock clock;
  auto loop = EventLoop::Create(clock);
  ASSERT_TRUE(loop.ok());
  Timestamp start = clock.Now();
  Timestamp fired_at;
  (*loop)->ScheduleAfter(20ms, [&] {
    fired_at = clock.Now();
    (*loop)->Stop();
  });
  ASSERT_TRUE((*loop)->Run().ok());
  EXPECT_GE(fired_at - start, 20ms);
  EXPECT_LT(fired_at - start, 2s);
}

TEST_F(EventLoopTest, PostFromAnotherThreadWakesRun) {
  std::thread::id ran_on;
  std::thread poster([&] {
    loop_->Post([&] {
      ran_on = std::this_thread::get_id();
      loop_->Stop();
    });
  });
  ASSERT_TRUE(loop_->Run().ok());  // no timers: would sleep an hour if not woken
  poster.join();
  EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST_F(EventLoopTest, ManyPostsFromManyThreadsAllRun) {
  int count = 0;  // only touched on the loop thread
  constexpr int kThreads = 4, kPerThread = 250;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < kPerThread; ++i)
        loop_->Post([&] {
          if (++count == kThreads * kPerThread) loop_->Stop();
        });
    });
  }
  ASSERT_TRUE(loop_->Run().ok());
  for (auto& t : threads) t.join();
  EXPECT_EQ(count, kThreads * kPerThread);
}

TEST_F(EventLoopTest, StopBeforeRunReturnsImmediately) {
  loop_->Stop();
  EXPECT_TRUE(loop_->Run().ok());
}

TEST_F(EventLoopTest, FdCallbackSeesReadability) {
  UniqueFd efd(::eventfd(0, EFD_NONBLOCK));
  uint32_t seen = 0;
  ASSERT_TRUE(loop_->WatchFd(efd.get(), kReadable, [&](uint32_t ev) { seen |= ev; }).ok());
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(seen, 0u);
  uint64_t one = 1;
  ASSERT_EQ(::write(efd.get(), &one, sizeof one), 8);
  ASSERT_TRUE(loop_->RunOnce(1s).ok());
  EXPECT_EQ(seen, kReadable);
}

TEST_F(EventLoopTest, WatchingSameFdTwiceFails) {
  UniqueFd efd(::eventfd(0, EFD_NONBLOCK));
  ASSERT_TRUE(loop_->WatchFd(efd.get(), kReadable, [](uint32_t) {}).ok());
  EXPECT_FALSE(loop_->WatchFd(efd.get(), kReadable, [](uint32_t) {}).ok());
}

TEST_F(EventLoopTest, ModifyFdSwitchesToWritable) {
  UniqueFd efd(::eventfd(0, EFD_NONBLOCK));
  uint32_t seen = 0;
  ASSERT_TRUE(loop_->WatchFd(efd.get(), kReadable, [&](uint32_t ev) { seen |= ev; }).ok());
  ASSERT_TRUE(loop_->ModifyFd(efd.get(), kWritable).ok());
  ASSERT_TRUE(loop_->RunOnce(1s).ok());
  EXPECT_EQ(seen, kWritable);
}

TEST_F(EventLoopTest, UnwatchInsideCallbackStopsFurtherCallbacks) {
  UniqueFd a(::eventfd(1, EFD_NONBLOCK));
  UniqueFd b(::eventfd(1, EFD_NONBLOCK));
  int calls = 0;
  auto cb = [&](uint32_t) {
    ++calls;
    loop_->UnwatchFd(a.get());
    loop_->UnwatchFd(b.get());
  };
  ASSERT_TRUE(loop_->WatchFd(a.get(), kReadable, cb).ok());
  ASSERT_TRUE(loop_->WatchFd(b.get(), kReadable, cb).ok());
  ASSERT_TRUE(loop_->RunOnce(1s).ok());
  ASSERT_TRUE(loop_->RunOnce(0ns).ok());
  EXPECT_EQ(calls, 1);  // both were ready, the first callback removed the other
}

TEST_F(EventLoopTest, StopOnSignalsStopsRunWhenSignalArrives) {
  // The signal is blocked in this thread only, and delivered to it directly.
  ASSERT_TRUE(loop_->StopOnSignals({SIGUSR1}).ok());
  std::thread sender([self = pthread_self()] { ::pthread_kill(self, SIGUSR1); });
  EXPECT_TRUE(loop_->Run().ok());
  sender.join();
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGUSR1);
  ::pthread_sigmask(SIG_UNBLOCK, &mask, nullptr);
}

}  // namespace
}  // namespace plexus::io
