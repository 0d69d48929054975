// TxWorker alone: a FakeTun in, a FakeNetwork out, a hand-built Snapshot and
// a RecordingSink in place of the Node. The clock is a FakeClock that never
// moves while the worker runs (so it is only read, from any thread).
#include "node/tx_worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "node/node_test_util.h"
#include "testing/fake_clock.h"

namespace plexus::node::test {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMtu = 1420;

class TxWorkerTest : public ::testing::Test {
 protected:
  explicit TxWorkerTest(bool vnet = false,
                        io::UdpCapabilities peer_caps = {.gso = true, .gro = true}) {
    tun_ = std::move(testing::FakeTun::Create("plx0", vnet)).value();
    udp_ = std::move(network_.Bind(local_)).value();
    peer_ = std::move(network_.Bind(remote_, peer_caps)).value();
    session_ = MakeSession(clock_.Now(), peer_key_, peer_key_);
    auto table = std::make_shared<AllowedIps>();
    EXPECT_TRUE(table->Insert(*Prefix::Parse("10.0.0.2/32"), 0));
    EXPECT_TRUE(table->Insert(*Prefix::Parse("fd00::2/128"), 0));
    allowed_ips_ = table;
    forwarding_ = MakeForwardingTable(
        {Route("10.0.0.2/32", ToPeer(0)), Route("fd00::2/128", ToPeer(0)),
         Route("10.0.0.1/32", kToLocal), Route("fd00::1/128", kToLocal),
         Route("10.6.0.0/16", kToUnreachable), Route("fd00:6::/48", kToUnreachable)});
  }
  ~TxWorkerTest() override { StopWorker(); }

  // Publishes a snapshot with the one peer, optionally without keypair or endpoint.
  void Publish(bool keypair = true, bool endpoint = true) {
    auto s = std::make_shared<Snapshot>();
    s->allowed_ips = allowed_ips_;
    s->forwarding = forwarding_;
    s->icmp_source_v4 = Addr("10.0.0.1");
    s->icmp_source_v6 = Addr("fd00::1");
    PeerView view{&slot_, keypair ? session_.local : nullptr, std::nullopt};
    if (endpoint) view.endpoint = remote_;
    s->peers.push_back(view);
    snapshots_.Publish(std::move(s));
  }

  void StartWorker() {
    WorkerEnv env{clock_, *tun_, *udp_, send_mutex_, tun_mutex_, snapshots_, sink_, drops_, kMtu};
    worker_ = std::thread([env] { TxWorker(env).Run(); });
  }
  void StopWorker() {
    tun_->Shutdown();
    if (worker_.joinable()) worker_.join();
  }

  // Opens a datagram the worker sent, with the peer's end of the session.
  Bytes Open(ByteSpan datagram) {
    Bytes plain(datagram.size());
    wireguard::Verdict<size_t> n = session_.remote->Open(plain, datagram, clock_.Now());
    EXPECT_TRUE(n) << (n ? "" : wireguard::ToString(n.reason()));
    plain.resize(n ? *n : 0);
    return plain;
  }

  bool WaitFor(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }

  size_t Staged() {
    std::lock_guard lock(slot_.staged_mutex);
    return slot_.staged.size();
  }

