// KernelUdpSocket: the UdpSocket over a real Linux UDP socket.
//
// One socket serves IPv4 and IPv6: AF_INET6 with IPV6_V6ONLY=0 bound to
// [::]:port (IPv4 peers appear as plain IPv4 endpoints; they are mapped to
// ::ffff:a.b.c.d on send), falling back to AF_INET 0.0.0.0:port when the
// host has no IPv6. Non-blocking; recvmmsg/sendmmsg; UDP_GRO on receive and
// UDP_SEGMENT (GSO) on send when the kernel supports them. Large socket
// buffers (SO_RCVBUFFORCE when permitted).
//
// Threads: as UdpSocket. Capabilities may drop GSO at run time (if a send
// fails with EIO, as on devices without checksum offload), never gain it.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <atomic>
#include <memory>

#include "io/udp_socket.h"
#include "io/unique_fd.h"
#include "io/wakeup.h"

namespace plexus::io {

struct UdpSocketOptions {
  uint16_t port = 0;       // 0: an ephemeral port (see local_port())
  bool enable_gro = true;  // only useful with receive buffers >= kMaxUdpPayload
  bool enable_gso = true;
  bool reuse_port = false;     // SO_REUSEPORT, for one socket per worker
  bool ipv4_only = false;      // skip the dual-stack attempt
  int buffer_bytes = 7 << 20;  // SO_RCVBUF and SO_SNDBUF
};

class KernelUdpSocket final : public UdpSocket {
 public:
  static Result<std::unique_ptr<KernelUdpSocket>> Bind(const UdpSocketOptions& options);
  ~KernelUdpSocket() override;

  Result<size_t> RecvBatch(std::span<UdpMessage> messages) override;
  Result<size_t> SendBatch(std::span<const UdpMessage> messages) override;
  WaitOutcome WaitReadable() override;
  void Shutdown() override;
  uint16_t local_port() const override { return port_; }
  UdpCapabilities capabilities() const override;
  int poll_fd() const override { return fd_.get(); }

  // True for an AF_INET6 dual-stack socket, false for the AF_INET fallback.
  bool dual_stack() const { return family_ == AF_INET6; }

 private:
  // Entries per recvmmsg/sendmmsg call.
  static constexpr size_t kMaxEntries = 64;
  struct Scratch {
    std::array<mmsghdr, kMaxEntries> headers;
    std::array<iovec, kMaxEntries> iovecs;
    std::array<sockaddr_storage, kMaxEntries> addresses;
    std::array<std::array<std::byte, 32>, kMaxEntries> controls;
    std::array<size_t, kMaxEntries> message_index;  // send: entry -> message
  };
  enum class ChunkOutcome { kDone, kGsoFailed, kBroken };

  KernelUdpSocket(UniqueFd fd, int family, uint16_t port, Wakeup shutdown, UdpCapabilities caps);
  size_t FillSendEntries(std::span<const UdpMessage> messages, size_t& next_message);
  bool AddSendEntry(const UdpMessage& m, ByteSpan payload, uint16_t gso_size, size_t message,
                    size_t& entry);
  ChunkOutcome SendEntries(size_t count, size_t& failed_entry, int& error);
  void FillRecvEntry(size_t i, UdpMessage& m);
  void ReadRecvEntry(size_t i, UdpMessage& m);

  UniqueFd fd_;
  const int family_;
  const uint16_t port_;
  Wakeup shutdown_;
  std::atomic<bool> shut_down_{false};
  const bool gro_;
  std::atomic<bool> gso_;
  std::unique_ptr<Scratch> recv_scratch_;
  std::unique_ptr<Scratch> send_scratch_;
};

}  // namespace plexus::io
