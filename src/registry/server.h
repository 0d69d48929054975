// RegistryServer: the registry's HTTPS front end (`plexus registry serve`).
// A thin layer: cpp-httplib's SSLServer accepts connections on its thread
// pool, and every request is passed, one at a time (a mutex), to RegistryApi
// with the wall-clock time. One log line per request at info level:
//
//   registry: 127.0.0.1 POST /v1/join 200 node=alpha
//
// Bodies over kMaxApiBodySize are refused by httplib (413) before they are
// read in full. On start a fresh server key and certificate (signed by the
// CA, SAN = the configured hosts) are written to the state dir.
//
// Threads: Start on any thread; Run blocks the calling thread until Stop,
// which may be called from another thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/random.h"
#include "base/result.h"
#include "registry/api.h"
#include "registry/registry_dir.h"

namespace httplib {
class SSLServer;
}

namespace plexus {

inline constexpr int kDefaultRegistryPort = 8443;

struct ServerOptions {
  std::string listen_address = "0.0.0.0";
  int port = kDefaultRegistryPort;  // 0: any free port (see RegistryServer::port())
  // Names and addresses for the certificate's SAN; default: the listen address
  // when it is a specific one, else the machine's host name and "localhost".
  std::vector<std::string> hosts;
};

class RegistryServer {
 public:
  static Result<std::unique_ptr<RegistryServer>> Start(const RegistryPaths& paths,
                                                       const ServerOptions& options);
  ~RegistryServer();
  RegistryServer(const RegistryServer&) = delete;
  RegistryServer& operator=(const RegistryServer&) = delete;

  // The bound port.
  int port() const { return port_; }
  const std::vector<std::string>& hosts() const { return hosts_; }
  // Serves until Stop(); an error if the listener fails. Call at most once.
  Status Run();
  // Makes Run() return (or not start), whether or not it has begun yet.
  void Stop();

 private:
  RegistryServer() = default;
  Status Listen(const ServerOptions& options);
  void InstallHandlers();

  Registry registry_;
  SystemRandom random_;
  std::unique_ptr<RegistryApi> api_;
  std::mutex api_mutex_;  // RegistryApi and RegistryStorage are single-threaded
  std::unique_ptr<httplib::SSLServer> http_;
  std::vector<std::string> hosts_;
  int port_ = 0;
  // Stop() and Run() may race: each announces itself before looking at the other.
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_finished_{false};
};

}  // namespace plexus
