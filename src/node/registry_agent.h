// RegistryAgent: a running node's background conversation with its registry
// (DESIGN.md §1, §2.3, §2.7; src/registry/api.h for the messages). The mesh
// never needs it: when the registry is down, nothing here stops the node.
//
//   every interval ± 10 % (the first round at once after Start):
//
//     ShouldRenew(notBefore, notAfter, now)?
//        POST /v1/renew (signed renew request) -> verify the certificate
//        (CA, our identity key, our WireGuard key) -> <state_dir>/node.crt
//        -> sink.CertificateRenewed
//     POST /v1/heartbeat (our signed peer record) -> {"config_version","crl_version"}
//     crl_version newer?     GET /v1/crl    -> verify -> crl.json            -> sink
//     config_version newer?  GET /v1/config -> verify -> network-config.json -> sink
//
// A failed step is retried in the next round. Logging: one WARNING when the
// registry becomes unreachable and one INFO when it is back; a refusal or a
// bad answer is logged once (WARNING) until a round succeeds or the message
// changes. Files in the state dir are replaced atomically (write, fsync,
// rename).
//
// Threads: Create, Start, Stop and the destructor on the node's control
// thread; the rounds and every sink call on the agent's own thread; status()
// from any thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/bytes.h"
#include "base/ip.h"
#include "base/random.h"
#include "base/result.h"
#include "base/time.h"
#include "crypto/x25519.h"
#include "identity/certificate.h"
#include "identity/identity_key.h"
#include "identity/signed_document.h"
#include "registry/client.h"

namespace plexus::node {

// What the agent reports; called on the agent's own thread (the node posts
// to its control thread).
class RegistryAgentSink {
 public:
  virtual ~RegistryAgentSink() = default;
  // A CRL or network config newer than what the agent delivered before
  // (signed; the node verifies it).
  virtual void RegistryDocument(identity::SignedDocument doc) = 0;
  // A renewed certificate, already verified against the CA, our identity key
  // and WireGuard key, and already written to <state_dir>/node.crt (atomically).
  virtual void CertificateRenewed(Bytes der) = 0;
};

struct RegistryAgentParams {
  std::string state_dir;                         // as written by `plexus join`
  Duration interval = std::chrono::seconds(10);  // heartbeat and version poll
  uint16_t listen_port = 0;       // the node's UDP port, for the heartbeat's endpoints (0: none)
  std::vector<Prefix> exclude;    // overlay prefixes: local addresses inside them are not endpoints
  std::string exclude_interface;  // the TUN device name: its addresses are not endpoints
  double renew_fraction = 1.0 / 3;  // renew when less than this fraction of the lifetime is left
};

// Each request gives up after these, so that Stop() returns within about
// kRegistryReadTimeout even in the middle of one (a round makes no further
// request once Stop() was called).
inline constexpr std::chrono::milliseconds kRegistryConnectTimeout{1000};
inline constexpr std::chrono::milliseconds kRegistryReadTimeout{2000};

// True when less than `fraction` of the certificate's lifetime (notAfter -
// notBefore) is left at `now` (an expired certificate too). Pure.
bool ShouldRenew(int64_t not_before, int64_t not_after, int64_t now, double fraction);
// The first second at which ShouldRenew turns true. Pure.
int64_t RenewalTimeUnix(int64_t not_before, int64_t not_after, double fraction);
// A peer record timestamp: `now`, or one past the previous one when the clock
// has not moved on (the registry refuses a timestamp it has seen). Pure.
int64_t NextPeerRecordTimestamp(int64_t now, int64_t previous);
// `interval` scaled by 0.9 + 0.2 * `unit` (unit in [0, 1]): ± 10 % jitter. Pure.
Duration JitteredInterval(Duration interval, double unit);

class RegistryAgent {
 public:
  // Reads registry.json, ca.crt, node.crt, identity.key, wireguard.key,
  // crl.json and network-config.json from state_dir; errors name the file.
  static Result<std::unique_ptr<RegistryAgent>> Create(RegistryAgentParams params,
                                                       RegistryAgentSink& sink);
  ~RegistryAgent();  // Stop()
  RegistryAgent(const RegistryAgent&) = delete;
  RegistryAgent& operator=(const RegistryAgent&) = delete;

