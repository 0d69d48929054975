// Test helpers for the node's data plane: whole nodes over the in-memory
// fakes (FakeTun, FakeNetwork) and builders for the inner IP packets they
// carry.
//
//   NodeHarness h;
//   TestNode& a = h.Add({.endpoint = "192.0.2.1:51820", .prefixes = {"10.0.0.1/32"}});
//   TestNode& b = h.Add({.endpoint = "192.0.2.2:51820", .prefixes = {"10.0.0.2/32"}});
//   h.Connect(a, b);  // each a peer of the other, allowed_prefixes = its prefixes
//   h.Start();
//   a.tun->InjectPacket(Ipv4Udp("10.0.0.1", "10.0.0.2", payload));
//   h.PumpUntil([&] { return b.tun->WaitForWritten(1, 0ms); });
//
// THREADING: the test thread is every node's control thread: it creates and
// starts the nodes, drives their EventLoops with RunOnce (PumpUntil), calls
// StatusJson and destroys them. Each Node runs its own two worker threads
// over the fakes, which are safe from any thread.
#pragma once

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "io/event_loop.h"
#include "io/offload.h"
#include "node/config.h"
#include "node/control_sink.h"
#include "node/forwarding_table.h"
#include "node/ip_packet.h"
#include "node/node.h"
#include "testing/fake_random.h"
#include "testing/fake_tun.h"
#include "testing/fake_udp.h"
#include "wireguard/keypair.h"

