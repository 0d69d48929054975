// UdpSocket: the data plane's batch-shaped view of the underlay UDP socket
// (STYLE.md rule 10). Implementations: KernelUdpSocket (recvmmsg/sendmmsg,
// UDP GSO/GRO) and testing::FakeUdpSocket (in memory).
//
// Worker loop (buffers are caller-owned and reused; no allocation per packet):
//
//   std::array<UdpMessage, 64> batch;         // each .buffer set once
//   while (true) {
//     for (auto& m : batch) m.buffer = storage_for(m);   // full capacity
//     Result<size_t> n = udp.RecvBatch(batch);
//     if (!n) break;                           // socket broken or shut down
//     if (*n == 0) {                           // nothing queued
//       if (udp.WaitReadable() == WaitOutcome::kWoken) break;  // Shutdown()
//       continue;
//     }
//     for (m in first *n) for (i < m.segment_count()) handle(m.Segment(i), m.endpoint);
//   }
//
// Buffers and headroom: an implementation reads and writes only the bytes of
// `buffer`, and the payload always starts at buffer.data(). A caller that
// wants headroom (e.g. 16 bytes for the WireGuard transport header in front of
// a plaintext) passes a span that starts after its headroom.
//
// Segments (GSO/GRO): when segment_size > 0, the payload is consecutive
// datagrams of segment_size bytes each, the last possibly shorter, all with
// the same endpoint. On receive this is UDP GRO; on send it is UDP GSO (one
// sendmmsg entry for up to kMaxSegments datagrams). A socket without kernel
// support still accepts segmented sends (it sends the segments one by one)
// and simply never returns segmented receives.
//
// Threads: RecvBatch/WaitReadable from one thread at a time; SendBatch from
// one thread at a time (may differ from the receiving thread); Shutdown()
// and the const accessors from any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/result.h"
#include "io/wakeup.h"

namespace plexus::io {

// Largest UDP payload a receive buffer may need: 64 KiB minus IP/UDP headers
// for a GRO-coalesced receive (pass at least this to get full GRO batches).
inline constexpr size_t kMaxUdpPayload = 65535 - 8 - 40;
// The kernel's limit on segments in one GSO send (UDP_MAX_SEGMENTS).
inline constexpr size_t kMaxSegments = 64;

struct UdpMessage {
  // Caller-owned storage. Receive: capacity; send: holds at least `length`.
  MutableByteSpan buffer;
  // Payload bytes at buffer.data(); set by RecvBatch, read by SendBatch.
  size_t length = 0;
  // Source on receive, destination on send. IPv4 peers are plain IPv4
  // endpoints, never IPv4-mapped IPv6.
  Endpoint endpoint;
  // 0: the payload is one datagram. Otherwise see "Segments" above.
  uint16_t segment_size = 0;

  size_t segment_count() const {
    if (segment_size == 0 || length == 0) return length == 0 ? 0 : 1;
    return (length + segment_size - 1) / segment_size;
  }
  // The i-th datagram of the payload (i < segment_count()).
  MutableByteSpan Segment(size_t i) const {
    if (segment_size == 0) return buffer.first(length);
    size_t begin = i * segment_size;
    return buffer.subspan(begin, std::min<size_t>(segment_size, length - begin));
  }
};

// What the kernel gave us; fixed after Bind().
struct UdpCapabilities {
  bool gso = false;  // UDP_SEGMENT sends
  bool gro = false;  // UDP_GRO receives
};

class UdpSocket {
 public:
  virtual ~UdpSocket() = default;

  // Receives up to messages.size() datagrams (or GRO batches) without
  // blocking; returns how many entries were filled (0 when none is queued).
  // A datagram longer than its buffer is dropped, not truncated: its entry
  // comes back with length 0 (segment_count() 0), so a loop over segments
  // skips it. Error: the socket is broken or was shut down.
  virtual Result<size_t> RecvBatch(std::span<UdpMessage> messages) = 0;

  // Sends every message, blocking while the socket buffer is full. Messages
  // the kernel refuses (unreachable destination, too large) are dropped and
  // counted in the return value, which is how many messages were handled.
  // Error: the socket is broken or was shut down (remaining ones unsent).
  // Each message must have segment_count() <= kMaxSegments.
  virtual Result<size_t> SendBatch(std::span<const UdpMessage> messages) = 0;

  // Blocks until RecvBatch may return data (kReady) or Shutdown() (kWoken).
  virtual WaitOutcome WaitReadable() = 0;
  // Wakes every waiter now and later; further Recv/SendBatch fail. Any thread.
  virtual void Shutdown() = 0;

  // The bound local port.
  virtual uint16_t local_port() const = 0;
  virtual UdpCapabilities capabilities() const = 0;
  // Readable when RecvBatch may return data; for an EventLoop (not owned).
  virtual int poll_fd() const = 0;
};

}  // namespace plexus::io