  void Start();  // starts the thread; a second call does nothing
  void Stop();   // idempotent; returns within about kRegistryReadTimeout

  // For `plexus status`.
  struct Status {
    bool reachable = false;         // the last request got an HTTP answer
    int64_t last_contact_unix = 0;  // when the registry last answered (0: never)
    std::string last_error;         // what went wrong in the last round; empty when nothing
    uint64_t crl_version = 0;       // the documents held (state dir)
    uint64_t config_version = 0;
    int64_t certificate_not_after = 0;  // of node.crt
    int64_t next_renewal_unix = 0;      // RenewalTimeUnix of node.crt
    uint64_t heartbeats_sent = 0;       // heartbeats the registry accepted
    uint64_t renewals = 0;              // certificates renewed since Create
  };
  // A snapshot; thread-safe.
  Status status() const;

 private:
  struct Versions {
    uint64_t config = 0;
    uint64_t crl = 0;
  };
  // A signed document the agent keeps current: the CRL or the network config.
  struct DocumentSlot {
    std::string path;  // "/v1/crl"
    std::string file;  // "crl.json", in the state dir
    identity::DocumentVerdict (*verify)(const identity::SignedDocument& doc,
                                        const identity::IdentityPublicKey& ca_key,
                                        uint64_t held_version);
    uint64_t held_version = 0;
  };

  RegistryAgent(RegistryAgentParams params, RegistryAgentSink& sink);

  void Run();
  // false once Stop() was called.
  bool Sleep(Duration d);
  bool StopRequested();
  void Round();
  void RenewCertificate(int64_t now);
  std::optional<Versions> Heartbeat(int64_t now);
  std::optional<HttpReply> PostPeerRecord(int64_t now);
  void FetchDocument(DocumentSlot& slot, uint64_t announced);
  ::plexus::Status LoadState();
  ::plexus::Status CheckOwnCertificate(const identity::Certificate& cert) const;
  ::plexus::Status CheckRenewed(const identity::Certificate& cert, int64_t now) const;
  ::plexus::Status AdoptCertificate(identity::Certificate cert, std::string pem);
  void InstallRenewed(identity::Certificate cert, std::string pem);
  ::plexus::Status LoadDocument(DocumentSlot& slot);

  // One request; nullopt (and the outage noted) when no HTTP answer came back.
  std::optional<HttpReply> Call(const std::string& method, const std::string& path,
                                const std::string& body);
  void Warn(std::string message);
  int64_t NowUnix() const;
  template <typename F>
  void UpdateStatus(F&& f) {
    std::lock_guard lock(status_mutex_);
    f(status_);
  }

  // Set by Create, then used by the agent thread only.
  RegistryAgentParams params_;
  RegistryAgentSink& sink_;
  std::string name_;
  std::string registry_;  // "host:port", for messages
  std::unique_ptr<RegistryClient> client_;
  std::optional<identity::Certificate> ca_;
  identity::IdentityPublicKey ca_key_;
  std::optional<identity::IdentityKey> identity_key_;
  crypto::PublicKey wireguard_key_;
  std::optional<identity::Certificate> certificate_;
  std::string certificate_pem_;
  int64_t not_before_ = 0;
  int64_t not_after_ = 0;
  DocumentSlot crl_;
  DocumentSlot config_;
  int64_t last_timestamp_ = 0;
  bool outage_ = false;                       // the last request got no answer
  std::vector<std::string> logged_warnings_;  // since the last clean round
  std::string round_error_;                   // the first error of the current round
  SystemClock clock_;
  SystemRandom random_;

  mutable std::mutex status_mutex_;
  Status status_;

  std::mutex stop_mutex_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace plexus::node
