// Test helper (header-only, used by *_test.cc only): moves the calling thread
// into a fresh network namespace for the lifetime of a ScopedNetns, with
// loopback up. The namespace disappears when the thread leaves it and the
// last socket/device in it closes. Needs CAP_SYS_ADMIN.
#pragma once

#include <fcntl.h>
#include <sched.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include "io/netlink.h"
#include "io/unique_fd.h"

namespace plexus::io {

class ScopedNetns {
 public:
  // nullptr and a reason when namespaces are not available (not root).
  static std::unique_ptr<ScopedNetns> Enter(std::string& why_not) {
    UniqueFd original(::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC));
    if (!original.valid()) {
      why_not = std::string("cannot open own netns: ") + std::strerror(errno);
      return nullptr;
    }
    if (::unshare(CLONE_NEWNET) != 0) {
      why_not = std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);
      return nullptr;
    }
    auto scoped = std::unique_ptr<ScopedNetns>(new ScopedNetns(std::move(original)));
    Result<Netlink> nl = Netlink::Open();
    Result<Link> lo = nl ? nl->FindLink("lo") : Result<Link>(nl.error());
    if (!lo || !nl->SetLinkUp(*lo, true)) {
      why_not = "cannot bring loopback up in the new netns";
      return nullptr;
    }
    return scoped;
  }
  ~ScopedNetns() { ::setns(original_.get(), CLONE_NEWNET); }
  ScopedNetns(const ScopedNetns&) = delete;
  ScopedNetns& operator=(const ScopedNetns&) = delete;

 private:
  explicit ScopedNetns(UniqueFd original) : original_(std::move(original)) {}
  UniqueFd original_;
};

}  // namespace plexus::io