  const Endpoint local_ = *Endpoint::Parse("192.0.2.1:51820");
  const Endpoint remote_ = *Endpoint::Parse("192.0.2.2:51820");
  testing::FakeClock clock_;
  testing::FakeRandom random_{5};
  const crypto::PublicKey peer_key_ = crypto::PrivateKey::Generate(random_).Public();
  testing::FakeNetwork network_;
  std::unique_ptr<testing::FakeTun> tun_;
  std::unique_ptr<testing::FakeUdpSocket> udp_;
  std::unique_ptr<testing::FakeUdpSocket> peer_;
  SessionPair session_;
  std::shared_ptr<const AllowedIps> allowed_ips_;
  std::shared_ptr<const ForwardingTable> forwarding_;
  PeerSlot slot_{peer_key_};
  std::mutex send_mutex_;
  std::mutex tun_mutex_;
  SnapshotHolder snapshots_;
  RecordingSink sink_;
  DropCounters drops_;
  std::thread worker_;
};

TEST_F(TxWorkerTest, SealsEachPacketForTheRoutedPeer) {
  Publish();
  StartWorker();
  const Bytes v4 = NumberedPacket("10.0.0.1", "10.0.0.2", 1, 33);  // 61 bytes: padded to 64
  const Bytes v6 = NumberedPacket("fd00::1", "fd00::2", 2, 1372);  // 1420: the MTU, no padding
  tun_->InjectPacket(v4);
  tun_->InjectPacket(v6);
  std::vector<Bytes> storage;
  std::vector<io::UdpMessage> got = ReceiveDatagrams(*peer_, 2, storage);
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].length, 16 + 64 + 16u);
  EXPECT_EQ(got[1].length, 16 + 1420 + 16u);
  EXPECT_EQ(got[0].endpoint, local_);
  Bytes p0 = Open(got[0].buffer.first(got[0].length));
  Bytes p1 = Open(got[1].buffer.first(got[1].length));
  ASSERT_EQ(p0.size(), 64u);
  EXPECT_TRUE(std::equal(v4.begin(), v4.end(), p0.begin()));
  EXPECT_TRUE(
      std::all_of(p0.begin() + v4.size(), p0.end(), [](std::byte b) { return b == std::byte{0}; }));
  EXPECT_EQ(p1, v6);

  ASSERT_TRUE(WaitFor([&] { return slot_.tx_packets.load() == 2 && slot_.tx_bytes.load() > 0; }));
  EXPECT_EQ(slot_.tx_bytes.load(), got[0].length + got[1].length);
  EXPECT_TRUE(sink_.queued().empty());
}

TEST_F(TxWorkerTest, ReportsTransportSentOncePerEventInterval) {
  Publish();
  StartWorker();
  std::vector<Bytes> storage;
  size_t bytes = 0;
  for (uint32_t i = 0; i < 5; ++i) {  // five batches at the same (fake) instant
    tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.2", i));
    auto got = ReceiveDatagrams(*peer_, 1, storage);
    ASSERT_EQ(got.size(), 1u);
    bytes += got[0].length;
  }
  ASSERT_TRUE(WaitFor([&] { return slot_.tx_bytes.load() == bytes; }));
  std::vector<RecordingSink::Transport> sent = sink_.sent();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].keypair, session_.local);
  EXPECT_EQ(sent[0].bytes, bytes / 5);
}

TEST_F(TxWorkerTest, StagesPacketsWithoutKeypairAndAsksForAHandshakeOnce) {
  Publish(/*keypair=*/false);
  StartWorker();
  std::vector<Bytes> sent;
  for (uint32_t i = 0; i < kMaxStagedPackets + 2; ++i) {
    sent.push_back(NumberedPacket("10.0.0.1", "10.0.0.2", i));
    tun_->InjectPacket(sent.back());
  }
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kStagedOverflow) == 2; }));
  ASSERT_EQ(Staged(), kMaxStagedPackets);
  {
    std::lock_guard lock(slot_.staged_mutex);
    EXPECT_EQ(slot_.staged.front(), sent[2]) << "the oldest are dropped first";
    EXPECT_EQ(slot_.staged.back(), sent.back());
  }
  // queue_reported stays set until the control thread handles the request.
  EXPECT_THAT(sink_.queued(), ::testing::ElementsAre(0u));
  EXPECT_TRUE(slot_.queue_reported.load());
  EXPECT_EQ(network_.delivered(), 0u);

  // Once the control thread clears it, the next staged packet asks again.
  slot_.queue_reported.store(false);
  tun_->InjectPacket(sent[0]);
  ASSERT_TRUE(WaitFor([&] { return sink_.queued().size() == 2; }));
}

TEST_F(TxWorkerTest, StagesPacketsForAPeerWithoutEndpoint) {
  Publish(/*keypair=*/true, /*endpoint=*/false);
  StartWorker();
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.2", 1));
  ASSERT_TRUE(WaitFor([&] { return Staged() == 1; }));
  EXPECT_EQ(network_.delivered() + network_.dropped(), 0u);
}

