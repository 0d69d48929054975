// RxWorker alone: datagrams from a FakeNetwork in, a FakeTun out, a
// hand-built Snapshot and a RecordingSink in place of the Node. The FakeClock
// never moves while the worker runs (so it is only read, from any thread).
#include "node/rx_worker.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "node/node_test_util.h"
#include "testing/fake_clock.h"

namespace plexus::node::test {
namespace {

using std::chrono::milliseconds;

constexpr size_t kMtu = 1420;

class RxWorkerTest : public ::testing::Test {
 protected:
  explicit RxWorkerTest(bool vnet = false) {
    tun_ = std::move(testing::FakeTun::Create("plx0", vnet)).value();
    udp_ = std::move(network_.Bind(local_)).value();
    peer_ = std::move(network_.Bind(remote_)).value();
    c_ = std::move(network_.Bind(c_endpoint_)).value();
    // Our end of the session is `remote` in SessionPair terms: the peer seals with `local`.
    session_ = MakeSession(clock_.Now(), key_a_, key_a_);
    session_c_ = MakeSession(clock_.Now(), key_c_, key_c_, 0x3333, 0x4444);
    auto table = std::make_shared<AllowedIps>();
    EXPECT_TRUE(table->Insert(*Prefix::Parse("10.0.0.1/32"), 0));
    EXPECT_TRUE(table->Insert(*Prefix::Parse("fd00::1/128"), 0));
    EXPECT_TRUE(table->Insert(*Prefix::Parse("10.0.0.3/32"), 1));
    allowed_ips_ = table;
    forwarding_ =
        MakeForwardingTable({Route("10.0.0.2/32", kToLocal), Route("fd00::2/128", kToLocal),
                             Route("10.0.0.1/32", ToPeer(0)), Route("fd00::1/128", ToPeer(0)),
                             Route("10.0.0.3/32", ToPeer(1)), Route("10.3.0.0/16", ToPeer(1)),
                             Route("fd00:3::/48", ToPeer(1)), Route("10.6.0.0/16", kToUnreachable),
                             Route("fd00:6::/48", kToUnreachable)});
  }
  ~RxWorkerTest() override { StopWorker(); }

  // Peer 0 (A) with our end of the session, and peer 1 (C) with none (or,
  // `c_ready`, with our end of session_c_ and its endpoint).
  // `confirmed`: the receiving keypair is also A's sending keypair and A's
  // endpoint is where it sends from (nothing new to tell the control thread).
  // `mesh`: A is a mesh link (any inner source).
  void Publish(bool confirmed = true, bool mesh = false, bool c_ready = false) {
    auto s = std::make_shared<Snapshot>();
    s->allowed_ips = allowed_ips_;
    s->forwarding = forwarding_;
    PeerView a{&slot_a_, nullptr, std::nullopt, mesh};
    if (confirmed) {
      a.sending = session_.remote;
      a.endpoint = remote_;
    }
    s->peers.push_back(a);
    PeerView c{&slot_c_, nullptr, std::nullopt};
    if (c_ready) {
      c.sending = session_c_.local;
      c.endpoint = c_endpoint_;
    }
    s->peers.push_back(c);
    s->icmp_source_v4 = Addr("10.0.0.2");
    s->icmp_source_v6 = Addr("fd00::2");
    s->by_receiver_index[session_.remote->local_index()] = {session_.remote, 0};
    snapshots_.Publish(std::move(s));
  }

  void StartWorker() {
    WorkerEnv env{clock_, *tun_, *udp_, send_mutex_, tun_mutex_, snapshots_, sink_, drops_, kMtu};
    worker_ = std::thread([env] { RxWorker(env).Run(); });
  }
  void StopWorker() {
    udp_->Shutdown();
    if (worker_.joinable()) worker_.join();
  }