namespace plexus::node::test {

// ---------------------------------------------------------------------------
// Inner packets.

inline IpAddress Addr(std::string_view text) {
  Result<IpAddress> a = IpAddress::Parse(text);
  EXPECT_TRUE(a) << text;
  return a ? *a : IpAddress();
}

// An IP header (IPv4 with DF and a valid header checksum, or IPv6) for
// `protocol` and `l4_length` transport bytes. Source and destination share a family.
inline Bytes IpHeader(const IpAddress& src, const IpAddress& dst, uint8_t protocol,
                      size_t l4_length, uint16_t id = 1) {
  if (src.is_v6()) {
    Bytes h(40);
    h[0] = std::byte{0x60};
    StoreBe16(&h[4], static_cast<uint16_t>(l4_length));
    h[6] = std::byte{protocol};
    h[7] = std::byte{64};
    std::copy(src.bytes().begin(), src.bytes().end(), h.begin() + 8);
    std::copy(dst.bytes().begin(), dst.bytes().end(), h.begin() + 24);
    return h;
  }
  Bytes h(20);
  h[0] = std::byte{0x45};
  StoreBe16(&h[2], static_cast<uint16_t>(20 + l4_length));
  StoreBe16(&h[4], id);
  h[6] = std::byte{0x40};  // DF
  h[8] = std::byte{64};
  h[9] = std::byte{protocol};
  std::copy(src.bytes().begin(), src.bytes().end(), h.begin() + 12);
  std::copy(dst.bytes().begin(), dst.bytes().end(), h.begin() + 16);
  StoreBe16(&h[10], io::InternetChecksum(h));
  return h;
}

// Fills the transport checksum at `offset` within the transport header.
inline void WriteTransportChecksum(Bytes& p, size_t ip_length, uint8_t protocol, size_t offset,
                                   const IpAddress& src, const IpAddress& dst) {
  StoreBe16(&p[ip_length + offset], 0);
  const uint16_t pseudo = io::PseudoHeaderSum(src.bytes(), dst.bytes(), protocol,
                                              static_cast<uint32_t>(p.size() - ip_length));
  uint16_t sum = io::InternetChecksum(ByteSpan(p).subspan(ip_length), pseudo);
  StoreBe16(&p[ip_length + offset], sum == 0 ? 0xffff : sum);
}

// A valid UDP/IP packet (port `source_port` -> `destination_port`) carrying `payload`.
inline Bytes UdpPacket(std::string_view src, std::string_view dst, ByteSpan payload,
                       uint16_t source_port = 5000, uint16_t destination_port = 6000) {
  const IpAddress s = Addr(src), d = Addr(dst);
  Bytes p = IpHeader(s, d, 17, 8 + payload.size());
  const size_t ip_length = p.size();
  Bytes udp(8);
  StoreBe16(&udp[0], source_port);
  StoreBe16(&udp[2], destination_port);
  StoreBe16(&udp[4], static_cast<uint16_t>(8 + payload.size()));
  p.insert(p.end(), udp.begin(), udp.end());
  p.insert(p.end(), payload.begin(), payload.end());
  WriteTransportChecksum(p, ip_length, 17, 6, s, d);
  return p;
}

// `n` bytes depending on `seed`, so each packet differs (the first four bytes
// are `seed` itself when n >= 4).
inline Bytes Pattern(size_t n, uint32_t seed) {
  Bytes b(n);
  for (size_t i = 0; i < n; ++i) b[i] = std::byte(static_cast<uint8_t>(seed * 31 + i * 7));
  if (n >= 4) StoreBe32(b.data(), seed);
  return b;
}

// A UDP packet whose payload is Pattern(size, seed).
inline Bytes NumberedPacket(std::string_view src, std::string_view dst, uint32_t seed,
                            size_t size = 100) {
  return UdpPacket(src, dst, Pattern(size, seed));
}

// ---------------------------------------------------------------------------
// Packets a router changes or sends.

// The packet after one router: hop limit / TTL one less, IPv4 checksum redone.
inline Bytes AfterOneHop(Bytes p) {
  const bool v6 = (std::to_integer<int>(p[0]) >> 4) == 6;
  const size_t at = v6 ? kIpv6HopLimitOffset : kIpv4TtlOffset;
  p[at] = static_cast<std::byte>(std::to_integer<uint8_t>(p[at]) - 1);
  if (!v6) {
    StoreBe16(&p[kIpv4ChecksumOffset], 0);
    StoreBe16(&p[kIpv4ChecksumOffset], io::InternetChecksum(ByteSpan(p).first(kIpv4HeaderMin)));
  }
  return p;
}

// `p` with hop limit / TTL `hop_limit` (IPv4 checksum redone).
inline Bytes WithHopLimit(Bytes p, uint8_t hop_limit) {
  const bool v6 = (std::to_integer<int>(p[0]) >> 4) == 6;
  p[v6 ? kIpv6HopLimitOffset : kIpv4TtlOffset] = static_cast<std::byte>(hop_limit + 1);
  return AfterOneHop(std::move(p));
}

// An ICMP(v6) message of `type` with 28 bytes of body (no valid checksum).
inline Bytes IcmpPacket(std::string_view src, std::string_view dst, uint8_t type) {
  const IpAddress s = Addr(src), d = Addr(dst);
  Bytes p = IpHeader(s, d, s.is_v6() ? kProtocolIcmpv6 : kProtocolIcmp, 28);
  Bytes icmp = Pattern(28, type);
  icmp[0] = std::byte{type};
  p.insert(p.end(), icmp.begin(), icmp.end());
  return p;
}

// An ICMP(v6) error parsed back, with its checksums checked.
struct IcmpMessage {
  int version = 0;
  IpAddress source, destination;
  uint8_t hop_limit = 0, type = 0, code = 0;
  uint32_t parameter = 0;
  Bytes quote;
  bool checksums_ok = false;
};

inline IcmpMessage ParseIcmp(ByteSpan p) {
  IcmpMessage m;
  std::optional<IpPacketView> ip = ParseIpPacket(p);
  EXPECT_TRUE(ip);
  if (!ip) return m;
  const bool v6 = ip->version == 6;
  EXPECT_EQ(ip->protocol, v6 ? kProtocolIcmpv6 : kProtocolIcmp);
  const size_t n = v6 ? 16 : 4;
  m.version = ip->version;
  m.source = v6 ? IpAddress::FromV6Bytes(ByteSpan(ip->source, n))
                : IpAddress::FromV4Bytes(ByteSpan(ip->source, n));
  m.destination = v6 ? IpAddress::FromV6Bytes(ByteSpan(ip->destination, n))
                     : IpAddress::FromV4Bytes(ByteSpan(ip->destination, n));
  m.hop_limit = HopLimit(p, *ip);
  ByteSpan icmp = p.subspan(ip->header_length, ip->total_length - ip->header_length);
  m.type = std::to_integer<uint8_t>(icmp[0]);
  m.code = std::to_integer<uint8_t>(icmp[1]);
  m.parameter = LoadBe32(icmp.data() + 4);
  m.quote.assign(icmp.begin() + 8, icmp.end());
  const uint16_t pseudo =
      v6 ? io::PseudoHeaderSum(m.source.bytes(), m.destination.bytes(), kProtocolIcmpv6,
                               static_cast<uint32_t>(icmp.size()))
         : 0;
  m.checksums_ok = io::OnesComplementSum(icmp, pseudo) == 0xffff &&
                   (v6 || io::OnesComplementSum(p.first(ip->header_length)) == 0xffff);
  return m;
}

// A TCP/IPv4 (or IPv6) packet with `flags` (ACK|PSH). With `partial`, the TCP
// checksum field holds the pseudo-header sum, as the kernel hands a
// NEEDS_CSUM packet to TUN; otherwise the full checksum.
inline Bytes TcpPacket(std::string_view src, std::string_view dst, ByteSpan payload, uint32_t seq,
                       bool partial, uint8_t flags = 0x18) {
  const IpAddress s = Addr(src), d = Addr(dst);
  Bytes p = IpHeader(s, d, 6, 20 + payload.size());
  const size_t ip_length = p.size();
  Bytes tcp(20);
  StoreBe16(&tcp[0], 40000);
  StoreBe16(&tcp[2], 443);
  StoreBe32(&tcp[4], seq);
  StoreBe32(&tcp[8], 777);
  tcp[12] = std::byte{5 << 4};
  tcp[13] = std::byte{flags};
  StoreBe16(&tcp[14], 65000);
  p.insert(p.end(), tcp.begin(), tcp.end());
  p.insert(p.end(), payload.begin(), payload.end());
  if (partial) {
    StoreBe16(&p[ip_length + 16], io::PseudoHeaderSum(s.bytes(), d.bytes(), 6,
                                                      static_cast<uint32_t>(p.size() - ip_length)));
  } else {
    WriteTransportChecksum(p, ip_length, 6, 16, s, d);
  }
  return p;
}

// The virtio header of a TSO super-packet as the kernel writes it to TUN.
inline io::VirtioNetHeader TsoHeader(bool v4, uint16_t gso_size) {
  io::VirtioNetHeader h;
  const uint16_t ip_length = v4 ? 20 : 40;
  h.flags = io::VirtioNetHeader::kFlagNeedsCsum;
  h.gso_type = v4 ? io::VirtioNetHeader::kGsoTcpV4 : io::VirtioNetHeader::kGsoTcpV6;
  h.hdr_len = ip_length + 20;
  h.gso_size = gso_size;
  h.csum_start = ip_length;
  h.csum_offset = 16;
  return h;
}

// The TCP payload of a TCP/IP packet (no options assumed beyond data offset).
inline ByteSpan TcpPayload(ByteSpan p) {
  const size_t ip_length =
      (std::to_integer<int>(p[0]) >> 4) == 4 ? (std::to_integer<size_t>(p[0]) & 0xf) * 4 : 40;
  const size_t tcp_length = (std::to_integer<size_t>(p[ip_length + 12]) >> 4) * 4;
  return p.subspan(ip_length + tcp_length);
}

// ---------------------------------------------------------------------------
// Forwarding tables.

inline constexpr ForwardingTarget kToLocal{ForwardingTarget::Kind::kLocal, 0};
inline constexpr ForwardingTarget kToUnreachable{ForwardingTarget::Kind::kUnreachable, 0};
inline ForwardingTarget ToPeer(uint32_t peer) {
  return {ForwardingTarget::Kind::kPeer, peer};
}

// A route to `destination` ("fd00::/64"), from any source.
inline ForwardingEntry Route(std::string_view destination, ForwardingTarget target) {
  Result<Prefix> p = Prefix::Parse(destination);
  EXPECT_TRUE(p) << destination;
  return {p ? *p : Prefix(), std::nullopt, target};
}

inline std::shared_ptr<const ForwardingTable> MakeForwardingTable(
    const std::vector<ForwardingEntry>& entries) {
  auto table = std::make_shared<ForwardingTable>();
  for (const ForwardingEntry& e : entries) EXPECT_TRUE(table->Insert(e));
  return table;
}

// ---------------------------------------------------------------------------
// Worker rigs: a ControlSink that records, and a matching pair of keypairs.

// Records the events a worker hands to the control thread. Any thread.
class RecordingSink final : public ControlSink {
 public:
  struct Handshake {
    Bytes datagram;
    Endpoint from;
  };
  struct Transport {
    std::shared_ptr<wireguard::Keypair> keypair;
    Endpoint from;  // received only
    size_t bytes;
  };
  struct LinkLocal {
    uint32_t peer;
    Bytes packet;
  };

