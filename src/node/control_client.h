// The CLI side of the control socket (see control_server.h for the protocol).
//
//   auto client = ControlClient::Connect("/run/plexus/plx0.sock");
//   if (!client) return Fail(client.error());
//   auto status = client->Request({{"command", "status"}});   // the "result" object
//
// Thread: one client per thread.
#pragma once

#include <chrono>
#include <nlohmann/json.hpp>
#include <string>

#include "base/result.h"
#include "io/unique_fd.h"

namespace plexus::node {

inline constexpr std::chrono::milliseconds kDefaultControlTimeout{5000};
// Responses can be large (a status with thousands of peers), but not unbounded.
inline constexpr size_t kMaxControlResponseBytes = size_t{64} * 1024 * 1024;

class ControlClient {
 public:
  // Connects to the node's socket. The error for a node that is not running
  // reads "cannot connect to PATH: No such file or directory — is `plexus
  // node` running?".
  static Result<ControlClient> Connect(const std::string& path,
                                       std::chrono::milliseconds timeout = kDefaultControlTimeout);

  // Sends `request` as one line and returns the response object as received.
  // Fails when the node does not answer within the timeout, closes the
  // connection, or answers something that is not a JSON object.
  Result<nlohmann::json> Call(const nlohmann::json& request);

  // Call() and unwrap: the "result" of an ok response, else the node's "error".
  Result<nlohmann::json> Request(const nlohmann::json& request);

  const std::string& path() const { return path_; }

 private:
  ControlClient(std::string path, io::UniqueFd fd, std::chrono::milliseconds timeout)
      : path_(std::move(path)), fd_(std::move(fd)), timeout_(timeout) {}
  Status Send(const std::string& line, std::chrono::steady_clock::time_point deadline);
  Result<std::string> ReceiveLine(std::chrono::steady_clock::time_point deadline);
  Status WaitFor(short events, std::chrono::steady_clock::time_point deadline) const;

  std::string path_;
  io::UniqueFd fd_;
  std::chrono::milliseconds timeout_;
  std::string buffer_;  // bytes received after the last response line
};

// {"ok":true,"result":R} -> R; {"ok":false,"error":E} -> Error(E); else an error.
Result<nlohmann::json> UnwrapControlResponse(const nlohmann::json& response);

}  // namespace plexus::node
