#include "io/kernel_udp_socket.h"

#include <netinet/udp.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include "base/log.h"

namespace plexus::io {

namespace {

int SocketFamily(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return AF_UNSPEC;
  return ss.ss_family;
}

uint16_t BoundPort(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return 0;
  std::optional<Endpoint> ep = Endpoint::FromSockaddr(reinterpret_cast<sockaddr*>(&ss), len);
  return ep ? ep->port() : 0;
}

// Opens and binds a socket of `family` (AF_INET6 is made dual-stack).
Result<UniqueFd> OpenBound(int family, const UdpSocketOptions& options) {
  UniqueFd fd(::socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_UDP));
  if (!fd.valid()) return MakeError("socket: {}", std::strerror(errno));
  int one = 1, zero = 0;
  if (family == AF_INET6 &&
      ::setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0) {
    return MakeError("IPV6_V6ONLY=0: {}", std::strerror(errno));
  }
  if (options.reuse_port &&
      ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0) {
    return MakeError("SO_REUSEPORT: {}", std::strerror(errno));
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (family == AF_INET6) {
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_addr = in6addr_any;
    in6->sin6_port = htons(options.port);
    len = sizeof *in6;
  } else {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_addr.s_addr = htonl(INADDR_ANY);
    in->sin_port = htons(options.port);
    len = sizeof *in;
  }
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return MakeError("binding UDP port {}: {}", options.port, std::strerror(errno));
  }
  return fd;
}

void SetBuffers(int fd, int bytes) {
  // The *FORCE variants ignore net.core.{r,w}mem_max but need CAP_NET_ADMIN.
  if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof bytes);
  }
  if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &bytes, sizeof bytes) != 0) {
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &bytes, sizeof bytes);
  }
}

UdpCapabilities DetectOffloads(int fd, const UdpSocketOptions& options) {
  UdpCapabilities caps;
  int one = 1, zero = 0;
  // Setting UDP_SEGMENT to 0 changes nothing but fails on kernels without GSO.
  caps.gso = options.enable_gso && ::setsockopt(fd, SOL_UDP, UDP_SEGMENT, &zero, sizeof zero) == 0;
  caps.gro = options.enable_gro && ::setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof one) == 0;
  return caps;
}

// Fills `out` for `ep` as the socket family needs; 0 if it cannot reach `ep`.
socklen_t ToSocketAddress(const Endpoint& ep, int family, sockaddr_storage& out) {
  socklen_t len = ep.ToSockaddr(out);
  if (family == AF_INET) return ep.address().is_v4() ? len : 0;
  if (!ep.address().is_v4()) return len;
  sockaddr_in v4;
  std::memcpy(&v4, &out, sizeof v4);
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&out);
  std::memset(in6, 0, sizeof *in6);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = v4.sin_port;
  in6->sin6_addr.s6_addr[10] = 0xff;
  in6->sin6_addr.s6_addr[11] = 0xff;
  std::memcpy(&in6->sin6_addr.s6_addr[12], &v4.sin_addr, 4);
  return sizeof *in6;
}

// Errors that concern one destination or one message, not the socket.
bool IsPerMessageError(int err) {
  switch (err) {
    case EMSGSIZE:
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case EINVAL:
    case EPERM:
    case EACCES:
    case ECONNREFUSED:
    case ENOBUFS:
      return true;
    default:
      return false;
  }
}

}  // namespace

Result<std::unique_ptr<KernelUdpSocket>> KernelUdpSocket::Bind(const UdpSocketOptions& options) {
  Result<UniqueFd> fd =
      options.ipv4_only ? Error("IPv6 not requested") : OpenBound(AF_INET6, options);
  if (!fd) {
    if (!options.ipv4_only)
      PLEXUS_LOG_INFO("UDP: no IPv6 socket ({}), using IPv4 only", fd.error().message());
    fd = OpenBound(AF_INET, options);
    if (!fd) return fd.error();
  }
  Result<Wakeup> shutdown = Wakeup::Create();
  if (!shutdown) return shutdown.error();
  SetBuffers(fd->get(), options.buffer_bytes);
  UdpCapabilities caps = DetectOffloads(fd->get(), options);
  int family = SocketFamily(fd->get());
  uint16_t port = BoundPort(fd->get());
  return std::unique_ptr<KernelUdpSocket>(
      new KernelUdpSocket(std::move(fd).value(), family, port, std::move(shutdown).value(), caps));
}