  void HandshakeMessage(Bytes datagram, const Endpoint& from) override {
    std::lock_guard lock(mutex_);
    handshakes_.push_back({std::move(datagram), from});
  }
  void PacketQueued(uint32_t peer) override {
    std::lock_guard lock(mutex_);
    queued_.push_back(peer);
  }
  void TransportSent(std::shared_ptr<wireguard::Keypair> keypair, size_t bytes) override {
    std::lock_guard lock(mutex_);
    sent_.push_back({std::move(keypair), Endpoint(), bytes});
  }
  void TransportReceived(std::shared_ptr<wireguard::Keypair> keypair, const Endpoint& from,
                         size_t bytes) override {
    std::lock_guard lock(mutex_);
    received_.push_back({std::move(keypair), from, bytes});
  }

  void LinkLocalPacket(uint32_t peer, Bytes packet) override {
    std::lock_guard lock(mutex_);
    link_local_.push_back({peer, std::move(packet)});
  }

  std::vector<Handshake> handshakes() const {
    std::lock_guard lock(mutex_);
    return handshakes_;
  }
  std::vector<uint32_t> queued() const {
    std::lock_guard lock(mutex_);
    return queued_;
  }
  std::vector<Transport> sent() const {
    std::lock_guard lock(mutex_);
    return sent_;
  }
  std::vector<Transport> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }
  std::vector<LinkLocal> link_local() const {
    std::lock_guard lock(mutex_);
    return link_local_;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<Handshake> handshakes_;
  std::vector<uint32_t> queued_;
  std::vector<Transport> sent_;
  std::vector<Transport> received_;
  std::vector<LinkLocal> link_local_;
};

// Both ends of one session: `local` seals what `remote` opens and vice versa.
struct SessionPair {
  std::shared_ptr<wireguard::Keypair> local;
  std::shared_ptr<wireguard::Keypair> remote;
};

inline SessionPair MakeSession(Timestamp now, const crypto::PublicKey& local_peer,
                               const crypto::PublicKey& remote_peer, uint32_t local_index = 0x1111,
                               uint32_t remote_index = 0x2222) {
  const Bytes k1 = Pattern(32, 1), k2 = Pattern(32, 2);
  auto local = std::make_shared<wireguard::Keypair>(
      wireguard::SessionKeys{crypto::AeadKey(k1), crypto::AeadKey(k2)}, local_index, remote_index,
      true, now, local_peer);
  auto remote = std::make_shared<wireguard::Keypair>(
      wireguard::SessionKeys{crypto::AeadKey(k2), crypto::AeadKey(k1)}, remote_index, local_index,
      false, now, remote_peer);
  return {std::move(local), std::move(remote)};
}

// Polls `socket` until `count` datagrams (segments) arrived or `timeout`.
inline std::vector<io::UdpMessage> ReceiveDatagrams(
    io::UdpSocket& socket, size_t count, std::vector<Bytes>& storage,
    std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  std::vector<io::UdpMessage> out;
  size_t segments = 0;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (segments < count && std::chrono::steady_clock::now() < deadline) {
    storage.emplace_back(io::kMaxUdpPayload);
    io::UdpMessage m;
    m.buffer = storage.back();
    Result<size_t> n = socket.RecvBatch(std::span(&m, 1));
    if (!n || *n == 0) {
      storage.pop_back();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
      continue;
    }
    segments += m.segment_count();
    out.push_back(m);
  }
  return out;
}

// ---------------------------------------------------------------------------
// Nodes.

struct NodeOptions {
  std::string endpoint;               // on the fake network
  std::vector<std::string> prefixes;  // what the node's peers allow it by default
  bool vnet_header = false;           // FakeTun with virtio-net headers
  io::UdpCapabilities udp_caps{.gso = true, .gro = true};
  std::string control_socket;  // "" disables the control server
  int mtu = kDefaultMtu;
};

struct TestNode {
  NodeOptions options;
  Endpoint endpoint;
  crypto::PrivateKey key;
  Config config;
  SystemClock clock;
  testing::FakeRandom random;
  std::unique_ptr<io::EventLoop> loop;
  testing::FakeTun* tun = nullptr;        // owned by node
  testing::FakeUdpSocket* udp = nullptr;  // owned by node
  std::unique_ptr<Node> node;             // destroyed before loop

