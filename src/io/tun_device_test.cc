// Conformance tests for io::TunDevice, run against a real TUN (inside a
// network namespace the test creates, with the kernel's UDP stack as the
// "host") and against testing::FakeTun (the test plays the host).
#include "io/tun_device.h"

#include <gtest/gtest.h>
#include <netinet/udp.h>
#include <poll.h>

#include <cstring>
#include <deque>
#include <thread>

#include "io/kernel_tun_device.h"
#include "io/kernel_udp_socket.h"
#include "io/netlink.h"
#include "io/offload.h"
#include "io/test_netns.h"
#include "testing/fake_tun.h"

namespace plexus::io {
namespace {

// ---- IP/UDP packets for the tests ----

struct UdpDatagram {
  Endpoint from, to;
  std::string payload;
};

// An IPv4 or IPv6 UDP packet with valid checksums.
Bytes BuildUdp(const UdpDatagram& d) {
  bool v4 = d.from.address().is_v4();
  size_t ip_len = v4 ? 20 : 40, udp_len = 8 + d.payload.size();
  Bytes p(ip_len + udp_len);
  if (v4) {
    p[0] = std::byte{0x45};
    StoreBe16(&p[2], static_cast<uint16_t>(p.size()));
    p[8] = std::byte{64};
    p[9] = std::byte{IPPROTO_UDP};
    std::memcpy(&p[12], d.from.address().bytes().data(), 4);
    std::memcpy(&p[16], d.to.address().bytes().data(), 4);
    StoreBe16(&p[10], InternetChecksum(ByteSpan(p).first(20)));
  } else {
    p[0] = std::byte{0x60};
    StoreBe16(&p[4], static_cast<uint16_t>(udp_len));
    p[6] = std::byte{IPPROTO_UDP};
    p[7] = std::byte{64};
    std::memcpy(&p[8], d.from.address().bytes().data(), 16);
    std::memcpy(&p[24], d.to.address().bytes().data(), 16);
  }
  std::byte* udp = &p[ip_len];
  StoreBe16(udp, d.from.port());
  StoreBe16(udp + 2, d.to.port());
  StoreBe16(udp + 4, static_cast<uint16_t>(udp_len));
  std::memcpy(udp + 8, d.payload.data(), d.payload.size());
  uint16_t pseudo = PseudoHeaderSum(d.from.address().bytes(), d.to.address().bytes(), IPPROTO_UDP,
                                    static_cast<uint32_t>(udp_len));
  uint16_t sum = InternetChecksum(ByteSpan(udp, udp_len), pseudo);
  StoreBe16(udp + 6, sum == 0 ? 0xffff : sum);
  return p;
}

// The UDP datagram in an IP packet (checksums not verified: the kernel may
// leave them partial with offloads), or nullopt for anything else.
std::optional<UdpDatagram> ParseUdp(ByteSpan p) {
  if (p.empty()) return std::nullopt;
  int version = std::to_integer<int>(p[0]) >> 4;
  size_t ip_len = version == 4 ? 4 * (std::to_integer<size_t>(p[0]) & 0xf) : 40;
  size_t proto_at = version == 4 ? 9 : 6;
  if ((version != 4 && version != 6) || p.size() < ip_len + 8) return std::nullopt;
  if (std::to_integer<int>(p[proto_at]) != IPPROTO_UDP) return std::nullopt;
  IpAddress src = version == 4 ? IpAddress::FromV4Bytes(p.subspan(12, 4))
                               : IpAddress::FromV6Bytes(p.subspan(8, 16));
  IpAddress dst = version == 4 ? IpAddress::FromV4Bytes(p.subspan(16, 4))
                               : IpAddress::FromV6Bytes(p.subspan(24, 16));
  const std::byte* udp = &p[ip_len];
  size_t udp_len = std::min<size_t>(LoadBe16(udp + 4), p.size() - ip_len);
  if (udp_len < 8) return std::nullopt;
  return UdpDatagram{Endpoint(src, LoadBe16(udp)), Endpoint(dst, LoadBe16(udp + 2)),
                     std::string(AsChars(p.subspan(ip_len + 8, udp_len - 8)))};
}

Endpoint Ep(std::string_view text) {
  return *Endpoint::Parse(text);
}

// The peer on the far side of the TUN, as seen from the host.
Endpoint PeerEndpoint(IpFamily f) {
  return f == IpFamily::kV4 ? Ep("10.77.0.2:5555") : Ep("[fd77::2]:5555");
}

// ---- Environments ----

class KernelTunEnv {
 public:
  static constexpr const char* kName = "Kernel";

