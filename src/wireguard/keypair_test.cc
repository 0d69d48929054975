#include "wireguard/keypair.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <thread>

#include "wireguard/constants.h"

namespace plexus::wireguard {
namespace {

const Timestamp kT0 = Timestamp::FromNanos(1'000'000'000);

// Two keypairs that talk to each other (keys fixed, not derived).
struct Link {
  std::shared_ptr<Keypair> tx;
  std::shared_ptr<Keypair> rx;
  Link() {
    SessionKeys a, b;
    a.send.mutable_span()[0] = std::byte{1};
    a.receive.mutable_span()[0] = std::byte{2};
    b.send.mutable_span()[0] = std::byte{2};
    b.receive.mutable_span()[0] = std::byte{1};
    tx = std::make_shared<Keypair>(std::move(a), 10, 20, true, kT0, crypto::PublicKey());
    rx = std::make_shared<Keypair>(std::move(b), 20, 10, false, kT0, crypto::PublicKey());
  }
};

TEST(KeypairTest, PaddedSizeTable) {
  struct {
    size_t n, mtu, padded;
  } cases[] = {{0, 1420, 0},       {1, 1420, 16},      {16, 1420, 16},     {17, 1420, 32},
               {1419, 1420, 1420}, {1420, 1420, 1420}, {1421, 1420, 1421}, {1410, 1412, 1412}};
  for (auto c : cases) EXPECT_EQ(Keypair::PaddedSize(c.n, c.mtu), c.padded) << c.n << "/" << c.mtu;
}

TEST(KeypairTest, SealLayoutAndOpenInPlace) {
  Link l;
  Bytes buf(Keypair::MessageSize(16));
  std::memcpy(buf.data() + 16, "abc", 3);  // plaintext already in place
  auto n = l.tx->Seal(buf, ByteSpan(buf.data() + 16, 3), 1420, kT0);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 48u);
  EXPECT_EQ(LoadLe32(buf.data()), 4u);
  EXPECT_EQ(LoadLe32(buf.data() + 4), 20u) << "receiver index is the peer's";
  EXPECT_EQ(LoadLe64(buf.data() + 8), 0u);
  auto m = l.rx->Open(MutableByteSpan(buf.data() + 16, 32), buf, kT0);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(*m, 16u);
  EXPECT_EQ(AsChars(ByteSpan(buf.data() + 16, 3)), "abc");
  EXPECT_EQ(buf[16 + 3], std::byte{0}) << "zero padding";
}

TEST(KeypairTest, RefusesWhenExpiredInvalidOrExhausted) {
  Link l;
  Bytes buf(64);
  EXPECT_EQ(l.tx->Seal(buf, {}, 1420, kT0 + kRejectAfterTime).reason(),
            DropReason::kKeypairExpired);
  auto ok = l.tx->Seal(buf, {}, 1420, kT0 + kRejectAfterTime - 1ns);
  ASSERT_TRUE(ok.ok());
  Bytes msg(buf.begin(), buf.begin() + *ok);
  Bytes out(16);
  EXPECT_EQ(l.rx->Open(out, msg, kT0 + kRejectAfterTime).reason(), DropReason::kKeypairExpired);
  l.tx->SetSendCounterForTest(kRejectAfterMessages);
  EXPECT_EQ(l.tx->Seal(buf, {}, 1420, kT0).reason(), DropReason::kCounterExhausted);
  Bytes small(31);
  EXPECT_EQ(l.tx->Seal(small, {}, 1420, kT0).reason(), DropReason::kBufferTooSmall);
  l.rx->Invalidate();
  EXPECT_EQ(l.rx->Open(out, msg, kT0).reason(), DropReason::kKeypairExpired);
}

TEST(KeypairTest, CounterAtRejectLimitRefusedBeforeDecrypt) {
  Link l;
  Bytes buf(64);
  auto n = l.tx->Seal(buf, {}, 1420, kT0);
  StoreLe64(buf.data() + 8, kRejectAfterMessages);
  Bytes out(16);
  EXPECT_EQ(l.rx->Open(out, ByteSpan(buf).first(*n), kT0).reason(), DropReason::kCounterExhausted);
}

// Two senders and one receiver at once (run under TSan in CI): every counter
// is used once and every message opens exactly once.
TEST(KeypairTest, ConcurrentSealersShareOneCounter) {
  Link l;
  constexpr int kPerThread = 2000;
  std::vector<Bytes> sent[2];
  auto seal = [&](int t) {
    for (int i = 0; i < kPerThread; ++i) {
      Bytes buf(Keypair::MessageSize(16));
      auto n = l.tx->Seal(buf, AsBytes("x"), 1420, kT0);
      ASSERT_TRUE(n.ok());
      sent[t].push_back(std::move(buf));
    }
  };
  std::thread a(seal, 0), b(seal, 1);
  a.join();
  b.join();
  std::set<uint64_t> counters;
  for (auto& v : sent) {
    for (auto& m : v) counters.insert(LoadLe64(m.data() + 8));
  }
  EXPECT_EQ(counters.size(), 2u * kPerThread);
  // Deal the messages, in counter order, alternately to two receivers, so
  // that however the threads are scheduled each one's counters rise together.
  std::vector<Bytes> all;
  for (auto& v : sent) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end(), [](const Bytes& x, const Bytes& y) {
    return LoadLe64(x.data() + 8) < LoadLe64(y.data() + 8);
  });
  std::vector<Bytes> dealt[2];
  for (size_t i = 0; i < all.size(); ++i) dealt[i % 2].push_back(all[i]);
  std::atomic<int> opened{0};
  auto open = [&](int t) {
    Bytes out(16);
    for (auto& m : dealt[t]) opened += l.rx->Open(out, m, kT0).ok();
  };
  std::thread c(open, 0), d(open, 1);
  c.join();
  d.join();
  // One receiver may run ahead of the other by up to all its messages, so
  // some of the other's fall behind the window (at most half); none twice.
  EXPECT_GT(opened.load(), kPerThread);
  EXPECT_LE(opened.load(), 2 * kPerThread);
}

}  // namespace
}  // namespace plexus::wireguard
