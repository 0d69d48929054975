#include "io/wakeup.h"

#include <poll.h>
#include <sys/eventfd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace plexus::io {

Result<Wakeup> Wakeup::Create() {
  int fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return MakeError("eventfd: {}", std::strerror(errno));
  return Wakeup(UniqueFd(fd));
}

void Wakeup::Signal() const {
  uint64_t one = 1;
  // EAGAIN means the counter is saturated, which is still "signalled".
  [[maybe_unused]] ssize_t n = ::write(fd_.get(), &one, sizeof one);
}

void Wakeup::Drain() const {
  uint64_t value = 0;
  [[maybe_unused]] ssize_t n = ::read(fd_.get(), &value, sizeof value);
}

bool Wakeup::IsSignalled() const {
  pollfd p{fd_.get(), POLLIN, 0};
  return ::poll(&p, 1, 0) > 0;
}

WaitOutcome WaitForFd(int fd, short poll_events, const Wakeup& wakeup) {
  pollfd fds[2] = {{wakeup.fd(), POLLIN, 0}, {fd, poll_events, 0}};
  while (true) {
    int n = ::poll(fds, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || fds[0].revents != 0) return WaitOutcome::kWoken;
    if (fds[1].revents != 0) return WaitOutcome::kReady;
  }
}

}  // namespace plexus::io