KernelUdpSocket::KernelUdpSocket(UniqueFd fd, int family, uint16_t port, Wakeup shutdown,
                                 UdpCapabilities caps)
    : fd_(std::move(fd)),
      family_(family),
      port_(port),
      shutdown_(std::move(shutdown)),
      gro_(caps.gro),
      gso_(caps.gso),
      recv_scratch_(std::make_unique<Scratch>()),
      send_scratch_(std::make_unique<Scratch>()) {}

KernelUdpSocket::~KernelUdpSocket() = default;

UdpCapabilities KernelUdpSocket::capabilities() const {
  return {.gso = gso_.load(std::memory_order_relaxed), .gro = gro_};
}

void KernelUdpSocket::Shutdown() {
  shut_down_.store(true, std::memory_order_release);
  shutdown_.Signal();
}

WaitOutcome KernelUdpSocket::WaitReadable() {
  return WaitForFd(fd_.get(), POLLIN, shutdown_);
}

// ---- Receive ----

void KernelUdpSocket::FillRecvEntry(size_t i, UdpMessage& m) {
  Scratch& s = *recv_scratch_;
  s.iovecs[i] = {m.buffer.data(), m.buffer.size()};
  msghdr& h = s.headers[i].msg_hdr;
  h = {};
  h.msg_name = &s.addresses[i];
  h.msg_namelen = sizeof s.addresses[i];
  h.msg_iov = &s.iovecs[i];
  h.msg_iovlen = 1;
  h.msg_control = s.controls[i].data();
  h.msg_controllen = s.controls[i].size();
}

void KernelUdpSocket::ReadRecvEntry(size_t i, UdpMessage& m) {
  Scratch& s = *recv_scratch_;
  const msghdr& h = s.headers[i].msg_hdr;
  m.length = s.headers[i].msg_len;
  m.segment_size = 0;
  std::optional<Endpoint> from =
      Endpoint::FromSockaddr(reinterpret_cast<const sockaddr*>(&s.addresses[i]), h.msg_namelen);
  m.endpoint = from.value_or(Endpoint());
  if ((h.msg_flags & MSG_TRUNC) || !from) {
    m.length = 0;  // longer than its buffer (or unknown source): dropped
    return;
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO) {
      int size = 0;
      std::memcpy(&size, CMSG_DATA(c), sizeof size);
      if (size > 0 && static_cast<size_t>(size) < m.length)
        m.segment_size = static_cast<uint16_t>(size);
    }
  }
}

Result<size_t> KernelUdpSocket::RecvBatch(std::span<UdpMessage> messages) {
  if (shut_down_.load(std::memory_order_acquire)) return Error("UDP socket shut down");
  size_t count = std::min(messages.size(), kMaxEntries);
  for (size_t i = 0; i < count; ++i) FillRecvEntry(i, messages[i]);
  int n = ::recvmmsg(fd_.get(), recv_scratch_->headers.data(), count, MSG_DONTWAIT, nullptr);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return size_t{0};
    return MakeError("recvmmsg: {}", std::strerror(errno));
  }
  for (int i = 0; i < n; ++i) ReadRecvEntry(i, messages[i]);
  return static_cast<size_t>(n);
}

// ---- Send ----

