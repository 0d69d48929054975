// FakeNetwork and FakeUdpSocket: an in-memory underlay implementing
// io::UdpSocket, so whole nodes can talk to each other in one process
// (STYLE.md rule 10).
//
//   FakeNetwork net;
//   auto a = net.Bind(*Endpoint::Parse("192.0.2.1:51820"));
//   auto b = net.Bind(*Endpoint::Parse("[2001:db8::2]:0"));   // ephemeral port
//   (*a)->SendBatch(...);  (*b)->RecvBatch(...);
//
// Delivery is immediate and in order; a datagram to an endpoint nobody is
// bound to is dropped (counted). A GSO send (segment_size > 0) reaches a
// receiver with GRO as one segmented message and one without as separate
// datagrams, as the kernel does. An optional filter can drop or observe
// datagrams (loss, blocked paths).
//
// Threads: FakeNetwork and every FakeUdpSocket are safe to use from any
// threads (as io::UdpSocket allows); the network must outlive its sockets.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "io/udp_socket.h"
#include "io/wakeup.h"

namespace plexus::testing {

class FakeUdpSocket;

class FakeNetwork {
 public:
  // Returns false to drop a datagram from `from` to `to`. Runs on the
  // sender's thread, under the network lock: it must not call back into the
  // network.
  using Filter = std::function<bool(const Endpoint& from, const Endpoint& to, ByteSpan datagram)>;

  FakeNetwork() = default;
  FakeNetwork(const FakeNetwork&) = delete;
  FakeNetwork& operator=(const FakeNetwork&) = delete;
  ~FakeNetwork();

  // A socket bound at `local` (port 0: a free port from 49152 up). Fails if
  // the endpoint is taken.
  Result<std::unique_ptr<FakeUdpSocket>> Bind(const Endpoint& local, io::UdpCapabilities caps = {
                                                                         .gso = true, .gro = true});
  void SetFilter(Filter filter);
  uint64_t delivered() const;
  uint64_t dropped() const;

 private:
  friend class FakeUdpSocket;
  void Send(const Endpoint& from, const io::UdpMessage& m);
  void Unbind(const Endpoint& local);

  mutable std::mutex mutex_;
  std::map<Endpoint, FakeUdpSocket*> sockets_;  // guarded by mutex_
  Filter filter_;                               // guarded by mutex_
  uint16_t next_port_ = 49152;                  // guarded by mutex_
  uint64_t delivered_ = 0;                      // guarded by mutex_
  uint64_t dropped_ = 0;                        // guarded by mutex_
};

class FakeUdpSocket final : public io::UdpSocket {
 public:
  ~FakeUdpSocket() override;

  Result<size_t> RecvBatch(std::span<io::UdpMessage> messages) override;
  Result<size_t> SendBatch(std::span<const io::UdpMessage> messages) override;
  io::WaitOutcome WaitReadable() override;
  void Shutdown() override;
  uint16_t local_port() const override { return local_.port(); }
  io::UdpCapabilities capabilities() const override { return caps_; }
  int poll_fd() const override { return ready_.fd(); }

  const Endpoint& local_endpoint() const { return local_; }

 private:
  friend class FakeNetwork;
  struct Datagram {
    Endpoint from;
    Bytes data;
    uint16_t segment_size;
  };

  FakeUdpSocket(FakeNetwork& network, Endpoint local, io::UdpCapabilities caps, io::Wakeup ready,
                io::Wakeup shutdown);
  // Called by the network with its lock held.
  void Enqueue(const Endpoint& from, ByteSpan data, uint16_t segment_size);
  bool is_shut_down() const;

  FakeNetwork& network_;
  const Endpoint local_;
  const io::UdpCapabilities caps_;
  io::Wakeup ready_;  // signalled while queue_ is not empty
  io::Wakeup shutdown_;
  mutable std::mutex mutex_;
  std::deque<Datagram> queue_;  // guarded by mutex_
  bool shut_down_ = false;      // guarded by mutex_
};

}  // namespace plexus::testing
