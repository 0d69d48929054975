#include "registry/server.h"

#include <httplib.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <ctime>
#include <nlohmann/json.hpp>
#include <thread>

#include "base/log.h"
#include "registry/server_certificate.h"

namespace plexus {
namespace {

std::vector<std::string> DefaultHosts(const std::string& listen_address) {
  Result<IpAddress> a = IpAddress::Parse(listen_address);
  bool wildcard = a.ok() && std::all_of(a->bytes().begin(), a->bytes().end(),
                                        [](std::byte b) { return b == std::byte{0}; });
  if (a.ok() && !wildcard) return {listen_address};
  std::vector<std::string> hosts;
  char name[256] = {};
  if (::gethostname(name, sizeof name - 1) == 0 && name[0] != '\0') hosts.emplace_back(name);
  hosts.emplace_back("localhost");
  return hosts;
}

Status WriteServerCertificate(const RegistryPaths& paths, const ServerCertificate& sc) {
  Result<std::string> pem = sc.certificate.ToPem();
  if (!pem) return pem.error();
  if (Status s = sc.key.SavePemFile(paths.server_key()); !s) return s;
  return WriteFileAtomic(paths.server_cert(), *pem, 0644);
}

std::string ErrorBody(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                 nlohmann::json::error_handler_t::replace);
}

void LogRequest(const httplib::Request& req, int status, std::string_view node) {
  PLEXUS_LOG_INFO("registry: {} {} {} {}{}{}", req.remote_addr, req.method, req.path, status,
                  node.empty() ? "" : " node=", node);
}

}  // namespace

Result<std::unique_ptr<RegistryServer>> RegistryServer::Start(const RegistryPaths& paths,
                                                              const ServerOptions& options) {
  std::unique_ptr<RegistryServer> server(new RegistryServer());
  Result<Registry> registry = Registry::Open(paths);
  if (!registry) return registry.error();
  server->registry_ = std::move(*registry);
  server->hosts_ = options.hosts.empty() ? DefaultHosts(options.listen_address) : options.hosts;
  Result<ServerCertificate> sc = IssueServerCertificate(*server->registry_.ca, server->hosts_,
                                                        std::time(nullptr), server->random_);
  if (!sc) return sc.error();
  if (Status s = WriteServerCertificate(paths, *sc); !s) return s.error();
  server->http_ = std::make_unique<httplib::SSLServer>(sc->certificate.get(), sc->key.pkey());
  if (!server->http_->is_valid()) return MakeError("TLS setup failed for the server certificate");
  SSL_CTX_add1_chain_cert(server->http_->ssl_context(), server->registry_.ca->certificate().get());
  server->api_ = std::make_unique<RegistryApi>(*server->registry_.storage, *server->registry_.ca,
                                               server->random_);
  server->InstallHandlers();
  if (Status s = server->Listen(options); !s) return s.error();
  return server;
}

RegistryServer::~RegistryServer() = default;

Status RegistryServer::Listen(const ServerOptions& options) {
  if (options.port == 0) {
    port_ = http_->bind_to_any_port(options.listen_address);
    if (port_ <= 0) return MakeError("cannot listen on {}: no free port", options.listen_address);
    return Ok();
  }
  if (!http_->bind_to_port(options.listen_address, options.port)) {
    return MakeError("cannot listen on [{}]:{} (in use, or no such address)",
                     options.listen_address, options.port);
  }
  port_ = options.port;
  return Ok();
}

void RegistryServer::InstallHandlers() {
  auto handle = [this](const httplib::Request& req, httplib::Response& res) {
    ApiResponse r;
    {
      std::lock_guard lock(api_mutex_);
      r = api_->Handle(req.method, req.path, req.body, std::time(nullptr));
    }
    res.status = r.status;
    res.set_content(r.body, "application/json");
    LogRequest(req, r.status, r.node);
  };
  const std::string any = R"(/.*)";
  http_->Get(any, handle).Post(any, handle).Put(any, handle).Delete(any, handle);
  http_->Patch(any, handle).Options(any, handle);
  http_->set_payload_max_length(kMaxApiBodySize);
  // httplib calls this for every status >= 400, ours included: fill in only
  // the answers httplib made itself (413, 400 for an unparsable request, ...).
  http_->set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req,
                                                                   httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string what = res.status == 413 ? fmt::format("body: more than {} bytes", kMaxApiBodySize)
                                         : fmt::format("request: HTTP {}", res.status);
    res.set_content(ErrorBody(what), "application/json");
    LogRequest(req, res.status, "");
    return httplib::Server::HandlerResponse::Handled;
  }));
  http_->set_exception_handler(
      [](const httplib::Request& req, httplib::Response& res, const std::exception_ptr&) {
        res.status = 500;
        res.set_content(ErrorBody("internal error"), "application/json");
        LogRequest(req, res.status, "");
      });
}

Status RegistryServer::Run() {
  run_started_ = true;
  if (stop_requested_) {
    run_finished_ = true;
    return Ok();
  }
  bool ok = http_->listen_after_bind();
  run_finished_ = true;
  if (!ok && !stop_requested_) return MakeError("the HTTPS listener stopped with an error");
  return Ok();
}

void RegistryServer::Stop() {
  stop_requested_ = true;
  if (!run_started_) return;  // Run() will see stop_requested_ and not listen
  // httplib's stop() does nothing before the listener runs: wait for it to.
  while (!http_->is_running() && !run_finished_) std::this_thread::sleep_for(1ms);
  http_->stop();
}

}  // namespace plexus
