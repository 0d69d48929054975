// Conformance tests for io::UdpSocket, run against the kernel socket (over
// loopback) and the in-memory fake: both must behave the same way.
#include "io/udp_socket.h"

#include <gtest/gtest.h>
#include <poll.h>

#include <array>
#include <thread>
#include <vector>

#include "io/kernel_udp_socket.h"
#include "testing/fake_udp.h"

namespace plexus::io {
namespace {

IpAddress Loopback(IpFamily family) {
  return *IpAddress::Parse(family == IpFamily::kV4 ? "127.0.0.1" : "::1");
}

class KernelEnv {
 public:
  static constexpr const char* kName = "Kernel";
  Result<std::unique_ptr<UdpSocket>> Open(IpFamily family, UdpCapabilities want) {
    UdpSocketOptions options;
    options.enable_gso = want.gso;
    options.enable_gro = want.gro;
    auto s = KernelUdpSocket::Bind(options);
    if (!s) return s.error();
    return std::unique_ptr<UdpSocket>(std::move(s).value());
  }
};

class FakeEnv {
 public:
  static constexpr const char* kName = "Fake";
  Result<std::unique_ptr<UdpSocket>> Open(IpFamily family, UdpCapabilities want) {
    auto s = network_.Bind(Endpoint(Loopback(family), 0), want);
    if (!s) return s.error();
    return std::unique_ptr<UdpSocket>(std::move(s).value());
  }

 private:
  testing::FakeNetwork network_;
};

// Storage for a batch of receive buffers.
struct RecvBuffers {
  explicit RecvBuffers(size_t count, size_t size = kMaxUdpPayload)
      : storage(count, Bytes(size)), messages(count) {}
  std::span<UdpMessage> Reset() {
    for (size_t i = 0; i < messages.size(); ++i) messages[i] = {.buffer = storage[i]};
    return messages;
  }
  std::vector<Bytes> storage;
  std::vector<UdpMessage> messages;
};

struct Received {
  Endpoint from;
  std::string payload;
};

// Receives until `want` datagrams (segments count one each) or 2 s of quiet.
std::vector<Received> ReceiveDatagrams(UdpSocket& socket, size_t want,
                                       std::vector<uint16_t>* segment_sizes = nullptr) {
  RecvBuffers buffers(16);
  std::vector<Received> out;
  while (out.size() < want) {
    Result<size_t> n = socket.RecvBatch(buffers.Reset());
    if (!n) break;
    if (*n == 0) {
      pollfd p{socket.poll_fd(), POLLIN, 0};
      if (::poll(&p, 1, 2000) <= 0) break;
      continue;
    }
    for (size_t i = 0; i < *n; ++i) {
      const UdpMessage& m = buffers.messages[i];
      if (segment_sizes) segment_sizes->push_back(m.segment_size);
      for (size_t s = 0; s < m.segment_count(); ++s) {
        out.push_back({m.endpoint, std::string(AsChars(m.Segment(s)))});
      }
    }
  }
  return out;
}

UdpMessage MessageFor(std::string& payload, const Endpoint& to, uint16_t segment_size = 0) {
  return {.buffer = MutableByteSpan(reinterpret_cast<std::byte*>(payload.data()), payload.size()),
          .length = payload.size(),
          .endpoint = to,
          .segment_size = segment_size};
}

template <typename Env>
class UdpSocketConformanceTest : public ::testing::Test {
 protected:
  std::unique_ptr<UdpSocket> Open(IpFamily family, UdpCapabilities want = {true, true}) {
    auto s = env_.Open(family, want);
    EXPECT_TRUE(s.ok()) << s.error().message();
    return s ? std::move(s).value() : nullptr;
  }
  Env env_;
};

struct EnvNames {
  template <typename T>
  static std::string GetName(int) {
    return T::kName;
  }
};
using Envs = ::testing::Types<KernelEnv, FakeEnv>;
TYPED_TEST_SUITE(UdpSocketConformanceTest, Envs, EnvNames);

TYPED_TEST(UdpSocketConformanceTest, DeliversBatchWithSourceEndpointOverBothFamilies) {
  for (IpFamily family : {IpFamily::kV4, IpFamily::kV6}) {
    SCOPED_TRACE(family == IpFamily::kV4 ? "IPv4" : "IPv6");
    auto a = this->Open(family), b = this->Open(family);
    ASSERT_TRUE(a && b);
    ASSERT_NE(a->local_port(), 0);
    std::vector<std::string> payloads = {"one", "two", "three", std::string(1400, 'x')};
    std::vector<UdpMessage> batch;
    for (auto& p : payloads)
      batch.push_back(MessageFor(p, Endpoint(Loopback(family), b->local_port())));
    Result<size_t> sent = a->SendBatch(batch);
    ASSERT_TRUE(sent.ok()) << sent.error().message();
    EXPECT_EQ(*sent, payloads.size());
    std::vector<Received> got = ReceiveDatagrams(*b, payloads.size());
    ASSERT_EQ(got.size(), payloads.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i].payload, payloads[i]);
      EXPECT_EQ(got[i].from, Endpoint(Loopback(family), a->local_port()));
    }
  }
}