  // Empty on success, else why the test must be skipped.
  std::string SetUp(bool vnet_header = true, bool multi_queue = false) {
    std::string why_not;
    netns_ = ScopedNetns::Enter(why_not);
    if (!netns_) return why_not;
    auto tun = KernelTunDevice::Open(
        {.name = "plxc0", .vnet_header = vnet_header, .multi_queue = multi_queue});
    if (!tun) return tun.error().message();
    tun_ = std::move(tun).value();
    auto nl = Netlink::Open();
    Result<Link> link = nl ? nl->FindLink("plxc0") : Result<Link>(nl.error());
    if (!link) return link.error().message();
    if (Status s = nl->SetLinkUp(*link, true); !s) return s.error().message();
    for (const char* a : {"10.77.0.1/24", "fd77::1/64"}) {
      if (Status s = nl->AddAddress(*link, *Prefix::Parse(a)); !s) return s.error().message();
      if (Status s = nl->WaitForAddress(*link, *Prefix::Parse(a), 2s); !s)
        return s.error().message();
    }
    auto host = KernelUdpSocket::Bind({.enable_gro = false});
    if (!host) return host.error().message();
    host_ = std::move(host).value();
    for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
      if (!ProbeUntilDelivered(f)) return "the kernel never accepted packets from the TUN";
    }
    return "";
  }
  // Right after configuration the kernel drops IPv6 packets written to the
  // TUN for some milliseconds (Ip6InAddrErrors) although the address is no
  // longer tentative; write probes until one gets through.
  bool ProbeUntilDelivered(IpFamily f) {
    Bytes probe = BuildUdp({PeerEndpoint(f), HostEndpoint(f), "probe"});
    TunPacket packet{.buffer = probe, .length = probe.size()};
    Bytes buffer(kMaxUdpPayload);
    for (int tries = 0; tries < 100; ++tries) {
      if (!tun_->WriteBatch(std::span(&packet, 1))) return false;
      pollfd p{host_->poll_fd(), POLLIN, 0};
      if (::poll(&p, 1, 20) == 1) {
        UdpMessage m{.buffer = buffer};
        return host_->RecvBatch(std::span(&m, 1)).ok();
      }
    }
    return false;
  }
  TunDevice& tun() { return *tun_; }
  KernelTunDevice& kernel_tun() { return *tun_; }
  KernelUdpSocket& host_socket() { return *host_; }
  Endpoint HostEndpoint(IpFamily f) const {
    return Endpoint(*IpAddress::Parse(f == IpFamily::kV4 ? "10.77.0.1" : "fd77::1"),
                    host_->local_port());
  }
  void HostSend(const std::string& payload, const Endpoint& to) {
    std::string copy = payload;
    UdpMessage m{.buffer = {reinterpret_cast<std::byte*>(copy.data()), copy.size()},
                 .length = copy.size(),
                 .endpoint = to};
    ASSERT_TRUE(host_->SendBatch(std::span(&m, 1)).ok());
  }
  // The next datagram the host socket receives within 2 s.
  std::optional<UdpDatagram> HostReceive() {
    Bytes buffer(kMaxUdpPayload);
    UdpMessage m{.buffer = buffer};
    for (int tries = 0; tries < 2; ++tries) {
      Result<size_t> n = host_->RecvBatch(std::span(&m, 1));
      if (n && *n == 1) return UdpDatagram{m.endpoint, {}, std::string(AsChars(m.Segment(0)))};
      pollfd p{host_->poll_fd(), POLLIN, 0};
      ::poll(&p, 1, 2000);
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<ScopedNetns> netns_;
  std::unique_ptr<KernelTunDevice> tun_;
  std::unique_ptr<KernelUdpSocket> host_;
};

class FakeTunEnv {
 public:
  static constexpr const char* kName = "Fake";

  std::string SetUp() {
    auto tun = testing::FakeTun::Create("plxc0", /*vnet_header=*/true);
    if (!tun) return tun.error().message();
    tun_ = std::move(tun).value();
    return "";
  }
  TunDevice& tun() { return *tun_; }
  Endpoint HostEndpoint(IpFamily f) const {
    return f == IpFamily::kV4 ? Ep("10.77.0.1:4000") : Ep("[fd77::1]:4000");
  }
  void HostSend(const std::string& payload, const Endpoint& to) {
    IpFamily f = to.address().family();
    tun_->InjectPacket(BuildUdp({HostEndpoint(f), to, payload}));
  }
  std::optional<UdpDatagram> HostReceive() {
    if (pending_.empty()) {
      tun_->WaitForWritten(1, 2s);
      for (auto& p : tun_->TakeWritten()) pending_.push_back(std::move(p.data));
    }
    while (!pending_.empty()) {
      Bytes p = std::move(pending_.front());
      pending_.pop_front();
      std::optional<UdpDatagram> d = ParseUdp(p);
      if (d && (d->to == HostEndpoint(IpFamily::kV4) || d->to == HostEndpoint(IpFamily::kV6))) {
        return d;
      }
    }
    return std::nullopt;
  }

 private:
  std::unique_ptr<testing::FakeTun> tun_;
  std::deque<Bytes> pending_;
};

// ---- Conformance ----

struct TunBuffers {
  explicit TunBuffers(size_t count, size_t size = kMaxTunPacket)
      : storage(count, Bytes(size)), packets(count) {}
  std::span<TunPacket> Reset() {
    for (size_t i = 0; i < packets.size(); ++i) packets[i] = {.buffer = storage[i]};
    return packets;
  }
  std::vector<Bytes> storage;
  std::vector<TunPacket> packets;
};

// Reads until `want` UDP datagrams addressed to `to` arrived (other traffic,
// e.g. IPv6 router solicitations, is skipped) or 2 s pass without any.
std::vector<UdpDatagram> ReadDatagramsTo(TunDevice& tun, const Endpoint& to, size_t want,
                                         size_t* largest_batch = nullptr,
                                         size_t buffer_size = kMaxTunPacket) {
  TunBuffers buffers(16, buffer_size);
  std::vector<UdpDatagram> out;
  while (out.size() < want) {
    Result<size_t> n = tun.ReadBatch(buffers.Reset());
    if (!n) break;
    if (largest_batch) *largest_batch = std::max(*largest_batch, *n);
    if (*n == 0) {
      pollfd p{tun.poll_fd(), POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
    }
    for (size_t i = 0; i < *n; ++i) {
      std::optional<UdpDatagram> d = ParseUdp(buffers.packets[i].packet());
      if (d && d->to == to) out.push_back(*d);
    }
  }
  return out;
}

template <typename Env>
class TunDeviceConformanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not = env_.SetUp();
    if (!why_not.empty()) GTEST_SKIP() << why_not;
  }
  Env env_;
};

struct EnvNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
using Envs = ::testing::Types<KernelTunEnv, FakeTunEnv>;
TYPED_TEST_SUITE(TunDeviceConformanceTest, Envs, EnvNames);

TYPED_TEST(TunDeviceConformanceTest, ReadsBatchOfPacketsTheHostRoutesToIt) {
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    SCOPED_TRACE(f == IpFamily::kV4 ? "IPv4" : "IPv6");
    for (int i = 0; i < 8; ++i) this->env_.HostSend("packet " + std::to_string(i), PeerEndpoint(f));
    size_t largest_batch = 0;
    std::vector<UdpDatagram> got =
        ReadDatagramsTo(this->env_.tun(), PeerEndpoint(f), 8, &largest_batch);
    ASSERT_EQ(got.size(), 8u);
    for (int i = 0; i < 8; ++i) {
      EXPECT_EQ(got[i].payload, "packet " + std::to_string(i));
      EXPECT_EQ(got[i].from, this->env_.HostEndpoint(f));
    }
    EXPECT_GT(largest_batch, 1u) << "queued packets were not read as one batch";
  }
}

TYPED_TEST(TunDeviceConformanceTest, WrittenPacketsReachTheHost) {
  for (IpFamily f : {IpFamily::kV4, IpFamily::kV6}) {
    SCOPED_TRACE(f == IpFamily::kV4 ? "IPv4" : "IPv6");
    std::vector<Bytes> packets;
    for (int i = 0; i < 3; ++i) {
      packets.push_back(
          BuildUdp({PeerEndpoint(f), this->env_.HostEndpoint(f), "reply " + std::to_string(i)}));
    }
    std::vector<TunPacket> batch;
    for (Bytes& p : packets) batch.push_back({.buffer = p, .length = p.size()});
    Result<size_t> written = this->env_.tun().WriteBatch(batch);
    ASSERT_TRUE(written.ok()) << written.error().message();
    EXPECT_EQ(*written, 3u);
    for (int i = 0; i < 3; ++i) {
      std::optional<UdpDatagram> d = this->env_.HostReceive();
      ASSERT_TRUE(d.has_value());
      EXPECT_EQ(d->payload, "reply " + std::to_string(i));
      EXPECT_EQ(d->from, PeerEndpoint(f));
    }
  }
}

TYPED_TEST(TunDeviceConformanceTest, PacketLongerThanBufferIsDroppedNotTruncated) {
  this->env_.HostSend(std::string(1000, 'L'), PeerEndpoint(IpFamily::kV4));
  this->env_.HostSend("short", PeerEndpoint(IpFamily::kV4));
  std::vector<UdpDatagram> got = ReadDatagramsTo(this->env_.tun(), PeerEndpoint(IpFamily::kV4), 1,
                                                 nullptr, /*buffer_size=*/200);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "short");
}

