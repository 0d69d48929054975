#include "node/control_server.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "base/log.h"

namespace plexus::node {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr mode_t kDirectoryMode = 0755;
constexpr mode_t kSocketMode = 0660;
constexpr int kListenBacklog = 16;
constexpr size_t kReadChunk = 4096;
constexpr auto kAcceptPauseAfterError = std::chrono::seconds(1);

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return MakeError("control socket path \"{}\" is empty or longer than {} bytes", path,
                     sizeof addr.sun_path - 1);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  return addr;
}

// Creates the missing directories above `path`, each with mode 0755.
Status PrepareDirectory(const std::string& path) {
  std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (parent.empty()) return Ok();
  std::filesystem::path partial;
  for (const auto& part : parent) {
    partial /= part;
    if (mkdir(partial.c_str(), kDirectoryMode) == 0) {
      chmod(partial.c_str(), kDirectoryMode);  // mkdir's mode was reduced by the umask
    } else if (errno != EEXIST) {
      return MakeError("cannot create directory {}: {}", partial.string(), std::strerror(errno));
    }
  }
  return Ok();
}

// Returns 0 when something accepts connections on `path`, else the errno.
int ProbeListener(const sockaddr_un& addr) {
  io::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return errno;
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return 0;
  return errno;
}

std::string InUse(const std::string& path) {
  return fmt::format("control socket {} is in use by another plexus node", path);
}

// Removes a socket file left behind by a node that is gone; refuses to touch
// a live socket or anything that is not a socket.
Status RemoveStaleSocket(const std::string& path, const sockaddr_un& addr) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Ok();
    return MakeError("cannot inspect {}: {}", path, std::strerror(errno));
  }
  if (!S_ISSOCK(st.st_mode)) return MakeError("{} exists and is not a socket", path);
  int probe = ProbeListener(addr);
  if (probe == 0) return Error(InUse(path));
  if (probe != ECONNREFUSED) {
    return MakeError("cannot check control socket {}: {}", path, std::strerror(probe));
  }
  if (unlink(path.c_str()) != 0 && errno != ENOENT) {
    return MakeError("cannot remove stale control socket {}: {}", path, std::strerror(errno));
  }
  PLEXUS_LOG_INFO("removed stale control socket {}", path);
  return Ok();
}

Result<io::UniqueFd> BindAndListen(const std::string& path, const sockaddr_un& addr) {
  io::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return MakeError("socket(AF_UNIX): {}", std::strerror(errno));
  if (bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno == EADDRINUSE) return Error(InUse(path));
    return MakeError("cannot bind control socket {}: {}", path, std::strerror(errno));
  }
  // Nobody can connect before listen(), so the mode is right before anyone can use it.
  if (chmod(path.c_str(), kSocketMode) != 0 || listen(fd.get(), kListenBacklog) != 0) {
    Error error = MakeError("cannot set up control socket {}: {}", path, std::strerror(errno));
    unlink(path.c_str());
    return error;
  }
  return fd;
}

