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
  std::string listen_address = "::";
  int port = kDefaultRegistryPort;  // 0: any free port (see RegistryServer::port())
  // Names and addresses for the certificate's SAN; default: the listen address
  // when it is a specific one, else "localhost" and the machine's host name.
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
  // Serves until Stop(); an error if the listener fails.
  Status Run();
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
};

}  // namespace plexus