TEST_F(TxWorkerTest, DropsPacketsWithoutRouteOrNotIp) {
  Publish();
  StartWorker();
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.3", 1));
  tun_->InjectPacket(NumberedPacket("fd00::1", "fd00::3", 2));
  tun_->InjectPacket(Pattern(10, 3));
  Bytes truncated = NumberedPacket("10.0.0.1", "10.0.0.2", 4);
  truncated.resize(30);  // shorter than its IPv4 total length
  tun_->InjectPacket(truncated);
  ASSERT_TRUE(WaitFor(
      [&] { return drops_.Get(NodeDrop::kNoRoute) == 2 && drops_.Get(NodeDrop::kNotIp) == 2; }));
  EXPECT_EQ(network_.delivered() + network_.dropped(), 0u);
  EXPECT_EQ(Staged(), 0u);
}

TEST_F(TxWorkerTest, AnswersNoRouteAndUnreachableWithIcmpOnTheTun) {
  Publish();
  StartWorker();
  const Bytes none4 = NumberedPacket("10.0.0.1", "10.9.9.9", 1);
  const Bytes reject4 = NumberedPacket("10.0.0.1", "10.6.0.1", 2);
  const Bytes none6 = NumberedPacket("fd00::1", "fd00:9::1", 3);
  const Bytes reject6 = NumberedPacket("fd00::1", "fd00:6::1", 4);
  for (const Bytes& p : {none4, reject4, none6, reject6}) tun_->InjectPacket(p);
  ASSERT_TRUE(tun_->WaitForWritten(4, std::chrono::seconds(5)));
  std::vector<testing::FakeTun::Packet> got = tun_->TakeWritten();
  ASSERT_EQ(got.size(), 4u);
  const Bytes* quoted[] = {&none4, &reject4, &none6, &reject6};
  const int types[] = {3, 3, 1, 1}, codes[] = {0, 1, 0, 0};
  for (size_t i = 0; i < got.size(); ++i) {
    IcmpMessage m = ParseIcmp(got[i].data);
    const IpAddress us = Addr(m.version == 6 ? "fd00::1" : "10.0.0.1");
    EXPECT_EQ(m.type, types[i]) << i;
    EXPECT_EQ(m.code, codes[i]) << i;
    EXPECT_EQ(m.source, us);
    EXPECT_EQ(m.destination, us);
    EXPECT_EQ(m.quote, *quoted[i]);
    EXPECT_TRUE(m.checksums_ok);
  }
  EXPECT_EQ(drops_.Get(NodeDrop::kNoRoute), 4u);
  EXPECT_EQ(network_.delivered() + network_.dropped(), 0u);
}

TEST_F(TxWorkerTest, DropsLinkScopedPacketsAndPacketsToOurselves) {
  Publish();
  StartWorker();
  // The kernel's own chatter on a fresh TUN device.
  tun_->InjectPacket(IcmpPacket("fe80::1", "ff02::2", 133));         // router solicitation
  tun_->InjectPacket(IcmpPacket("fe80::1", "ff02::1:ff00:2", 135));  // neighbour solicitation
  tun_->InjectPacket(IcmpPacket("fe80::1", "ff02::16", 143));        // MLDv2 report
  tun_->InjectPacket(NumberedPacket("fe80::1", "fe80::2", 1));
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "224.0.0.251", 2));  // mDNS
  tun_->InjectPacket(NumberedPacket("fd00::1", "ff05::2", 3));
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.1", 4));  // ourselves
  tun_->InjectPacket(NumberedPacket("fd00::1", "fd00::1", 5));
  ASSERT_TRUE(WaitFor([&] {
    return drops_.Get(NodeDrop::kLinkLocal) == 6 && drops_.Get(NodeDrop::kLocalDestination) == 2;
  }));
  EXPECT_EQ(drops_.Get(NodeDrop::kNoRoute), 0u) << "not counted as missing routes";
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(20))) << "no ICMP errors for them";
  EXPECT_EQ(network_.delivered() + network_.dropped(), 0u);
}

TEST_F(TxWorkerTest, StagesWhenTheKeypairHasBeenInvalidated) {
  Publish();
  session_.local->Invalidate();
  StartWorker();
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.2", 1));
  ASSERT_TRUE(WaitFor([&] { return Staged() == 1; }));
  EXPECT_EQ(drops_.Get(wireguard::DropReason::kKeypairExpired), 1u);
  EXPECT_THAT(sink_.queued(), ::testing::ElementsAre(0u));
}

// --- TUN offloads ---

struct GsoTxCase {
  bool v6;
  bool peer_gro;
};

