// RegistryClient: the node side of the registry API over HTTPS (`plexus
// join`; renewal and heartbeats later). Trust comes from the join URL's pin
// (docs/decisions/0005-join-url.md), as with tinc invitations:
//
//   1. GET /v1/ca without certificate verification; the answer is trusted only
//      if the SHA-256 of the certificate's DER equals the pinned fingerprint
//      (and it is a CA certificate).
//   2. Every later request verifies the server's chain against that CA alone,
//      and the host name against the server certificate's SAN. The token is
//      only ever sent in step 2.
//
// A node that has joined already holds the CA (ca.crt in its state dir) and
// uses Connect, which is step 2 alone.
//
// Not thread-safe; one per join, or one per registry agent thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"
#include "identity/certificate.h"

namespace plexus {

struct HttpReply {
  int status = 0;
  std::string body;
};

// How long one request may wait: for the TCP connection, and for each read or
// write after it. The defaults suit an interactive `plexus join`; a daemon
// that must stop promptly passes shorter ones.
struct RegistryClientTimeouts {
  std::chrono::milliseconds connect{10'000};
  std::chrono::milliseconds read_write{60'000};
};

class RegistryClient {
 public:
  static Result<std::unique_ptr<RegistryClient>> ConnectPinned(const std::string& host,
                                                               uint16_t port,
                                                               std::string_view fingerprint);
  // Trusts `ca`, a CA certificate already held (no pin step, no request made
  // here); errors when `ca` is not a CA certificate.
  static Result<std::unique_ptr<RegistryClient>> Connect(const std::string& host, uint16_t port,
                                                         identity::Certificate ca,
                                                         RegistryClientTimeouts timeouts = {});
  const identity::Certificate& ca() const { return *ca_; }

  // A verified request; an error only when no HTTP answer came back.
  Result<HttpReply> Post(const std::string& path, const std::string& json_body);
  Result<HttpReply> Get(const std::string& path);

 private:
  RegistryClient(std::string host, uint16_t port, identity::Certificate ca,
                 RegistryClientTimeouts timeouts)
      : host_(std::move(host)), port_(port), ca_(std::move(ca)), timeouts_(timeouts) {}

  std::string host_;
  uint16_t port_;
  std::optional<identity::Certificate> ca_;
  RegistryClientTimeouts timeouts_;
};

}  // namespace plexus
