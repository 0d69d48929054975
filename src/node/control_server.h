// The control socket: a unix stream socket where the CLI asks the node
// questions, one JSON object per line each way.
//
//   client                                  ControlServer thread
//   {"command":"status"}\n        ---->     handler(request)
//                                 <----     {"ok":true,"result":{...}}\n
//   {"command":"nonsense"}\n      ---->     handler(request)
//                                 <----     {"ok":false,"error":"unknown command"}\n
//
// Several requests may follow one another on a connection; each gets exactly
// one response line, in order. The server itself answers (without calling the
// handler) a line that is not JSON or not an object, and a line longer than
// max_line_bytes (after which it closes the connection). A client that leaves
// a request or response half-transferred for stall_timeout is dropped; one
// that stays silent between requests for idle_timeout too.
//
// Socket file: the parent directory is created (mode 0755) when missing; a
// stale socket left by a dead node is replaced, but a socket another node is
// listening on is never touched ("... is in use by another plexus node").
// The socket is mode 0660 (root and the socket's group). Stop() and the
// destructor remove the file, unless it has been replaced by someone else.
//
// Threads: Start() and Stop() from the owner's thread. The handler runs on the
// server's own thread, one request at a time; it must return even while the
// node shuts down (Stop() joins the server thread, so a handler waiting for a
// thread that is itself inside Stop() would deadlock).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <thread>

#include "base/result.h"
#include "io/unique_fd.h"
#include "io/wakeup.h"

namespace plexus::node {

// Given the request object, returns the whole response object; build it with
// ControlOk()/ControlError().
using ControlHandler = std::function<nlohmann::json(const nlohmann::json& request)>;

// {"ok":true,"result":result}
nlohmann::json ControlOk(nlohmann::json result);
// {"ok":false,"error":message}
nlohmann::json ControlError(std::string_view message);

struct ControlServerOptions {
  size_t max_line_bytes = size_t{64} * 1024;
  std::chrono::milliseconds stall_timeout{2000};
  std::chrono::milliseconds idle_timeout{30000};
  size_t max_clients = 32;  // further connections wait in the listen backlog
};

class ControlServer {
 public:
  // Binds `path` and starts the server thread.
  static Result<std::unique_ptr<ControlServer>> Start(std::string path, ControlHandler handler,
                                                      ControlServerOptions options = {});
  ~ControlServer();
  ControlServer(const ControlServer&) = delete;
  ControlServer& operator=(const ControlServer&) = delete;

  // Stops the thread, closes every connection and removes the socket file.
  // Idempotent.
  void Stop();
  const std::string& path() const { return path_; }

 private:
  ControlServer(std::string path, io::UniqueFd listener, io::Wakeup wakeup, dev_t dev, ino_t ino);
  void RemoveSocketFile() const;

  std::string path_;
  io::UniqueFd listener_;
  io::Wakeup wakeup_;
  dev_t dev_;  // identity of the socket file we created, so Stop() never
  ino_t ino_;  // removes a file another process put in its place
  std::thread thread_;
  std::atomic<bool> stopped_{false};
};

}  // namespace plexus::node