TYPED_TEST(TunDeviceConformanceTest, ShutdownWakesBlockedReaderAndFailsLaterCalls) {
  TunDevice& tun = this->env_.tun();
  TunBuffers drain(16);
  for (Result<size_t> n = tun.ReadBatch(drain.Reset()); n && *n > 0;
       n = tun.ReadBatch(drain.Reset())) {
  }
  std::thread reader([&] {
    WaitOutcome w;
    do {  // kReady is possible if the kernel emits something: read it and wait again
      w = tun.WaitReadable();
      TunBuffers b(4);
      if (w == WaitOutcome::kReady) (void)tun.ReadBatch(b.Reset());
    } while (w == WaitOutcome::kReady);
  });
  std::this_thread::sleep_for(20ms);
  tun.Shutdown();
  reader.join();
  TunBuffers buffers(1);
  EXPECT_FALSE(tun.ReadBatch(buffers.Reset()).ok());
  EXPECT_FALSE(tun.WriteBatch(buffers.Reset()).ok());
}

// ---- Kernel-only: virtio-net header offloads, plain mode, multi-queue ----

class KernelTunTest : public ::testing::Test {
 protected:
  void Open(bool vnet_header, bool multi_queue = false) {
    std::string why_not = env_.SetUp(vnet_header, multi_queue);
    if (!why_not.empty()) GTEST_SKIP() << why_not;
  }
  KernelTunEnv env_;
};