  // A transport message for `packet`, sealed by the peer.
  Bytes Seal(ByteSpan packet) {
    Bytes out(16 + wireguard::Keypair::PaddedSize(packet.size(), kMtu) + 16);
    wireguard::Verdict<size_t> n = session_.local->Seal(out, packet, kMtu, clock_.Now());
    EXPECT_TRUE(n);
    out.resize(n ? *n : 0);
    return out;
  }

  void SendFrom(testing::FakeUdpSocket& socket, ByteSpan datagram, uint16_t segment_size = 0) {
    Bytes copy(datagram.begin(), datagram.end());
    io::UdpMessage m{
        .buffer = copy, .length = copy.size(), .endpoint = local_, .segment_size = segment_size};
    ASSERT_TRUE(socket.SendBatch(std::span(&m, 1)));
  }
  void Send(ByteSpan datagram) { SendFrom(*peer_, datagram); }

  bool WaitFor(const std::function<bool()>& done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(1));
    }
    return true;
  }

  std::vector<Bytes> Written(size_t count) {
    EXPECT_TRUE(tun_->WaitForWritten(count, std::chrono::seconds(5)));
    std::vector<Bytes> out;
    for (auto& p : tun_->TakeWritten()) out.push_back(std::move(p.data));
    return out;
  }

  uint64_t Drops(wireguard::DropReason r) const { return drops_.Get(r); }

  // The plaintexts of `count` messages arriving at `socket`, opened with `keypair`.
  std::vector<Bytes> Arrivals(testing::FakeUdpSocket& socket, wireguard::Keypair& keypair,
                              size_t count) {
    std::vector<Bytes> storage, out;
    for (const io::UdpMessage& m : ReceiveDatagrams(socket, count, storage)) {
      for (size_t i = 0; i < m.segment_count(); ++i) {
        Bytes plain(m.Segment(i).size());
        wireguard::Verdict<size_t> n = keypair.Open(plain, m.Segment(i), clock_.Now());
        EXPECT_TRUE(n);
        plain.resize(n ? *n : 0);
        std::optional<IpPacketView> ip = ParseIpPacket(plain);
        if (ip) plain.resize(ip->total_length);
        out.push_back(std::move(plain));
      }
    }
    return out;
  }
  // What A receives back (A opens with the peer's end of session_).
  std::vector<Bytes> BackAtA(size_t count) { return Arrivals(*peer_, *session_.local, count); }
  // What C receives (C opens with its end of session_c_).
  std::vector<Bytes> AtC(size_t count) { return Arrivals(*c_, *session_c_.remote, count); }

  const Endpoint local_ = *Endpoint::Parse("192.0.2.2:51820");
  const Endpoint remote_ = *Endpoint::Parse("192.0.2.1:51820");
  const Endpoint c_endpoint_ = *Endpoint::Parse("192.0.2.3:51820");
  testing::FakeClock clock_;
  testing::FakeRandom random_{6};
  const crypto::PublicKey key_a_ = crypto::PrivateKey::Generate(random_).Public();
  const crypto::PublicKey key_c_ = crypto::PrivateKey::Generate(random_).Public();
  testing::FakeNetwork network_;
  std::unique_ptr<testing::FakeTun> tun_;
  std::unique_ptr<testing::FakeUdpSocket> udp_;
  std::unique_ptr<testing::FakeUdpSocket> peer_;
  std::unique_ptr<testing::FakeUdpSocket> c_;
  SessionPair session_;
  SessionPair session_c_;
  std::shared_ptr<const AllowedIps> allowed_ips_;
  std::shared_ptr<const ForwardingTable> forwarding_;
  PeerSlot slot_a_{key_a_};
  PeerSlot slot_c_{key_c_};
  std::mutex send_mutex_;
  std::mutex tun_mutex_;
  SnapshotHolder snapshots_;
  RecordingSink sink_;
  DropCounters drops_;
  std::thread worker_;
};

