#include "testing/fake_tun.h"

#include <poll.h>

#include <cstring>

namespace plexus::testing {

Result<std::unique_ptr<FakeTun>> FakeTun::Create(std::string name, bool vnet_header) {
  Result<io::Wakeup> ready = io::Wakeup::Create();
  Result<io::Wakeup> shutdown = io::Wakeup::Create();
  if (!ready || !shutdown) return Error("fake TUN: eventfd failed");
  return std::unique_ptr<FakeTun>(new FakeTun(
      std::move(name), vnet_header, std::move(ready).value(), std::move(shutdown).value()));
}

FakeTun::FakeTun(std::string name, bool vnet_header, io::Wakeup ready, io::Wakeup shutdown)
    : name_(std::move(name)),
      vnet_header_(vnet_header),
      ready_(std::move(ready)),
      shutdown_(std::move(shutdown)) {}

void FakeTun::InjectPacket(ByteSpan packet, io::VirtioNetHeader vnet) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  inbound_.push_back(
      {Bytes(packet.begin(), packet.end()), vnet_header_ ? vnet : io::VirtioNetHeader{}});
  ready_.Signal();
}

std::vector<FakeTun::Packet> FakeTun::TakeWritten() {
  std::lock_guard lock(mutex_);
  return std::exchange(written_, {});
}

bool FakeTun::WaitForWritten(size_t count, Duration timeout) {
  std::unique_lock lock(mutex_);
  return written_changed_.wait_for(lock, timeout, [&] { return written_.size() >= count; });
}

Result<size_t> FakeTun::ReadBatch(std::span<io::TunPacket> packets) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return MakeError("TUN {} shut down", name_);
  size_t count = 0;
  while (count < packets.size() && !inbound_.empty()) {
    Packet& in = inbound_.front();
    io::TunPacket& out = packets[count];
    if (in.data.size() <= out.buffer.size()) {  // else dropped, as the kernel does
      std::memcpy(out.buffer.data(), in.data.data(), in.data.size());
      out.length = in.data.size();
      out.vnet = in.vnet;
      ++count;
    }
    inbound_.pop_front();
  }
  if (inbound_.empty()) ready_.Drain();
  return count;
}

Result<size_t> FakeTun::WriteBatch(std::span<const io::TunPacket> packets) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return MakeError("TUN {} shut down", name_);
  for (const io::TunPacket& p : packets) {
    ByteSpan data = p.packet();
    written_.push_back(
        {Bytes(data.begin(), data.end()), vnet_header_ ? p.vnet : io::VirtioNetHeader{}});
  }
  written_changed_.notify_all();
  return packets.size();
}

io::WaitOutcome FakeTun::WaitReadable() {
  return io::WaitForFd(ready_.fd(), POLLIN, shutdown_);
}

void FakeTun::Shutdown() {
  {
    std::lock_guard lock(mutex_);
    shut_down_ = true;
  }
  shutdown_.Signal();
}

}  // namespace plexus::testing