TEST_F(KernelTunTest, UsoSuperPacketFromHostIsReadWithGsoHeader) {
  Open(/*vnet_header=*/true);
  if (IsSkipped()) return;
  ASSERT_TRUE(env_.tun().has_vnet_header());
  if (!env_.kernel_tun().offloads().uso) GTEST_SKIP() << "kernel without TUN_F_USO4";
  if (!env_.host_socket().capabilities().gso) GTEST_SKIP() << "kernel without UDP GSO";
  std::string payload;
  for (char c : {'a', 'b', 'c', 'd'}) payload += std::string(1000, c);
  UdpMessage m{.buffer = {reinterpret_cast<std::byte*>(payload.data()), payload.size()},
               .length = payload.size(),
               .endpoint = PeerEndpoint(IpFamily::kV4),
               .segment_size = 1000};
  ASSERT_TRUE(env_.host_socket().SendBatch(std::span(&m, 1)).ok());

  TunBuffers buffers(4);
  std::optional<TunPacket> super;
  for (int tries = 0; tries < 50 && !super; ++tries) {
    Result<size_t> n = env_.tun().ReadBatch(buffers.Reset());
    ASSERT_TRUE(n.ok());
    for (size_t i = 0; i < *n; ++i) {
      std::optional<UdpDatagram> d = ParseUdp(buffers.packets[i].packet());
      if (d && d->to == PeerEndpoint(IpFamily::kV4)) super = buffers.packets[i];
    }
    pollfd p{env_.tun().poll_fd(), POLLIN, 0};
    if (!super) ::poll(&p, 1, 40);
  }
  ASSERT_TRUE(super.has_value());
  EXPECT_EQ(super->vnet.gso_kind(), VirtioNetHeader::kGsoUdpL4);
  EXPECT_EQ(super->vnet.gso_size, 1000);
  EXPECT_EQ(super->length, 20u + 8u + 4000u);

  std::vector<Bytes> storage(8, Bytes(1500));
  std::vector<MutableByteSpan> segments(storage.begin(), storage.end());
  SegmentResult split = Segment(super->vnet, super->packet(), segments);
  ASSERT_TRUE(split.ok());
  ASSERT_EQ(split.count, 4u);
  for (size_t i = 0; i < 4; ++i) {
    std::optional<UdpDatagram> d = ParseUdp(segments[i]);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->payload, std::string(1000, static_cast<char>('a' + i)));
  }
}