TEST_F(RxWorkerTest, OpensTransportMessagesIntoTheTunWithoutPadding) {
  Publish();
  StartWorker();
  const Bytes v4 = NumberedPacket("10.0.0.1", "10.0.0.2", 1, 33);  // padded on the wire
  const Bytes v6 = NumberedPacket("fd00::1", "fd00::2", 2, 1372);
  const Bytes m4 = Seal(v4), m6 = Seal(v6);
  Send(m4);
  Send(m6);
  EXPECT_THAT(Written(2), ::testing::ElementsAre(v4, v6));
  ASSERT_TRUE(WaitFor([&] { return slot_a_.rx_bytes.load() == m4.size() + m6.size(); }));
  EXPECT_EQ(slot_a_.rx_packets.load(), 2u);
  EXPECT_EQ(slot_c_.rx_bytes.load(), 0u);
}

TEST_F(RxWorkerTest, CountsKeepalivesButWritesNothing) {
  Publish(/*confirmed=*/false);
  StartWorker();
  const Bytes keepalive = Seal({});
  ASSERT_EQ(keepalive.size(), 32u);
  Send(keepalive);
  ASSERT_TRUE(WaitFor([&] { return sink_.received().size() == 1; }));
  EXPECT_EQ(slot_a_.rx_bytes.load(), 32u);
  EXPECT_EQ(slot_a_.rx_packets.load(), 1u);
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(20)));
}

TEST_F(RxWorkerTest, ForwardsHandshakeMessagesToTheControlThread) {
  Publish();
  StartWorker();
  std::vector<Bytes> sent;
  for (auto [type, size] : {std::pair{1, 148}, {2, 92}, {3, 64}, {1, 7}}) {
    Bytes m = Pattern(size, type);
    m[0] = std::byte(type);
    sent.push_back(m);
    Send(m);
  }
  ASSERT_TRUE(WaitFor([&] { return sink_.handshakes().size() == 4; }));
  auto got = sink_.handshakes();
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].datagram, sent[i]);
    EXPECT_EQ(got[i].from, remote_);
  }
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(10)));
}

TEST_F(RxWorkerTest, DropsAndNamesEveryBadDatagram) {
  Publish();
  StartWorker();
  using wireguard::DropReason;
  const Bytes good = Seal(NumberedPacket("10.0.0.1", "10.0.0.2", 1));
  Bytes forged = good;
  forged[40] ^= std::byte{1};
  Bytes unknown_index = good;
  unknown_index[4] ^= std::byte{0x55};
  Bytes short_transport(31);
  short_transport[0] = std::byte{4};
  Bytes unknown_type = Pattern(40, 0);
  unknown_type[0] = std::byte{7};

  Send(ByteSpan(good).first(3));
  Send(unknown_type);
  Send(short_transport);
  Send(unknown_index);
  Send(forged);
  Send(good);
  Send(good);                                             // replayed
  Send(Seal(NumberedPacket("10.0.0.3", "10.0.0.2", 2)));  // C's address, from A
  Send(Seal(NumberedPacket("10.0.0.9", "10.0.0.2", 3)));  // nobody's
  Send(Seal(Pattern(60, 4)));                             // not an IP packet
  Bytes lying = NumberedPacket("10.0.0.1", "10.0.0.2", 5);
  StoreBe16(&lying[2], static_cast<uint16_t>(lying.size() + 100));  // claims more than it has
  Send(Seal(lying));

  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kBadInnerPacket) == 2; }));
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kSourceNotAllowed) == 2; }));
  EXPECT_EQ(Drops(DropReason::kTooShort), 1u);
  EXPECT_EQ(Drops(DropReason::kUnknownType), 1u);
  EXPECT_EQ(Drops(DropReason::kBadTransportSize), 1u);
  EXPECT_EQ(Drops(DropReason::kUnknownReceiverIndex), 1u);
  EXPECT_EQ(Drops(DropReason::kDecryptFailed), 1u);
  EXPECT_EQ(Drops(DropReason::kReplay), 1u);
  std::vector<Bytes> written = Written(1);
  ASSERT_EQ(written.size(), 1u);
  EXPECT_EQ(written[0], NumberedPacket("10.0.0.1", "10.0.0.2", 1));
  EXPECT_TRUE(sink_.handshakes().empty());
  EXPECT_EQ(slot_c_.rx_bytes.load(), 0u) << "accounted to the authenticated sender only";
}