class TxWorkerGsoTest : public TxWorkerTest, public ::testing::WithParamInterface<GsoTxCase> {
 protected:
  TxWorkerGsoTest() : TxWorkerTest(true, {.gso = true, .gro = GetParam().peer_gro}) {}
};

// A 64 KiB TSO super-packet is segmented, each segment sealed, and the
// segments leave as UDP GSO sends no larger than one UDP datagram's payload.
TEST_P(TxWorkerGsoTest, SegmentsSuperPacketIntoSealedDatagramsInOrder) {
  const bool v6 = GetParam().v6;
  Publish();
  StartWorker();
  const uint16_t gso_size = v6 ? 1360 : 1380;
  const Bytes payload = Pattern(46 * gso_size + 700, 7);
  const char* src = v6 ? "fd00::1" : "10.0.0.1";
  const char* dst = v6 ? "fd00::2" : "10.0.0.2";
  tun_->InjectPacket(TcpPacket(src, dst, payload, 5000, /*partial=*/true),
                     TsoHeader(!v6, gso_size));

  std::vector<Bytes> storage;
  std::vector<io::UdpMessage> got = ReceiveDatagrams(*peer_, 47, storage);
  Bytes received;
  size_t segments = 0;
  for (const io::UdpMessage& m : got) {
    EXPECT_LE(m.length, io::kMaxUdpPayload);
    EXPECT_LE(m.segment_count(), io::kMaxSegments);
    for (size_t i = 0; i < m.segment_count(); ++i) {
      Bytes plain = Open(m.Segment(i));
      ASSERT_GE(plain.size(), 40u);
      EXPECT_LE(plain.size(), kMtu);
      const size_t total = v6 ? 40 + LoadBe16(&plain[4]) : LoadBe16(&plain[2]);
      plain.resize(total);
      // Segment sequence numbers advance by gso_size.
      const size_t ip_length = v6 ? 40 : 20;
      EXPECT_EQ(LoadBe32(&plain[ip_length + 4]), 5000 + segments * gso_size);
      ByteSpan data = TcpPayload(plain);
      received.insert(received.end(), data.begin(), data.end());
      ++segments;
    }
  }
  EXPECT_EQ(segments, 47u);
  EXPECT_TRUE(received == payload);
  if (GetParam().peer_gro) {
    EXPECT_LT(got.size(), 47u) << "expected GSO sends";
  }
  ASSERT_TRUE(WaitFor([&] { return slot_.tx_packets.load() == 47; }));
  EXPECT_EQ(drops_.Get(NodeDrop::kSegmentationError), 0u);
}

INSTANTIATE_TEST_SUITE_P(TxWorker, TxWorkerGsoTest,
                         ::testing::Values(GsoTxCase{false, true}, GsoTxCase{false, false},
                                           GsoTxCase{true, true}),
                         [](const auto& info) {
                           return std::string(info.param.v6 ? "TcpV6" : "TcpV4") +
                                  (info.param.peer_gro ? "ToGro" : "ToPlain");
                         });

class TxWorkerVnetTest : public TxWorkerTest {
 protected:
  TxWorkerVnetTest() : TxWorkerTest(true) {}
};

TEST_F(TxWorkerVnetTest, DropsMalformedSuperPackets) {
  Publish();
  StartWorker();
  const Bytes payload = Pattern(5000, 1);
  Bytes tcp = TcpPacket("10.0.0.1", "10.0.0.2", payload, 1, /*partial=*/true);
  io::VirtioNetHeader zero_size = TsoHeader(true, 0);
  tun_->InjectPacket(tcp, zero_size);
  io::VirtioNetHeader bad_offset = TsoHeader(true, 1000);
  bad_offset.csum_start = 60000;
  tun_->InjectPacket(tcp, bad_offset);
  tun_->InjectPacket(ByteSpan(tcp).first(30), TsoHeader(true, 1000));
  io::VirtioNetHeader plain_bad_csum;
  plain_bad_csum.flags = io::VirtioNetHeader::kFlagNeedsCsum;
  plain_bad_csum.csum_start = 60000;
  tun_->InjectPacket(NumberedPacket("10.0.0.1", "10.0.0.2", 1), plain_bad_csum);
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kSegmentationError) == 4; }));
  EXPECT_EQ(network_.delivered(), 0u);
}

}  // namespace
}  // namespace plexus::node::test
