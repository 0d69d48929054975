#include "io/kernel_tun_device.h"

#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace plexus::io {

namespace {

// Linux 6.2 uapi; Debian 12's headers predate them.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#endif
#ifndef TUN_F_USO6
#define TUN_F_USO6 0x40
#endif

struct Attached {
  UniqueFd fd;
  std::string name;
};

// Opens /dev/net/tun and attaches it to interface `name` with `flags`.
Result<Attached> Attach(const std::string& name, short flags) {
  if (name.size() >= IFNAMSIZ) return MakeError("TUN name '{}' is too long", name);
  UniqueFd fd(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return MakeError("opening /dev/net/tun: {}", std::strerror(errno));
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  ifr.ifr_flags = flags;
  if (::ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return MakeError("creating TUN {}: {}", name, std::strerror(errno));
  }
  return Attached{std::move(fd), std::string(ifr.ifr_name, ::strnlen(ifr.ifr_name, IFNAMSIZ))};
}

// Turns on the virtio-net header and as many offloads as the kernel takes.
std::optional<TunOffloads> NegotiateOffloads(int fd) {
  int size = kVirtioNetHeaderSize;
  if (::ioctl(fd, TUNSETVNETHDRSZ, &size) != 0) return std::nullopt;
  unsigned base = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  if (::ioctl(fd, TUNSETOFFLOAD, base | TUN_F_USO4 | TUN_F_USO6) == 0) {
    return TunOffloads{.csum = true, .tso = true, .uso = true};
  }
  if (::ioctl(fd, TUNSETOFFLOAD, base) == 0) return TunOffloads{.csum = true, .tso = true};
  if (::ioctl(fd, TUNSETOFFLOAD, TUN_F_CSUM) == 0) return TunOffloads{.csum = true};
  return TunOffloads{};
}

// True if `packet` is shorter than the length its IP header claims: the
// kernel truncates a packet that does not fit the read buffer silently.
bool IsTruncated(ByteSpan packet) {
  if (packet.empty()) return true;
  int version = std::to_integer<int>(packet[0]) >> 4;
  if (version == 4 && packet.size() >= 4) return LoadBe16(&packet[2]) > packet.size();
  if (version == 6 && packet.size() >= 6) return size_t{40} + LoadBe16(&packet[4]) > packet.size();
  return false;
}

short TunFlags(const TunOptions& options, bool vnet_header) {
  short flags = IFF_TUN | IFF_NO_PI;
  if (vnet_header) flags |= IFF_VNET_HDR;
  if (options.multi_queue) flags |= IFF_MULTI_QUEUE;
  return flags;
}

}  // namespace

Result<std::unique_ptr<KernelTunDevice>> KernelTunDevice::Open(const TunOptions& options) {
  Result<Wakeup> shutdown = Wakeup::Create();
  if (!shutdown) return shutdown.error();
  Result<Attached> tun = Attach(options.name, TunFlags(options, options.vnet_header));
  if (!tun) return tun.error();
  TunOffloads offloads;
  bool vnet = false;
  if (options.vnet_header) {
    std::optional<TunOffloads> negotiated = NegotiateOffloads(tun->fd.get());
    vnet = negotiated.has_value();
    if (vnet) offloads = *negotiated;
  }
  if (options.vnet_header && !vnet) {
    // Reattaching with other flags needs a fresh fd on a fresh device.
    PLEXUS_LOG_WARNING("TUN {}: no virtio-net header support; offloads off", tun->name);
    tun->fd.Reset();
    tun = Attach(options.name, TunFlags(options, false));
    if (!tun) return tun.error();
  }
  return std::unique_ptr<KernelTunDevice>(new KernelTunDevice(
      std::move(tun->fd), tun->name, options, vnet, offloads, std::move(shutdown).value()));
}

Result<std::unique_ptr<KernelTunDevice>> KernelTunDevice::OpenQueue() const {
  if (!options_.multi_queue) return MakeError("TUN {} is not multi-queue", name_);
  Result<Wakeup> shutdown = Wakeup::Create();
  if (!shutdown) return shutdown.error();
  Result<Attached> tun = Attach(name_, TunFlags(options_, vnet_header_));
  if (!tun) return tun.error().Wrap("adding a queue");
  if (vnet_header_ && !NegotiateOffloads(tun->fd.get())) {
    return MakeError("TUN {}: new queue refused the virtio-net header", name_);
  }
  return std::unique_ptr<KernelTunDevice>(new KernelTunDevice(
      std::move(tun->fd), name_, options_, vnet_header_, offloads_, std::move(shutdown).value()));
}

KernelTunDevice::KernelTunDevice(UniqueFd fd, std::string name, TunOptions options,
                                 bool vnet_header, TunOffloads offloads, Wakeup shutdown)
    : fd_(std::move(fd)),
      name_(std::move(name)),
      options_(std::move(options)),
      vnet_header_(vnet_header),
      offloads_(offloads),
      shutdown_(std::move(shutdown)) {}

WaitOutcome KernelTunDevice::WaitReadable() {
  return WaitForFd(fd_.get(), POLLIN, shutdown_);
}

void KernelTunDevice::Shutdown() {
  shut_down_.store(true, std::memory_order_release);
  shutdown_.Signal();
}

KernelTunDevice::ReadOutcome KernelTunDevice::ReadOne(TunPacket& packet, int& error) {
  std::array<std::byte, kVirtioNetHeaderSize> header{};
  iovec iov[2] = {{header.data(), header.size()}, {packet.buffer.data(), packet.buffer.size()}};
  size_t header_size = vnet_header_ ? header.size() : 0;
  ssize_t n;
  do {
    n = vnet_header_ ? ::readv(fd_.get(), iov, 2)
                     : ::read(fd_.get(), iov[1].iov_base, iov[1].iov_len);
  } while (n < 0 && errno == EINTR);
  if (n < 0) {
    error = errno;
    if (error == EAGAIN) return ReadOutcome::kEmpty;
    // The kernel consumed a packet it could not copy out (buffer too small).
    if (error == EFAULT || error == EINVAL || error == EMSGSIZE) return ReadOutcome::kDropped;
    return ReadOutcome::kBroken;
  }
  size_t got = static_cast<size_t>(n);
  if (got < header_size || got - header_size > packet.buffer.size()) return ReadOutcome::kDropped;
  packet.length = got - header_size;
  // Only a read that filled the buffer can have been cut short.
  if (packet.length == packet.buffer.size() && IsTruncated(packet.packet())) {
    return ReadOutcome::kDropped;
  }
  packet.vnet = vnet_header_ ? VirtioNetHeader::Decode(header).value() : VirtioNetHeader{};
  return ReadOutcome::kPacket;
}

Result<size_t> KernelTunDevice::ReadBatch(std::span<TunPacket> packets) {
  if (shut_down_.load(std::memory_order_acquire)) return MakeError("TUN {} shut down", name_);
  size_t count = 0;
  while (count < packets.size()) {
    int error = 0;
    switch (ReadOne(packets[count], error)) {
      case ReadOutcome::kPacket:
        ++count;
        break;
      case ReadOutcome::kDropped:
        PLEXUS_LOG_DEBUG("TUN {}: dropped an unreadable packet ({})", name_, std::strerror(error));
        break;
      case ReadOutcome::kEmpty:
        return count;
      case ReadOutcome::kBroken:
        if (count > 0) return count;  // report the error on the next call
        return MakeError("reading TUN {}: {}", name_, std::strerror(error));
    }
  }
  return count;
}

bool KernelTunDevice::WriteOne(const TunPacket& packet, int& error) {
  std::array<std::byte, kVirtioNetHeaderSize> header{};
  if (vnet_header_) packet.vnet.Encode(header);
  iovec iov[2] = {{header.data(), header.size()}, {packet.buffer.data(), packet.length}};
  ssize_t n;
  do {
    n = vnet_header_ ? ::writev(fd_.get(), iov, 2)
                     : ::write(fd_.get(), iov[1].iov_base, iov[1].iov_len);
  } while (n < 0 && errno == EINTR);
  error = n < 0 ? errno : 0;
  return n >= 0;
}

Result<size_t> KernelTunDevice::WriteBatch(std::span<const TunPacket> packets) {
  if (shut_down_.load(std::memory_order_acquire)) return MakeError("TUN {} shut down", name_);
  for (const TunPacket& packet : packets) {
    int error = 0;
    if (WriteOne(packet, error)) continue;
    if (error == EBADF || error == EBADFD) {
      return MakeError("writing TUN {}: {}", name_, std::strerror(error));
    }
    // EINVAL (malformed), EIO (device down), ENOMEM, EAGAIN: drop this one.
    PLEXUS_LOG_DEBUG("TUN {}: write dropped: {}", name_, std::strerror(error));
  }
  return packets.size();
}

}  // namespace plexus::io