TEST_F(RxWorkerTest, ReportsNewKeypairsAndEndpointsAtOnceAndMergesTheRest) {
  Publish(/*confirmed=*/false);
  StartWorker();
  // Unconfirmed keypair: every batch is news for the control thread.
  Send(Seal(NumberedPacket("10.0.0.1", "10.0.0.2", 1)));
  ASSERT_TRUE(WaitFor([&] { return sink_.received().size() == 1; }));
  Send(Seal(NumberedPacket("10.0.0.1", "10.0.0.2", 2)));
  ASSERT_TRUE(WaitFor([&] { return sink_.received().size() == 2; }));
  EXPECT_EQ(sink_.received()[0].keypair, session_.remote);
  EXPECT_EQ(sink_.received()[0].from, remote_);

  // Confirmed and from the known endpoint: merged within the event interval
  // (the fake clock does not move).
  Publish(/*confirmed=*/true);
  for (uint32_t i = 3; i < 8; ++i) Send(Seal(NumberedPacket("10.0.0.1", "10.0.0.2", i)));
  ASSERT_TRUE(WaitFor([&] { return slot_a_.rx_packets.load() == 7; }));
  EXPECT_EQ(sink_.received().size(), 2u);

  // Roaming: the same session from a new endpoint is reported at once.
  auto roamed = network_.Bind(*Endpoint::Parse("198.51.100.7:1000"));
  ASSERT_TRUE(roamed);
  SendFrom(**roamed, Seal(NumberedPacket("10.0.0.1", "10.0.0.2", 8)));
  ASSERT_TRUE(WaitFor([&] { return sink_.received().size() == 3; }));
  EXPECT_EQ(sink_.received()[2].from, (*roamed)->local_endpoint());
  EXPECT_EQ(Written(8).size(), 8u);
}

TEST_F(RxWorkerTest, OpensEverySegmentOfAGroBatch) {
  Publish();
  StartWorker();
  // Eight equal-size messages back to back, delivered as one GRO message.
  std::vector<Bytes> packets;
  Bytes batch;
  for (uint32_t i = 0; i < 8; ++i) {
    packets.push_back(NumberedPacket("10.0.0.1", "10.0.0.2", i, 500));
    Bytes m = Seal(packets.back());
    batch.insert(batch.end(), m.begin(), m.end());
  }
  const size_t segment = batch.size() / 8;
  SendFrom(*peer_, batch, static_cast<uint16_t>(segment));
  EXPECT_EQ(Written(8), packets);
  ASSERT_TRUE(WaitFor([&] { return slot_a_.rx_bytes.load() == batch.size(); }));
}

// --- Link-local control and the source check ---

TEST_F(RxWorkerTest, HandsLinkLocalBabelAndLinkControlToTheControlThread) {
  Publish();
  StartWorker();
  const Bytes babel = UdpPacket("fe80::1", "ff02::1:6", Pattern(20, 1), 6696, 6696);
  const Bytes unicast = UdpPacket("fe80::1", "fe80::2", Pattern(30, 2), 6696, 6696);
  const Bytes control = UdpPacket("fe80::1", "fe80::2", Pattern(40, 3), 40000, 6327);
  for (const Bytes& p : {babel, unicast, control}) Send(Seal(p));
  ASSERT_TRUE(WaitFor([&] { return sink_.link_local().size() == 3; }));
  std::vector<RecordingSink::LinkLocal> got = sink_.link_local();
  for (const auto& l : got) EXPECT_EQ(l.peer, 0u);
  EXPECT_EQ(got[0].packet, babel) << "the whole IPv6 packet, without padding";
  EXPECT_EQ(got[1].packet, unicast);
  EXPECT_EQ(got[2].packet, control);
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(20)));
}