TEST_F(KernelTunTest, UsoSuperPacketWrittenReachesHostAsDatagrams) {
  Open(/*vnet_header=*/true);
  if (IsSkipped()) return;
  if (!env_.kernel_tun().offloads().uso) GTEST_SKIP() << "kernel without TUN_F_USO4";
  std::string payload;
  for (char c : {'w', 'x', 'y', 'z'}) payload += std::string(1000, c);
  Endpoint from = PeerEndpoint(IpFamily::kV4), to = env_.HostEndpoint(IpFamily::kV4);
  Bytes packet = BuildUdp({from, to, payload});
  // Partial checksum, as for a NEEDS_CSUM packet: the pseudo-header sum only.
  StoreBe16(&packet[26],
            PseudoHeaderSum(from.address().bytes(), to.address().bytes(), IPPROTO_UDP, 8 + 4000));
  TunPacket p{.buffer = packet, .length = packet.size()};
  p.vnet = {.flags = VirtioNetHeader::kFlagNeedsCsum,
            .gso_type = VirtioNetHeader::kGsoUdpL4,
            .hdr_len = 28,
            .gso_size = 1000,
            .csum_start = 20,
            .csum_offset = 6};
  ASSERT_TRUE(env_.tun().WriteBatch(std::span(&p, 1)).ok());
  for (char c : {'w', 'x', 'y', 'z'}) {
    std::optional<UdpDatagram> d = env_.HostReceive();
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->payload, std::string(1000, c));
    EXPECT_EQ(d->from, from);
  }
}

TEST_F(KernelTunTest, PlainModeHasNoHeaderAndStillCarriesPackets) {
  Open(/*vnet_header=*/false);
  if (IsSkipped()) return;
  EXPECT_FALSE(env_.tun().has_vnet_header());
  env_.HostSend("plain", PeerEndpoint(IpFamily::kV6));
  std::vector<UdpDatagram> got = ReadDatagramsTo(env_.tun(), PeerEndpoint(IpFamily::kV6), 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "plain");
}

TEST_F(KernelTunTest, SecondQueueOfMultiQueueDeviceWrites) {
  Open(/*vnet_header=*/true, /*multi_queue=*/true);
  if (IsSkipped()) return;
  auto queue = env_.kernel_tun().OpenQueue();
  ASSERT_TRUE(queue.ok()) << queue.error().message();
  EXPECT_EQ((*queue)->name(), "plxc0");
  EXPECT_EQ((*queue)->has_vnet_header(), env_.tun().has_vnet_header());
  Bytes packet = BuildUdp({PeerEndpoint(IpFamily::kV4), env_.HostEndpoint(IpFamily::kV4), "q2"});
  TunPacket p{.buffer = packet, .length = packet.size()};
  ASSERT_TRUE((*queue)->WriteBatch(std::span(&p, 1)).ok());
  std::optional<UdpDatagram> d = env_.HostReceive();
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->payload, "q2");
}

TEST_F(KernelTunTest, SingleQueueDeviceRefusesOpenQueue) {
  Open(/*vnet_header=*/true);
  if (IsSkipped()) return;
  EXPECT_FALSE(env_.kernel_tun().OpenQueue().ok());
}

}  // namespace
}  // namespace plexus::io
