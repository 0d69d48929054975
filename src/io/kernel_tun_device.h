// KernelTunDevice: the TunDevice over /dev/net/tun (Linux
// Documentation/networking/tuntap.rst).
//
// Opened IFF_TUN | IFF_NO_PI (packets are bare IP), non-blocking. With
// `vnet_header`, also IFF_VNET_HDR, TUNSETVNETHDRSZ 10 and TUNSETOFFLOAD
// TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 (| TUN_F_USO4 | TUN_F_USO6 where the
// kernel accepts them, Linux >= 6.2), so the kernel hands over unsegmented
// TCP/UDP super-packets with partial checksums and accepts them back. The
// header travels beside the packet through readv/writev, never copied into
// the caller's buffer. With `multi_queue` (IFF_MULTI_QUEUE), OpenQueue() adds
// a queue fd, so each worker thread can own one; the kernel spreads flows
// over queues.
//
// The device lives as long as its last queue fd; its addresses, routes and
// link state are set through io::Netlink.
//
// Threads: as TunDevice.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "io/tun_device.h"
#include "io/unique_fd.h"

namespace plexus::io {

struct TunOptions {
  std::string name = "plx0";  // may be a pattern such as "plx%d"
  bool vnet_header = true;    // try offloads (falls back to plain if refused)
  bool multi_queue = false;
};

// The TUNSETOFFLOAD features in effect.
struct TunOffloads {
  bool csum = false;  // TUN_F_CSUM: partial checksums
  bool tso = false;   // TUN_F_TSO4 | TUN_F_TSO6
  bool uso = false;   // TUN_F_USO4 | TUN_F_USO6
};

class KernelTunDevice final : public TunDevice {
 public:
  // Creates (or attaches to) the interface. Needs CAP_NET_ADMIN.
  static Result<std::unique_ptr<KernelTunDevice>> Open(const TunOptions& options);
  // Another queue of the same multi-queue device, with the same settings.
  Result<std::unique_ptr<KernelTunDevice>> OpenQueue() const;

  Result<size_t> ReadBatch(std::span<TunPacket> packets) override;
  Result<size_t> WriteBatch(std::span<const TunPacket> packets) override;
  WaitOutcome WaitReadable() override;
  void Shutdown() override;
  bool has_vnet_header() const override { return vnet_header_; }
  const std::string& name() const override { return name_; }
  int poll_fd() const override { return fd_.get(); }

  TunOffloads offloads() const { return offloads_; }

 private:
  enum class ReadOutcome { kPacket, kDropped, kEmpty, kBroken };

  KernelTunDevice(UniqueFd fd, std::string name, TunOptions options, bool vnet_header,
                  TunOffloads offloads, Wakeup shutdown);
  ReadOutcome ReadOne(TunPacket& packet, int& error);
  bool WriteOne(const TunPacket& packet, int& error);

  UniqueFd fd_;
  const std::string name_;
  const TunOptions options_;
  const bool vnet_header_;
  const TunOffloads offloads_;
  Wakeup shutdown_;
  std::atomic<bool> shut_down_{false};
};

}  // namespace plexus::io