bool KernelUdpSocket::AddSendEntry(const UdpMessage& m, ByteSpan payload, uint16_t gso_size,
                                   size_t message, size_t& entry) {
  Scratch& s = *send_scratch_;
  msghdr& h = s.headers[entry].msg_hdr;
  h = {};
  h.msg_namelen = ToSocketAddress(m.endpoint, family_, s.addresses[entry]);
  if (h.msg_namelen == 0) return false;  // IPv6 peer on an IPv4-only socket
  h.msg_name = &s.addresses[entry];
  s.iovecs[entry] = {const_cast<std::byte*>(payload.data()), payload.size()};
  h.msg_iov = &s.iovecs[entry];
  h.msg_iovlen = 1;
  if (gso_size > 0) {
    h.msg_control = s.controls[entry].data();
    h.msg_controllen = CMSG_SPACE(sizeof(uint16_t));
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(uint16_t));
    std::memcpy(CMSG_DATA(c), &gso_size, sizeof gso_size);
  }
  s.message_index[entry++] = message;
  return true;
}

// Fills entries from messages[next_message...], whole messages only, and
// returns the entry count; advances next_message past the messages used.
size_t KernelUdpSocket::FillSendEntries(std::span<const UdpMessage> messages,
                                        size_t& next_message) {
  bool gso = gso_.load(std::memory_order_relaxed);
  size_t entry = 0;
  for (; next_message < messages.size(); ++next_message) {
    const UdpMessage& m = messages[next_message];
    size_t segments = m.segment_count();
    bool one_entry = segments <= 1 || (gso && segments <= kMaxSegments);
    size_t needed = one_entry ? 1 : segments;
    if (entry + needed > kMaxEntries && entry > 0) break;
    if (one_entry) {
      uint16_t gso_size = segments > 1 ? m.segment_size : 0;
      AddSendEntry(m, m.buffer.first(m.length), gso_size, next_message, entry);
      continue;
    }
    for (size_t i = 0; i < segments && entry < kMaxEntries; ++i) {
      AddSendEntry(m, m.Segment(i), 0, next_message, entry);
    }
  }
  return entry;
}

// Sends entries [0, count). On kGsoFailed, `failed_entry` is the entry whose
// GSO send failed; entries before it were handled. On kBroken, `error` is the
// errno (0 when shut down).
KernelUdpSocket::ChunkOutcome KernelUdpSocket::SendEntries(size_t count, size_t& failed_entry,
                                                           int& error) {
  Scratch& s = *send_scratch_;
  size_t done = 0;
  while (done < count) {
    if (shut_down_.load(std::memory_order_acquire)) return ChunkOutcome::kBroken;
    int n = ::sendmmsg(fd_.get(), &s.headers[done], count - done, MSG_DONTWAIT);
    if (n > 0) {
      done += n;
      continue;
    }
    int err = n == 0 ? EAGAIN : errno;
    if (err == EINTR) continue;
    if (err == EAGAIN) {
      if (WaitForFd(fd_.get(), POLLOUT, shutdown_) == WaitOutcome::kWoken)
        return ChunkOutcome::kBroken;
      continue;
    }
    if (err == EIO && s.headers[done].msg_hdr.msg_controllen != 0) {
      failed_entry = done;
      return ChunkOutcome::kGsoFailed;
    }
    if (!IsPerMessageError(err)) {
      error = err;
      return ChunkOutcome::kBroken;
    }
    PLEXUS_LOG_DEBUG("UDP send dropped: {}", std::strerror(err));
    ++done;  // skip the message the kernel refused
  }
  return ChunkOutcome::kDone;
}

Result<size_t> KernelUdpSocket::SendBatch(std::span<const UdpMessage> messages) {
  size_t next_message = 0;
  while (next_message < messages.size()) {
    size_t first_message = next_message;
    size_t count = FillSendEntries(messages, next_message);
    size_t failed_entry = 0;
    int error = 0;
    switch (SendEntries(count, failed_entry, error)) {
      case ChunkOutcome::kDone:
        break;
      case ChunkOutcome::kGsoFailed:
        PLEXUS_LOG_WARNING("UDP GSO send failed with EIO; disabling UDP GSO");
        gso_.store(false, std::memory_order_relaxed);
        next_message = send_scratch_->message_index[failed_entry];
        break;
      case ChunkOutcome::kBroken:
        if (error == 0) return Error("UDP socket shut down");
        return MakeError("sendmmsg: {} (after {} of {} messages)", std::strerror(error),
                         first_message, messages.size());
    }
  }
  return messages.size();
}

}  // namespace plexus::io
