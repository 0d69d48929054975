// FakeTun: an in-memory io::TunDevice (STYLE.md rule 10). A test plays the
// kernel: it injects packets the device will read, and takes the packets the
// device wrote.
//
//   auto tun = FakeTun::Create("plx0");
//   (*tun)->InjectPacket(ip_packet);        // next ReadBatch returns it
//   node runs ...
//   (*tun)->WaitForWritten(1, 1s);  auto out = (*tun)->TakeWritten();
//
// With vnet_header, packets carry an io::VirtioNetHeader both ways, passed
// through unchanged (the fake does no segmentation). Injected packets longer
// than a read buffer are dropped, as the kernel does.
//
// Threads: every method is safe from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/result.h"
#include "base/time.h"
#include "io/tun_device.h"
#include "io/wakeup.h"

namespace plexus::testing {

class FakeTun final : public io::TunDevice {
 public:
  struct Packet {
    Bytes data;
    io::VirtioNetHeader vnet;
  };

  static Result<std::unique_ptr<FakeTun>> Create(std::string name = "plx0",
                                                 bool vnet_header = false);

  // The kernel side.
  void InjectPacket(ByteSpan packet, io::VirtioNetHeader vnet = {});
  // Every packet written so far (oldest first), removing them.
  std::vector<Packet> TakeWritten();
  // Waits until at least `count` written packets are waiting in TakeWritten().
  bool WaitForWritten(size_t count, Duration timeout);

  // io::TunDevice
  Result<size_t> ReadBatch(std::span<io::TunPacket> packets) override;
  Result<size_t> WriteBatch(std::span<const io::TunPacket> packets) override;
  io::WaitOutcome WaitReadable() override;
  void Shutdown() override;
  bool has_vnet_header() const override { return vnet_header_; }
  const std::string& name() const override { return name_; }
  int poll_fd() const override { return ready_.fd(); }

 private:
  FakeTun(std::string name, bool vnet_header, io::Wakeup ready, io::Wakeup shutdown);

  const std::string name_;
  const bool vnet_header_;
  io::Wakeup ready_;  // signalled while inbound_ is not empty
  io::Wakeup shutdown_;
  mutable std::mutex mutex_;
  std::condition_variable written_changed_;
  std::deque<Packet> inbound_;   // guarded by mutex_
  std::vector<Packet> written_;  // guarded by mutex_
  bool shut_down_ = false;       // guarded by mutex_
};

}  // namespace plexus::testing
