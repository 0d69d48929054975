#include "node/control_client.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstring>

namespace plexus::node {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr size_t kReadChunk = size_t{64} * 1024;

std::string ConnectHint(int error) {
  switch (error) {
    case ENOENT:
    case ECONNREFUSED:
      return " — is `plexus node` running?";
    case EACCES:
    case EPERM:
      return " — run as root or as a member of the socket's group";
    default:
      return "";
  }
}

Error ConnectError(const std::string& path, int error) {
  return MakeError("cannot connect to {}: {}{}", path, std::strerror(error), ConnectHint(error));
}

}  // namespace

Result<ControlClient> ControlClient::Connect(const std::string& path,
                                             std::chrono::milliseconds timeout) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof addr.sun_path) {
    return MakeError("control socket path \"{}\" is empty or too long", path);
  }
  std::memcpy(addr.sun_path, path.data(), path.size());
  io::UniqueFd fd(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return MakeError("socket(AF_UNIX): {}", std::strerror(errno));
  if (connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0) {
    return ConnectError(path, errno);
  }
  if (fcntl(fd.get(), F_SETFL, O_NONBLOCK) != 0) {
    return MakeError("fcntl(O_NONBLOCK): {}", std::strerror(errno));
  }
  return ControlClient(path, std::move(fd), timeout);
}

Result<nlohmann::json> ControlClient::Call(const nlohmann::json& request) {
  auto deadline = SteadyClock::now() + timeout_;
  std::string line = request.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
  if (Status st = Send(line, deadline); !st) return st.error();
  auto response = ReceiveLine(deadline);
  if (!response) return response.error();
  nlohmann::json parsed = nlohmann::json::parse(*response, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) {
    return MakeError("{} answered something that is not a JSON object", path_);
  }
  return parsed;
}

Result<nlohmann::json> ControlClient::Request(const nlohmann::json& request) {
  auto response = Call(request);
  if (!response) return response.error();
  return UnwrapControlResponse(*response);
}

Status ControlClient::WaitFor(short events, SteadyClock::time_point deadline) const {
  while (true) {
    auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0)
      return MakeError("{} did not answer within {} ms", path_, timeout_.count());
    pollfd p{fd_.get(), events, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n > 0) return Ok();
    if (n < 0 && errno != EINTR) return MakeError("poll {}: {}", path_, std::strerror(errno));
  }
}

Status ControlClient::Send(const std::string& line, SteadyClock::time_point deadline) {
  size_t sent = 0;
  while (sent < line.size()) {
    ssize_t n = send(fd_.get(), line.data() + sent, line.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (Status st = WaitFor(POLLOUT, deadline); !st) return st;
    } else if (errno != EINTR) {
      return MakeError("cannot send to {}: {}", path_, std::strerror(errno));
    }
  }
  return Ok();
}

Result<std::string> ControlClient::ReceiveLine(SteadyClock::time_point deadline) {
  std::string chunk(kReadChunk, '\0');
  while (true) {
    if (size_t nl = buffer_.find('\n'); nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (buffer_.size() > kMaxControlResponseBytes) {
      return MakeError("{} sent a response longer than {} bytes", path_, kMaxControlResponseBytes);
    }
    ssize_t n = recv(fd_.get(), chunk.data(), chunk.size(), 0);
    if (n > 0) {
      buffer_.append(chunk.data(), static_cast<size_t>(n));
    } else if (n == 0) {
      return MakeError("{} closed the connection without answering", path_);
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (Status st = WaitFor(POLLIN, deadline); !st) return st.error();
    } else if (errno != EINTR) {
      return MakeError("cannot read from {}: {}", path_, std::strerror(errno));
    }
  }
}

Result<nlohmann::json> UnwrapControlResponse(const nlohmann::json& response) {
  auto ok = response.find("ok");
  if (ok == response.end() || !ok->is_boolean()) {
    return MakeError("malformed response from the node: no \"ok\" field");
  }
  if (ok->get<bool>()) {
    auto result = response.find("result");
    return result == response.end() ? nlohmann::json(nullptr) : *result;
  }
  auto error = response.find("error");
  if (error != response.end() && error->is_string()) return Error(error->get<std::string>());
  return MakeError("the node reported an error without a message");
}

}  // namespace plexus::node