TYPED_TEST(UdpSocketConformanceTest, RecvBatchReturnsZeroWhenNothingQueued) {
  auto a = this->Open(IpFamily::kV4);
  RecvBuffers buffers(4);
  Result<size_t> n = a->RecvBatch(buffers.Reset());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
}

TYPED_TEST(UdpSocketConformanceTest, ManyDatagramsArriveInOrderAcrossBatches) {
  auto a = this->Open(IpFamily::kV4), b = this->Open(IpFamily::kV4);
  std::vector<std::string> payloads;
  for (int i = 0; i < 200; ++i) payloads.push_back("datagram " + std::to_string(i));
  std::vector<UdpMessage> batch;
  for (auto& p : payloads)
    batch.push_back(MessageFor(p, Endpoint(Loopback(IpFamily::kV4), b->local_port())));
  ASSERT_TRUE(a->SendBatch(batch).ok());
  std::vector<Received> got = ReceiveDatagrams(*b, payloads.size());
  ASSERT_EQ(got.size(), payloads.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].payload, payloads[i]);
}

// A GSO send of N equal segments (the last shorter) is N datagrams on the wire.
TYPED_TEST(UdpSocketConformanceTest, SegmentedSendArrivesAsSeparateDatagrams) {
  for (bool sender_gso : {true, false}) {
    SCOPED_TRACE(sender_gso ? "sender GSO" : "sender without GSO");
    auto a = this->Open(IpFamily::kV6, {.gso = sender_gso, .gro = false});
    auto b = this->Open(IpFamily::kV6, {.gso = false, .gro = false});
    std::string payload;
    for (char c = 'a'; c < 'a' + 9; ++c) payload += std::string(c == 'a' + 8 ? 300 : 1000, c);
    UdpMessage m = MessageFor(payload, Endpoint(Loopback(IpFamily::kV6), b->local_port()), 1000);
    ASSERT_EQ(m.segment_count(), 9u);
    ASSERT_TRUE(a->SendBatch(std::span(&m, 1)).ok());
    std::vector<uint16_t> sizes;
    std::vector<Received> got = ReceiveDatagrams(*b, 9, &sizes);
    ASSERT_EQ(got.size(), 9u);
    for (size_t i = 0; i < 9; ++i) {
      EXPECT_EQ(got[i].payload, std::string(i == 8 ? 300 : 1000, static_cast<char>('a' + i)));
    }
    for (uint16_t s : sizes) EXPECT_EQ(s, 0) << "receiver without GRO got a segmented message";
  }
}

