#include "node/seqno_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "testing/fake_random.h"

namespace plexus::node {
namespace {

class SeqnoStoreTest : public ::testing::Test {
 protected:
  SeqnoStoreTest()
      : dir_(std::filesystem::temp_directory_path() /
             ("plexus-seqno-" + std::to_string(getpid()) + "-" +
              ::testing::UnitTest::GetInstance()->current_test_info()->name())) {
    std::filesystem::remove_all(dir_);
  }
  ~SeqnoStoreTest() override { std::filesystem::remove_all(dir_); }

  std::string Path() const { return (dir_ / "sub" / "seqno").string(); }
  std::string Read() const {
    std::ifstream in(Path());
    std::string text;
    std::getline(in, text);
    return text;
  }
  void Write(const std::string& text) const {
    std::filesystem::create_directories(dir_ / "sub");
    std::ofstream(Path()) << text;
  }

  std::filesystem::path dir_;
  testing::FakeRandom random_{7};
};

TEST_F(SeqnoStoreTest, FirstStartIsRandomAndSaved) {
  SeqnoStore store(Path());
  const babel::Seqno s = store.Start(random_);
  EXPECT_EQ(Read(), "seqno " + std::to_string(s.value()));
}

TEST_F(SeqnoStoreTest, RestartJumpsPastTheSavedSeqno) {
  Write("seqno 65400\n");
  SeqnoStore store(Path());
  const babel::Seqno s = store.Start(random_);
  EXPECT_EQ(s.value(), static_cast<uint16_t>(65400 + SeqnoStore::kRestartJump));  // wraps
  EXPECT_TRUE(s.IsNewerThan(babel::Seqno(65400)));
  EXPECT_EQ(Read(), "seqno " + std::to_string(s.value()));
}

TEST_F(SeqnoStoreTest, FollowSavesOnlyFarEnoughAhead) {
  Write("seqno 100\n");
  SeqnoStore store(Path());
  const babel::Seqno start = store.Start(random_);  // 356
  store.Follow(babel::Seqno(start.value() + SeqnoStore::kSaveEvery - 1));
  EXPECT_EQ(Read(), "seqno 356");
  store.Follow(babel::Seqno(start.value() + SeqnoStore::kSaveEvery));
  EXPECT_EQ(Read(), "seqno 484");
}

// Whatever happened in the last run (a crash included), the next start is
// newer than every seqno that run could have announced.
TEST_F(SeqnoStoreTest, NextRunAlwaysStartsNewer) {
  Write("seqno 1000\n");
  babel::Seqno highest;
  {
    SeqnoStore store(Path());
    babel::Seqno s = store.Start(random_);
    for (int i = 0; i < 1000; ++i) {
      s = babel::Seqno(s.value() + 1);
      store.Follow(s);
    }
    highest = s;
  }
  SeqnoStore again(Path());
  EXPECT_TRUE(again.Start(random_).IsNewerThan(highest));
}

TEST_F(SeqnoStoreTest, CorruptFileFallsBackToRandomAndIsRewritten) {
  Write("garbage\n");
  SeqnoStore store(Path());
  const babel::Seqno s = store.Start(random_);
  EXPECT_EQ(Read(), "seqno " + std::to_string(s.value()));
}

TEST_F(SeqnoStoreTest, UnwritablePathDoesNotStopTheNode) {
  SeqnoStore store("/proc/plexus-cannot-write-here/seqno");
  (void)store.Start(random_);
  store.Follow(babel::Seqno(1));  // no crash, no throw
}

TEST(SeqnoStoreEmptyTest, EmptyPathKeepsNothing) {
  testing::FakeRandom random(3);
  SeqnoStore store("");
  (void)store.Start(random);
  store.Follow(babel::Seqno(500));
}

}  // namespace
}  // namespace plexus::node