  explicit TestNode(uint64_t seed) : random(seed) {}
  nlohmann::json StatusJson() const { return node->StatusJson(); }
  // A drop counter by its status name, 0 when absent.
  uint64_t Drops(std::string_view name) const {
    nlohmann::json drops = StatusJson()["drops"];
    auto it = drops.find(std::string(name));
    return it == drops.end() ? 0 : it->get<uint64_t>();
  }
  uint64_t TotalDrops() const {
    uint64_t n = 0;
    const nlohmann::json drops = StatusJson()["drops"];
    for (const auto& [name, count] : drops.items()) n += count.get<uint64_t>();
    return n;
  }
};

class NodeHarness {
 public:
  NodeHarness() = default;
  NodeHarness(const NodeHarness&) = delete;
  NodeHarness& operator=(const NodeHarness&) = delete;
  ~NodeHarness() { StopAll(); }

  testing::FakeNetwork& network() { return network_; }

  TestNode& Add(NodeOptions options) {
    auto n = std::make_unique<TestNode>(1000 + nodes_.size());
    n->options = std::move(options);
    Result<Endpoint> ep = Endpoint::Parse(n->options.endpoint);
    EXPECT_TRUE(ep) << n->options.endpoint;
    if (ep) n->endpoint = *ep;
    n->key = crypto::PrivateKey::Generate(n->random);
    n->config.interface.private_key = n->key.Clone();
    n->config.interface.listen_port = n->endpoint.port();
    n->config.interface.tun = "plx" + std::to_string(nodes_.size());
    n->config.interface.mtu = n->options.mtu;
    n->config.interface.control_socket = n->options.control_socket;
    // The node's own addresses (local delivery, ICMP sources): its prefixes.
    for (const std::string& text : n->options.prefixes) {
      Result<Prefix> prefix = Prefix::Parse(text);
      EXPECT_TRUE(prefix) << text;
      if (prefix) n->config.interface.addresses.push_back(*prefix);
    }
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // Makes `to` a peer of `self` with `to`'s endpoint and `allowed` prefixes
  // (by default the prefixes `to` was created with).
  static void AddPeer(TestNode& self, const TestNode& to,
                      std::optional<std::vector<std::string>> allowed = std::nullopt) {
    PeerConfig p;
    p.public_key = to.key.Public();
    p.endpoint = to.endpoint;
    for (const std::string& text : allowed.value_or(to.options.prefixes)) {
      Result<Prefix> prefix = Prefix::Parse(text);
      EXPECT_TRUE(prefix) << text;
      if (prefix) p.allowed_prefixes.push_back(prefix->Network());
    }
    self.config.peers.push_back(std::move(p));
  }
  static void Connect(TestNode& a, TestNode& b) {
    AddPeer(a, b);
    AddPeer(b, a);
  }

  // Creates and starts every node; false (with a test failure) on error.
  bool Start() {
    for (auto& n : nodes_) {
      if (!StartNode(*n)) return false;
    }
    return true;
  }

  // Runs every node's control loop until `done` or `timeout`.
  bool PumpUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      Pump();
      if (done()) return true;
    }
    return done();
  }
  // Runs the control loops for `d` whatever happens.
  void PumpFor(std::chrono::milliseconds d) {
    PumpUntil([] { return false; }, d);
  }
  void Pump() {
    for (auto& n : nodes_) {
      if (n->loop) (void)n->loop->RunOnce(std::chrono::milliseconds(1));
    }
  }