TEST_F(RxWorkerTest, DropsOtherLinkScopedPackets) {
  Publish();
  StartWorker();
  Send(Seal(UdpPacket("fe80::1", "fe80::2", Pattern(20, 1), 5000, 53)));  // other port
  Send(
      Seal(UdpPacket("fe80::1", "ff02::1", Pattern(20, 2), 6696, 6696)));  // ff02::/16: Babel's too
  Send(Seal(UdpPacket("fd00::1", "ff02::1:6", Pattern(20, 3), 6696, 6696)));  // global source
  Send(Seal(UdpPacket("fe80::1", "ff05::1:3", Pattern(20, 4), 6696, 6696)));  // site scope
  Send(Seal(UdpPacket("fe80::1", "fd00::2", Pattern(20, 5), 6696, 6696)));    // off link
  Send(Seal(UdpPacket("10.0.0.1", "224.0.0.5", Pattern(20, 6))));
  Send(Seal(UdpPacket("169.254.0.1", "10.0.0.2", Pattern(20, 7))));
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kLinkLocal) == 6; }));
  EXPECT_EQ(sink_.link_local().size(), 1u) << "any ff02::/16 destination is Babel's";
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(20)));
}

TEST_F(RxWorkerTest, MeshLinkAcceptsAnySource) {
  Publish(/*confirmed=*/true, /*mesh=*/true);
  StartWorker();
  const Bytes far = NumberedPacket("10.7.7.7", "10.0.0.2", 1);
  const Bytes c_address = NumberedPacket("10.0.0.3", "10.0.0.2", 2);
  const Bytes far6 = NumberedPacket("2001:db8::7", "fd00::2", 3);
  for (const Bytes& p : {far, c_address, far6}) Send(Seal(p));
  EXPECT_THAT(Written(3), ::testing::ElementsAre(far, c_address, far6));
  EXPECT_EQ(drops_.Get(NodeDrop::kSourceNotAllowed), 0u);
}

TEST_F(RxWorkerTest, StaticPeerStillRejectsAForeignSource) {
  Publish();
  StartWorker();
  Send(Seal(NumberedPacket("10.7.7.7", "10.0.0.2", 1)));
  Send(Seal(NumberedPacket("10.0.0.3", "10.0.0.2", 2)));
  const Bytes good = NumberedPacket("fd00::1", "fd00::2", 3);
  Send(Seal(good));
  EXPECT_THAT(Written(1), ::testing::ElementsAre(good));
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kSourceNotAllowed) == 2; }));
}

// --- Forwarding ---

TEST_F(RxWorkerTest, ForwardsToTheNextPeerWithTheHopLimitDecremented) {
  Publish(/*confirmed=*/true, /*mesh=*/false, /*c_ready=*/true);
  StartWorker();
  const Bytes v4 = NumberedPacket("10.0.0.1", "10.3.0.9", 1, 200);
  const Bytes v6 = NumberedPacket("fd00::1", "fd00:3::9", 2, 1372);
  Send(Seal(v4));
  Send(Seal(v6));
  EXPECT_THAT(AtC(2), ::testing::ElementsAre(AfterOneHop(v4), AfterOneHop(v6)));
  EXPECT_FALSE(tun_->WaitForWritten(1, milliseconds(20)));
  ASSERT_TRUE(
      WaitFor([&] { return slot_c_.tx_packets.load() == 2 && slot_c_.tx_bytes.load() > 0; }));
  EXPECT_EQ(slot_a_.rx_packets.load(), 2u);
}

