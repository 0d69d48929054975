#include "testing/fake_udp.h"

#include <poll.h>

#include <cstring>

namespace plexus::testing {

// ---- FakeNetwork ----

FakeNetwork::~FakeNetwork() = default;

Result<std::unique_ptr<FakeUdpSocket>> FakeNetwork::Bind(const Endpoint& local,
                                                         io::UdpCapabilities caps) {
  Result<io::Wakeup> ready = io::Wakeup::Create();
  Result<io::Wakeup> shutdown = io::Wakeup::Create();
  if (!ready || !shutdown) return Error("fake UDP: eventfd failed");
  std::lock_guard lock(mutex_);
  Endpoint bound = local;
  while (!bound.IsSet() || sockets_.contains(bound)) {
    if (local.IsSet()) return MakeError("fake UDP: {} is already bound", local.ToString());
    bound = Endpoint(local.address(), next_port_++);
  }
  auto socket = std::unique_ptr<FakeUdpSocket>(
      new FakeUdpSocket(*this, bound, caps, std::move(ready).value(), std::move(shutdown).value()));
  sockets_[bound] = socket.get();
  return socket;
}

void FakeNetwork::SetFilter(Filter filter) {
  std::lock_guard lock(mutex_);
  filter_ = std::move(filter);
}

uint64_t FakeNetwork::delivered() const {
  std::lock_guard lock(mutex_);
  return delivered_;
}

uint64_t FakeNetwork::dropped() const {
  std::lock_guard lock(mutex_);
  return dropped_;
}

void FakeNetwork::Send(const Endpoint& from, const io::UdpMessage& m) {
  std::lock_guard lock(mutex_);
  auto it = sockets_.find(m.endpoint);
  size_t segments = m.segment_count();
  FakeUdpSocket* to = it == sockets_.end() ? nullptr : it->second;
  bool coalesce = to != nullptr && to->caps_.gro && segments > 1;
  for (size_t i = 0; i < segments; ++i) {
    ByteSpan datagram = m.Segment(i);
    if (to == nullptr || (filter_ && !filter_(from, m.endpoint, datagram))) {
      ++dropped_;
      coalesce = false;  // a lost segment breaks the GRO batch
      continue;
    }
    ++delivered_;
    if (!coalesce) to->Enqueue(from, datagram, 0);
  }
  if (coalesce) to->Enqueue(from, m.buffer.first(m.length), m.segment_size);
}

void FakeNetwork::Unbind(const Endpoint& local) {
  std::lock_guard lock(mutex_);
  sockets_.erase(local);
}

// ---- FakeUdpSocket ----

FakeUdpSocket::FakeUdpSocket(FakeNetwork& network, Endpoint local, io::UdpCapabilities caps,
                             io::Wakeup ready, io::Wakeup shutdown)
    : network_(network),
      local_(local),
      caps_(caps),
      ready_(std::move(ready)),
      shutdown_(std::move(shutdown)) {}

FakeUdpSocket::~FakeUdpSocket() {
  network_.Unbind(local_);
}

void FakeUdpSocket::Enqueue(const Endpoint& from, ByteSpan data, uint16_t segment_size) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  queue_.push_back({from, Bytes(data.begin(), data.end()), segment_size});
  ready_.Signal();
}

bool FakeUdpSocket::is_shut_down() const {
  std::lock_guard lock(mutex_);
  return shut_down_;
}

Result<size_t> FakeUdpSocket::RecvBatch(std::span<io::UdpMessage> messages) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return Error("UDP socket shut down");
  size_t n = 0;
  for (; n < messages.size() && !queue_.empty(); ++n) {
    Datagram& d = queue_.front();
    io::UdpMessage& m = messages[n];
    m.endpoint = d.from;
    m.segment_size = d.segment_size;
    m.length = d.data.size() <= m.buffer.size() ? d.data.size() : 0;  // too long: dropped
    std::memcpy(m.buffer.data(), d.data.data(), m.length);
    queue_.pop_front();
  }
  if (queue_.empty()) ready_.Drain();
  return n;
}

Result<size_t> FakeUdpSocket::SendBatch(std::span<const io::UdpMessage> messages) {
  if (is_shut_down()) return Error("UDP socket shut down");
  for (const io::UdpMessage& m : messages) network_.Send(local_, m);
  return messages.size();
}

io::WaitOutcome FakeUdpSocket::WaitReadable() {
  return io::WaitForFd(ready_.fd(), POLLIN, shutdown_);
}

void FakeUdpSocket::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
  }
  shutdown_.Signal();
}

}  // namespace plexus::testing