  // Starts `n` again (after its node was stopped and destroyed), with its
  // config as it is now, on a new event loop and new fakes.
  bool Restart(TestNode& n) {
    n.node.reset();
    n.loop.reset();
    return StartNode(n);
  }

  void StopAll() {
    for (auto& n : nodes_) {
      if (n->node) n->node->Stop();
    }
    for (auto& n : nodes_) n->node.reset();
  }

 private:
  bool StartNode(TestNode& n) {
    auto loop = io::EventLoop::Create(n.clock);
    auto tun = testing::FakeTun::Create(n.config.interface.tun, n.options.vnet_header);
    auto udp = network_.Bind(n.endpoint, n.options.udp_caps);
    if (!loop || !tun || !udp) {
      ADD_FAILURE() << "cannot create the io of " << n.options.endpoint;
      return false;
    }
    n.loop = std::move(*loop);
    n.tun = tun->get();
    n.udp = udp->get();
    auto node = Node::Create(
        n.config,
        NodeIo{n.clock, n.random, *n.loop, std::move(*tun), std::move(*udp), nullptr, {}, false});
    if (!node) {
      ADD_FAILURE() << node.error().message();
      return false;
    }
    n.node = std::move(*node);
    Status started = n.node->Start();
    if (!started) {
      ADD_FAILURE() << started.error().message();
      return false;
    }
    return true;
  }

  testing::FakeNetwork network_;  // outlives every node's socket
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

}  // namespace plexus::node::test