TEST_F(RxWorkerTest, ForwardsBackOutTheLinkItCameFrom) {
  Publish(/*confirmed=*/true, /*mesh=*/true);
  StartWorker();
  const Bytes p = NumberedPacket("10.7.0.1", "10.0.0.1", 1);  // to A's address, from A
  Send(Seal(p));
  EXPECT_THAT(BackAtA(1), ::testing::ElementsAre(AfterOneHop(p)));
}

TEST_F(RxWorkerTest, StagesForwardedPacketsForAPeerWithoutKeypair) {
  Publish();
  StartWorker();
  const Bytes p = NumberedPacket("10.0.0.1", "10.3.0.9", 1);
  Send(Seal(p));
  ASSERT_TRUE(WaitFor([&] { return sink_.queued().size() == 1; }));
  EXPECT_EQ(sink_.queued()[0], 1u);
  std::lock_guard lock(slot_c_.staged_mutex);
  ASSERT_EQ(slot_c_.staged.size(), 1u);
  EXPECT_EQ(slot_c_.staged.front(), AfterOneHop(p));
}

TEST_F(RxWorkerTest, AnswersAnExpiringHopLimitWithTimeExceeded) {
  Publish(/*confirmed=*/true, /*mesh=*/false, /*c_ready=*/true);
  StartWorker();
  const Bytes v4 = WithHopLimit(NumberedPacket("10.0.0.1", "10.3.0.9", 1), 1);
  const Bytes v6 = WithHopLimit(NumberedPacket("fd00::1", "fd00:3::9", 2), 1);
  const Bytes last = WithHopLimit(NumberedPacket("10.0.0.1", "10.3.0.9", 3), 2);
  Send(Seal(v4));
  Send(Seal(v6));
  Send(Seal(last));
  std::vector<Bytes> back = BackAtA(2);
  ASSERT_EQ(back.size(), 2u);
  IcmpMessage e4 = ParseIcmp(back[0]), e6 = ParseIcmp(back[1]);
  EXPECT_EQ(e4.type, 11);
  EXPECT_EQ(e4.code, 0);
  EXPECT_EQ(e4.source, Addr("10.0.0.2"));
  EXPECT_EQ(e4.destination, Addr("10.0.0.1"));
  EXPECT_EQ(e4.quote, v4) << "quoted as received, before any decrement";
  EXPECT_EQ(e6.type, 3);
  EXPECT_EQ(e6.source, Addr("fd00::2"));
  EXPECT_EQ(e6.quote, v6);
  EXPECT_TRUE(e4.checksums_ok && e6.checksums_ok);
  EXPECT_THAT(AtC(1), ::testing::ElementsAre(AfterOneHop(last))) << "hop limit 2 still passes";
  EXPECT_EQ(drops_.Get(NodeDrop::kHopLimitExceeded), 2u);
}

TEST_F(RxWorkerTest, AnswersNoRouteAndUnreachableRoutesWithDestinationUnreachable) {
  Publish();
  StartWorker();
  Send(Seal(NumberedPacket("10.0.0.1", "10.9.9.9", 1)));  // no route
  Send(Seal(NumberedPacket("10.0.0.1", "10.6.0.1", 2)));  // unreachable route
  Send(Seal(NumberedPacket("fd00::1", "fd00:9::1", 3)));  // no route
  Send(Seal(NumberedPacket("fd00::1", "fd00:6::1", 4)));  // unreachable route
  std::vector<Bytes> back = BackAtA(4);
  ASSERT_EQ(back.size(), 4u);
  std::vector<std::pair<int, int>> type_code;
  for (const Bytes& b : back) {
    IcmpMessage e = ParseIcmp(b);
    type_code.emplace_back(e.type, e.code);
  }
  EXPECT_THAT(type_code, ::testing::ElementsAre(std::pair(3, 0), std::pair(3, 1), std::pair(1, 0),
                                                std::pair(1, 0)));
  EXPECT_EQ(drops_.Get(NodeDrop::kNoRoute), 4u);
}

