// TunDevice: the data plane's batch-shaped view of the TUN device (STYLE.md
// rule 10). Implementations: KernelTunDevice (/dev/net/tun, optional
// virtio-net header offloads) and testing::FakeTun (in memory).
//
// Worker loop (buffers are caller-owned and reused; no allocation per packet):
//
//   std::array<TunPacket, 64> batch;
//   while (true) {
//     for (auto& p : batch) p.buffer = storage_after_headroom(p);  // full capacity
//     Result<size_t> n = tun.ReadBatch(batch);
//     if (!n) break;                                      // broken or shut down
//     if (*n == 0) {
//       if (tun.WaitReadable() == WaitOutcome::kWoken) break;  // Shutdown()
//       continue;
//     }
//     for (p in first *n) {
//       if (tun.has_vnet_header()) split p with io::Segment(p.vnet, p.packet(), ...)
//       ... encrypt, udp.SendBatch(...)
//     }
//   }
//
// Buffers and headroom: the IP packet always starts at buffer.data() and an
// implementation touches only the bytes of `buffer`; a caller wanting room in
// front (the 16-byte WireGuard data header) passes a span that starts after
// it. The virtio-net header is not in the buffer but in TunPacket::vnet.
//
// With has_vnet_header(), a read packet may be a GSO "super-packet" of up to
// 64 KiB (buffers should hold kMaxTunPacket bytes; a longer packet is
// dropped) described by `vnet` (see io/offload.h), and a written packet
// carries `vnet` too: a default VirtioNetHeader (gso_type kGsoNone, no flags)
// for a plain packet, or a coalesced TCP super-packet from io::Coalescer.
// Without it, packets are plain IP packets of at most the MTU and `vnet` is
// ignored on write and zeroed on read.
//
// Threads: ReadBatch/WaitReadable from one thread at a time, WriteBatch from
// one thread at a time (may be another); Shutdown() and accessors from any.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "base/bytes.h"
#include "base/result.h"
#include "io/offload.h"
#include "io/wakeup.h"

namespace plexus::io {

// Largest packet a TUN read can return with offloads (a 64 KiB super-packet).
inline constexpr size_t kMaxTunPacket = 65535;

struct TunPacket {
  MutableByteSpan buffer;  // caller-owned: capacity on read, holds length on write
  size_t length = 0;       // IP packet bytes at buffer.data()
  VirtioNetHeader vnet;    // see above

  MutableByteSpan packet() const { return buffer.first(length); }
};

class TunDevice {
 public:
  virtual ~TunDevice() = default;

  // Reads up to packets.size() packets without blocking; returns how many
  // entries were filled (0 when none is queued). Malformed or too-long
  // packets are dropped, not returned. Error: broken or shut down.
  virtual Result<size_t> ReadBatch(std::span<TunPacket> packets) = 0;
  // Writes every packet; ones the kernel refuses (malformed, device down)
  // are dropped and still counted in the return value. Error: broken or
  // shut down.
  virtual Result<size_t> WriteBatch(std::span<const TunPacket> packets) = 0;
  // Blocks until ReadBatch may return data (kReady) or Shutdown() (kWoken).
  virtual WaitOutcome WaitReadable() = 0;
  // Wakes every waiter now and later; further Read/WriteBatch fail. Any thread.
  virtual void Shutdown() = 0;

  // True if packets carry a virtio-net header (offloads negotiated).
  virtual bool has_vnet_header() const = 0;
  // The interface name ("plx0").
  virtual const std::string& name() const = 0;
  // Readable when ReadBatch may return data; for an EventLoop (not owned).
  virtual int poll_fd() const = 0;
};

}  // namespace plexus::io