std::string ResponseLine(const nlohmann::json& response) {
  // Replacing invalid UTF-8 keeps dump() from throwing on odd strings.
  return response.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// One client connection and its buffered, not yet processed bytes.
struct Connection {
  io::UniqueFd fd;
  std::string in;   // received bytes not yet ending a line
  std::string out;  // response bytes not yet sent
  SteadyClock::time_point last_progress;
  bool eof = false;      // the client will send nothing more
  bool closing = false;  // close once `out` is sent
  bool dead = false;     // close now
};

// The server thread: poll() over the wakeup, the listener and the clients.
class ServerLoop {
 public:
  ServerLoop(int listener, int wakeup, ControlHandler handler, ControlServerOptions options)
      : listener_(listener), wakeup_(wakeup), handler_(std::move(handler)), options_(options) {}

  void Run();

 private:
  std::vector<pollfd> PollSet(SteadyClock::time_point now) const;
  int PollTimeoutMs(SteadyClock::time_point now) const;
  SteadyClock::time_point Deadline(const Connection& c) const;
  void Accept(SteadyClock::time_point now);
  void Service(Connection& c, short revents);
  void ReadFrom(Connection& c);
  void WriteTo(Connection& c);
  void HandleLines(Connection& c);
  std::string Respond(std::string_view line) const;
  nlohmann::json CallHandler(const nlohmann::json& request) const;
  void Reap(SteadyClock::time_point now);

  int listener_;
  int wakeup_;
  ControlHandler handler_;
  ControlServerOptions options_;
  std::vector<Connection> connections_;
  SteadyClock::time_point accept_paused_until_{};
};

void ServerLoop::Run() {
  while (true) {
    std::vector<pollfd> fds = PollSet(SteadyClock::now());
    int n = poll(fds.data(), fds.size(), PollTimeoutMs(SteadyClock::now()));
    if (n < 0 && errno != EINTR) {
      PLEXUS_LOG_ERROR("control socket: poll: {}", std::strerror(errno));
      return;
    }
    if (n > 0 && fds[0].revents != 0) return;  // Stop()
    for (size_t i = 0; i < connections_.size() && n > 0; ++i) {
      Service(connections_[i], fds[i + 2].revents);
    }
    if (n > 0 && (fds[1].revents & POLLIN) != 0) Accept(SteadyClock::now());
    Reap(SteadyClock::now());
  }
}

std::vector<pollfd> ServerLoop::PollSet(SteadyClock::time_point now) const {
  bool accepting = connections_.size() < options_.max_clients && now >= accept_paused_until_;
  std::vector<pollfd> fds;
  fds.push_back({wakeup_, POLLIN, 0});
  fds.push_back({listener_, static_cast<short>(accepting ? POLLIN : 0), 0});
  for (const Connection& c : connections_) {
    short events = !c.out.empty() ? POLLOUT : (c.eof || c.closing ? 0 : POLLIN);
    fds.push_back({c.fd.get(), events, 0});
  }
  return fds;
}

SteadyClock::time_point ServerLoop::Deadline(const Connection& c) const {
  bool pending = !c.in.empty() || !c.out.empty();
  return c.last_progress + (pending ? options_.stall_timeout : options_.idle_timeout);
}

int ServerLoop::PollTimeoutMs(SteadyClock::time_point now) const {
  auto earliest = SteadyClock::time_point::max();
  for (const Connection& c : connections_) earliest = std::min(earliest, Deadline(c));
  if (now < accept_paused_until_) earliest = std::min(earliest, accept_paused_until_);
  if (earliest == SteadyClock::time_point::max()) return -1;
  auto wait = std::chrono::ceil<std::chrono::milliseconds>(earliest - now);
  return static_cast<int>(std::max<int64_t>(wait.count(), 0));
}

void ServerLoop::Accept(SteadyClock::time_point now) {
  while (connections_.size() < options_.max_clients) {
    int fd = accept4(listener_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) {
      Connection& c = connections_.emplace_back();
      c.fd.Reset(fd);
      c.last_progress = now;
      continue;
    }
    if (errno == EINTR || errno == ECONNABORTED) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) {
      PLEXUS_LOG_WARNING("control socket: accept: {}", std::strerror(errno));
      accept_paused_until_ = now + kAcceptPauseAfterError;  // e.g. EMFILE: do not spin
    }
    return;
  }
}

void ServerLoop::Service(Connection& c, short revents) {
  if ((revents & POLLERR) != 0) {
    c.dead = true;
    return;
  }
  if ((revents & POLLOUT) != 0) WriteTo(c);
  if ((revents & (POLLIN | POLLHUP)) != 0 && !c.dead) ReadFrom(c);
  if (c.closing && c.out.empty()) c.dead = true;
}

void ServerLoop::ReadFrom(Connection& c) {
  char buf[kReadChunk];
  while (c.in.size() <= options_.max_line_bytes) {
    ssize_t n = read(c.fd.get(), buf, sizeof buf);
    if (n > 0) {
      c.in.append(buf, static_cast<size_t>(n));
      c.last_progress = SteadyClock::now();
      continue;
    }
    if (n == 0) c.eof = true;
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.dead = true;
    break;
  }
  HandleLines(c);
  if (c.eof) c.closing = true;
  if (!c.out.empty()) WriteTo(c);
}