TEST_F(RxWorkerTest, AnswersPacketsTooBigForTheNextLink) {
  Publish(/*confirmed=*/true, /*mesh=*/false, /*c_ready=*/true);
  StartWorker();
  const Bytes v6 = NumberedPacket("fd00::1", "fd00:3::9", 1, 1400);  // 1448 > 1420
  const Bytes v4 = NumberedPacket("10.0.0.1", "10.3.0.9", 2, 1400);  // DF set
  Bytes v4_may_fragment = NumberedPacket("10.0.0.1", "10.3.0.9", 3, 1400);
  v4_may_fragment[6] = std::byte{0};
  StoreBe16(&v4_may_fragment[10], 0);
  StoreBe16(&v4_may_fragment[10], io::InternetChecksum(ByteSpan(v4_may_fragment).first(20)));
  Send(Seal(v6));
  Send(Seal(v4));
  Send(Seal(v4_may_fragment));
  std::vector<Bytes> back = BackAtA(2);
  ASSERT_EQ(back.size(), 2u);
  IcmpMessage e6 = ParseIcmp(back[0]), e4 = ParseIcmp(back[1]);
  EXPECT_EQ(e6.type, 2);
  EXPECT_EQ(e6.code, 0);
  EXPECT_EQ(e6.parameter, kMtu);
  EXPECT_EQ(e4.type, 3);
  EXPECT_EQ(e4.code, 4);
  EXPECT_EQ(e4.parameter, kMtu);
  EXPECT_THAT(AtC(1), ::testing::ElementsAre(AfterOneHop(v4_may_fragment)))
      << "without DF it goes on (the outer UDP datagram may fragment)";
  EXPECT_EQ(drops_.Get(NodeDrop::kPacketTooBig), 2u);
}

TEST_F(RxWorkerTest, RateLimitsIcmpErrors) {
  Publish();
  StartWorker();
  for (uint32_t i = 0; i < 25; ++i) Send(Seal(NumberedPacket("10.0.0.1", "10.9.9.9", i)));
  ASSERT_TRUE(WaitFor([&] { return drops_.Get(NodeDrop::kNoRoute) == 25; }));
  EXPECT_EQ(drops_.Get(NodeDrop::kIcmpRateLimited), 5u) << "the fake clock never moves";
  EXPECT_EQ(BackAtA(20).size(), 20u);
}

class RxWorkerVnetTest : public RxWorkerTest {
 protected:
  RxWorkerVnetTest() : RxWorkerTest(true) {}
};

TEST_F(RxWorkerVnetTest, CoalescesTcpSegmentsIntoASuperPacket) {
  Publish();
  StartWorker();
  Bytes payload;
  Bytes batch;
  for (uint32_t i = 0; i < 10; ++i) {
    const Bytes chunk = Pattern(1380, 100 + i);
    // PSH on the last segment only, as the kernel's GRO requires.
    const Bytes tcp = TcpPacket("10.0.0.1", "10.0.0.2", chunk, 1 + i * 1380, /*partial=*/false,
                                i == 9 ? 0x18 : 0x10);
    payload.insert(payload.end(), chunk.begin(), chunk.end());
    Bytes m = Seal(tcp);
    batch.insert(batch.end(), m.begin(), m.end());
  }
  SendFrom(*peer_, batch, static_cast<uint16_t>(batch.size() / 10));
  Bytes received;
  std::vector<testing::FakeTun::Packet> written;
  ASSERT_TRUE(WaitFor([&] {
    for (auto& p : tun_->TakeWritten()) {
      ByteSpan data = TcpPayload(p.data);
      received.insert(received.end(), data.begin(), data.end());
      written.push_back(std::move(p));
    }
    return received.size() >= payload.size();
  }));
  EXPECT_TRUE(received == payload);
  EXPECT_LT(written.size(), 10u) << "nothing was coalesced";
}

}  // namespace
}  // namespace plexus::node::test