// With GRO the receiver may get fewer, segmented messages; the segments are
// the datagrams that were sent, in order.
TYPED_TEST(UdpSocketConformanceTest, GroReceiverGetsEverySegment) {
  auto a = this->Open(IpFamily::kV4), b = this->Open(IpFamily::kV4);
  std::string payload(20 * 1200, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>(i / 1200);
  UdpMessage m = MessageFor(payload, Endpoint(Loopback(IpFamily::kV4), b->local_port()), 1200);
  ASSERT_TRUE(a->SendBatch(std::span(&m, 1)).ok());
  std::vector<uint16_t> sizes;
  std::vector<Received> got = ReceiveDatagrams(*b, 20, &sizes);
  ASSERT_EQ(got.size(), 20u);
  for (size_t i = 0; i < 20; ++i)
    EXPECT_EQ(got[i].payload, std::string(1200, static_cast<char>(i)));
  if (a->capabilities().gso && b->capabilities().gro) {
    EXPECT_LT(sizes.size(), 20u) << "GRO on both ends but no coalescing";
    EXPECT_EQ(sizes[0], 1200);
  }
}

TYPED_TEST(UdpSocketConformanceTest, DatagramLongerThanBufferIsDroppedNotTruncated) {
  auto a = this->Open(IpFamily::kV4, {false, false}), b = this->Open(IpFamily::kV4, {false, false});
  std::string big(500, 'b'), small("ok");
  Endpoint to(Loopback(IpFamily::kV4), b->local_port());
  std::vector<UdpMessage> batch = {MessageFor(big, to), MessageFor(small, to)};
  ASSERT_TRUE(a->SendBatch(batch).ok());
  RecvBuffers buffers(4, 100);
  std::vector<std::string> got;
  for (int tries = 0; tries < 100 && got.size() < 2; ++tries) {
    Result<size_t> n = b->RecvBatch(buffers.Reset());
    ASSERT_TRUE(n.ok());
    for (size_t i = 0; i < *n; ++i) got.emplace_back(AsChars(buffers.messages[i].Segment(0)));
    if (*n == 0) {
      pollfd p{b->poll_fd(), POLLIN, 0};
      ::poll(&p, 1, 100);
    }
  }
  EXPECT_EQ(got, std::vector<std::string>({"", "ok"}));
}

TYPED_TEST(UdpSocketConformanceTest, PollFdBecomesReadableOnArrival) {
  auto a = this->Open(IpFamily::kV4), b = this->Open(IpFamily::kV4);
  pollfd p{b->poll_fd(), POLLIN, 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  std::string payload = "hello";
  UdpMessage m = MessageFor(payload, Endpoint(Loopback(IpFamily::kV4), b->local_port()));
  ASSERT_TRUE(a->SendBatch(std::span(&m, 1)).ok());
  EXPECT_EQ(::poll(&p, 1, 2000), 1);
  EXPECT_EQ(b->WaitReadable(), WaitOutcome::kReady);
}

TYPED_TEST(UdpSocketConformanceTest, ShutdownWakesBlockedWaiterAndFailsLaterCalls) {
  auto a = this->Open(IpFamily::kV4);
  std::thread waiter([&] { EXPECT_EQ(a->WaitReadable(), WaitOutcome::kWoken); });
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  a->Shutdown();
  waiter.join();
  RecvBuffers buffers(1);
  EXPECT_FALSE(a->RecvBatch(buffers.Reset()).ok());
  std::string payload = "late";
  UdpMessage m = MessageFor(payload, Endpoint(Loopback(IpFamily::kV4), 9));
  EXPECT_FALSE(a->SendBatch(std::span(&m, 1)).ok());
}

// ---- Kernel-only behaviour ----

TEST(KernelUdpSocketTest, DualStackByDefaultAndIpv4OnlyOnRequest) {
  auto dual = KernelUdpSocket::Bind({});
  ASSERT_TRUE(dual.ok());
  EXPECT_TRUE((*dual)->dual_stack());
  auto v4 = KernelUdpSocket::Bind({.ipv4_only = true});
  ASSERT_TRUE(v4.ok());
  EXPECT_FALSE((*v4)->dual_stack());
  // An IPv4-only socket drops IPv6 destinations instead of failing the batch.
  std::string payload = "x";
  UdpMessage m = MessageFor(payload, Endpoint(Loopback(IpFamily::kV6), (*dual)->local_port()));
  Result<size_t> sent = (*v4)->SendBatch(std::span(&m, 1));
  ASSERT_TRUE(sent.ok());
  EXPECT_EQ(*sent, 1u);
}

TEST(KernelUdpSocketTest, BindsRequestedPortAndRefusesTakenOne) {
  auto first = KernelUdpSocket::Bind({});
  ASSERT_TRUE(first.ok());
  uint16_t port = (*first)->local_port();
  auto second = KernelUdpSocket::Bind({.port = port});
  ASSERT_FALSE(second.ok());
  EXPECT_NE(second.error().message().find(std::to_string(port)), std::string::npos);
  auto shared = KernelUdpSocket::Bind({.port = 0, .reuse_port = true});
  ASSERT_TRUE(shared.ok());
  auto again = KernelUdpSocket::Bind({.port = (*shared)->local_port(), .reuse_port = true});
  EXPECT_TRUE(again.ok());
}

TEST(FakeNetworkTest, FilterDropsAndUnboundDestinationIsCounted) {
  testing::FakeNetwork net;
  auto a = net.Bind(*Endpoint::Parse("192.0.2.1:1000"));
  auto b = net.Bind(*Endpoint::Parse("192.0.2.2:1000"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_FALSE(net.Bind(*Endpoint::Parse("192.0.2.2:1000")).ok());
  net.SetFilter([](const Endpoint&, const Endpoint&, ByteSpan d) { return AsChars(d) != "drop"; });
  std::string keep = "keep", drop = "drop", lost = "lost";
  std::vector<UdpMessage> batch = {MessageFor(drop, (*b)->local_endpoint()),
                                   MessageFor(keep, (*b)->local_endpoint()),
                                   MessageFor(lost, *Endpoint::Parse("192.0.2.3:1"))};
  ASSERT_TRUE((*a)->SendBatch(batch).ok());
  std::vector<Received> got = ReceiveDatagrams(**b, 1);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload, "keep");
  EXPECT_EQ(net.delivered(), 1u);
  EXPECT_EQ(net.dropped(), 2u);
}

}  // namespace
}  // namespace plexus::io