void ServerLoop::HandleLines(Connection& c) {
  std::string oversized =
      fmt::format("request line is longer than {} bytes", options_.max_line_bytes);
  size_t start = 0;
  for (size_t nl; !c.closing && (nl = c.in.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    std::string_view line = std::string_view{c.in}.substr(start, nl - start);
    c.closing = line.size() > options_.max_line_bytes;
    c.out += c.closing ? ResponseLine(ControlError(oversized)) : Respond(line);
  }
  c.in.erase(0, start);
  if (!c.closing && c.in.size() > options_.max_line_bytes) {
    c.out += ResponseLine(ControlError(oversized));
    c.closing = true;
  }
  if (!c.closing && c.eof && !c.in.empty()) c.out += Respond(c.in);  // last line, no newline
  if (c.closing || c.eof) c.in.clear();
}

std::string ServerLoop::Respond(std::string_view line) const {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return "";  // blank: ignored
  nlohmann::json request = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return ResponseLine(ControlError("request is not valid JSON"));
  if (!request.is_object()) return ResponseLine(ControlError("request must be a JSON object"));
  return ResponseLine(CallHandler(request));
}

nlohmann::json ServerLoop::CallHandler(const nlohmann::json& request) const {
  // The handler is the node's code; a bug there must not take the server down.
  try {
    return handler_(request);
  } catch (const std::exception& e) {
    PLEXUS_LOG_ERROR("control socket: handler failed: {}", e.what());
    return ControlError(fmt::format("internal error: {}", e.what()));
  }
}

void ServerLoop::WriteTo(Connection& c) {
  while (!c.out.empty()) {
    ssize_t n = send(c.fd.get(), c.out.data(), c.out.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      c.out.erase(0, static_cast<size_t>(n));
      c.last_progress = SteadyClock::now();
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) c.dead = true;
    return;
  }
}

void ServerLoop::Reap(SteadyClock::time_point now) {
  for (Connection& c : connections_) {
    if (c.dead || now < Deadline(c)) continue;
    PLEXUS_LOG_DEBUG("control socket: dropping a client that stalled");
    c.dead = true;
  }
  std::erase_if(connections_, [](const Connection& c) { return c.dead; });
}

}  // namespace

nlohmann::json ControlOk(nlohmann::json result) {
  return {{"ok", true}, {"result", std::move(result)}};
}

nlohmann::json ControlError(std::string_view message) {
  return {{"ok", false}, {"error", message}};
}

Result<std::unique_ptr<ControlServer>> ControlServer::Start(std::string path,
                                                            ControlHandler handler,
                                                            ControlServerOptions options) {
  auto addr = UnixAddress(path);
  if (!addr) return addr.error();
  auto wakeup = io::Wakeup::Create();
  if (!wakeup) return wakeup.error();
  if (Status st = PrepareDirectory(path); !st) return st.error();
  if (Status st = RemoveStaleSocket(path, *addr); !st) return st.error();
  auto listener = BindAndListen(path, *addr);
  if (!listener) return listener.error();
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) {
    return MakeError("control socket {} vanished: {}", path, std::strerror(errno));
  }
  std::unique_ptr<ControlServer> server(new ControlServer(
      std::move(path), std::move(*listener), std::move(*wakeup), st.st_dev, st.st_ino));
  ServerLoop loop(server->listener_.get(), server->wakeup_.fd(), std::move(handler), options);
  server->thread_ = std::thread([loop = std::move(loop)]() mutable { loop.Run(); });
  return server;
}

ControlServer::ControlServer(std::string path, io::UniqueFd listener, io::Wakeup wakeup, dev_t dev,
                             ino_t ino)
    : path_(std::move(path)),
      listener_(std::move(listener)),
      wakeup_(std::move(wakeup)),
      dev_(dev),
      ino_(ino) {}

ControlServer::~ControlServer() {
  Stop();
}

void ControlServer::Stop() {
  if (stopped_.exchange(true)) return;
  wakeup_.Signal();
  if (thread_.joinable()) thread_.join();
  listener_.Reset();
  RemoveSocketFile();
}

void ControlServer::RemoveSocketFile() const {
  struct stat st {};
  if (lstat(path_.c_str(), &st) != 0) return;
  if (st.st_dev != dev_ || st.st_ino != ino_) {
    PLEXUS_LOG_WARNING("control socket {} was replaced by another file; leaving it", path_);
    return;
  }
  if (unlink(path_.c_str()) != 0) {
    PLEXUS_LOG_WARNING("cannot remove control socket {}: {}", path_, std::strerror(errno));
  }
}

}  // namespace plexus::node
