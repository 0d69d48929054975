// RegistryStorage: the registry's durable state in one SQLite database
// (DESIGN.md §1, §2.3, §2.4).
//
//   tables (schema version 2)
//     schema_version   one row: the version of the migrations applied
//     network          key/value settings; network_version holds the version
//     network_version  counters of the signed documents: version (network
//                      config), bumped on every settings change and revocation;
//                      crl_version, bumped on every revocation
//     nodes            issued certificates: name, serial, PEM, prefix, ipv4,
//                      keys, validity, revocation
//     tokens           enrolment tokens: id, hash of the secret, uses left,
//                      expiry, prefix length (the secret is never stored)
//     endpoints        node name -> endpoint list (JSON) + last seen + the
//                      node's signed peer record (for bootstrap)
//     superseded_certificates  serials a node held before a renewal, so that
//                      revoking the node revokes them as well
//
// Durability: WAL journal with synchronous=FULL, so a committed node (an
// issued certificate) survives SIGKILL and power loss. Every operation is one
// transaction. AddNode consumes a token use and inserts the node in the same
// transaction: after a crash either both happened or neither did, and the
// UNIQUE constraints on name, serial, prefix and ipv4 are the backstop
// against handing out anything twice.
//
// All SQL uses prepared statements with bound parameters.
//
// Not thread-safe: owned and used by the registry's single thread. Several
// processes may open one file (busy timeout), but only one registry should.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/ip.h"
#include "base/result.h"
#include "registry/token.h"

struct sqlite3;

namespace plexus {

// One issued node certificate.
struct NodeRecord {
  std::string name;
  std::string serial;           // certificate serial, hex
  std::string certificate_pem;  // the X.509 certificate
  Prefix prefix;                // stored as its network (host bits cleared)
  std::optional<Prefix> ipv4;
  std::string wireguard_key;  // X25519 public key, base64
  std::string identity_key;   // Ed25519 public key, base64
  UnixSeconds issued_at{};
  UnixSeconds expires_at{};
  bool revoked = false;
  std::optional<UnixSeconds> revoked_at;

  bool operator==(const NodeRecord&) const = default;
};

// A node's last reported endpoints.
struct EndpointsRecord {
  std::string node_name;
  std::string endpoints_json;
  UnixSeconds last_seen{};
  std::string peer_record;  // the node's signed peer record (JSON text); may be empty
};

// A renewal: the node's new certificate replaces `old_serial`.
struct Renewal {
  std::string name;
  std::string old_serial;
  std::string serial;
  std::string certificate_pem;
  UnixSeconds issued_at{};
  UnixSeconds expires_at{};
};

// The network settings as key -> value text.
using SettingsMap = std::map<std::string, std::string, std::less<>>;
// Given the current settings, the complete new settings, or an error.
using SettingsChange = std::function<Result<SettingsMap>(const SettingsMap&)>;

// A token presented for enrolment, checked inside AddNode's transaction.
struct TokenUse {
  std::string id;
  const TokenSecret* secret = nullptr;  // not owned; must outlive the call
  UnixSeconds now{};
};

class RegistryStorage {
 public:
  static constexpr int kSchemaVersion = 2;

  // Opens or creates the database at `path` and applies pending migrations.
  // Refuses a database made by a newer plexus.
  static Result<std::unique_ptr<RegistryStorage>> Open(const std::string& path);
  ~RegistryStorage();
  RegistryStorage(const RegistryStorage&) = delete;
  RegistryStorage& operator=(const RegistryStorage&) = delete;

  // Inserts `node`; with `token`, first checks it (CheckToken, and the node's
  // prefix length must equal the token's) and consumes one use, atomically.
  // On any failure (bad token, duplicate name/serial/prefix/ipv4) nothing changes.
  [[nodiscard]] Status AddNode(const NodeRecord& node, const std::optional<TokenUse>& token);
  [[nodiscard]] Result<std::optional<NodeRecord>> FindNode(std::string_view name);
  // All nodes, revoked ones included, by name.
  [[nodiscard]] Result<std::vector<NodeRecord>> ListNodes();
  // Revokes the node whose name or serial is `name_or_serial`, and bumps the
  // CRL and network versions. Revoking a revoked node is a no-op (revoked_at
  // and the versions stay). Fails if there is none.
  [[nodiscard]] Status RevokeNode(std::string_view name_or_serial, UnixSeconds now);
  // Every node's prefix and IPv4 prefix (revoked nodes included: their
  // certificates may still be trusted somewhere), to Reserve() in a
  // PrefixAllocator at startup.
  [[nodiscard]] Result<std::vector<Prefix>> AllocatedPrefixes();

  [[nodiscard]] Status AddToken(const Token& token);
  [[nodiscard]] Result<std::optional<Token>> FindToken(std::string_view id);
  [[nodiscard]] Result<std::vector<Token>> ListTokens();
  // Fails if there is no such token.
  [[nodiscard]] Status DeleteToken(std::string_view id);

  [[nodiscard]] Result<std::optional<std::string>> GetSetting(std::string_view key);
  // Sets `key` and bumps the network document version; returns the new version.
  [[nodiscard]] Result<int64_t> SetSetting(std::string_view key, std::string_view value);
  // 0 until the first SetSetting.
  [[nodiscard]] Result<int64_t> NetworkVersion();

  // Every setting, in one read.
  [[nodiscard]] Result<SettingsMap> AllSettings();
  // Reads every setting, applies `change` and writes its result (removing keys
  // it dropped) in one transaction, bumping the network version once; nothing
  // changes when `change` fails. Returns the new version.
  [[nodiscard]] Result<int64_t> UpdateSettings(const SettingsChange& change);

  // Replaces a node's certificate (same name, prefix and keys); the old serial
  // is kept in superseded_certificates. Fails when the node is unknown or
  // revoked, or its serial is no longer `old_serial` (a concurrent renewal).
  [[nodiscard]] Status RenewNode(const Renewal& renewal);
  // 0 until the first revocation.
  [[nodiscard]] Result<int64_t> CrlVersion();
  // Serials of every certificate of every revoked node (current and
  // superseded), sorted; the CRL's content.
  [[nodiscard]] Result<std::vector<std::string>> RevokedSerials();

  // Inserts or replaces the endpoints of an existing node.
  [[nodiscard]] Status UpsertEndpoints(const EndpointsRecord& record);
  [[nodiscard]] Result<std::optional<EndpointsRecord>> FindEndpoints(std::string_view node_name);
  // Endpoint records of non-revoked nodes seen at or after `since`, with a
  // peer record, newest first, at most `limit`.
  [[nodiscard]] Result<std::vector<EndpointsRecord>> RecentEndpoints(UnixSeconds since, int limit);
  // Every node's last_seen (nodes never seen are absent).
  [[nodiscard]] Result<std::map<std::string, UnixSeconds>> LastSeen();

 private:
  explicit RegistryStorage(sqlite3* db) : db_(db) {}
  Status Configure();
  Status Migrate();
  Result<int> ReadSchemaVersion();
  Status ConsumeToken(const TokenUse& use, int prefix_length);
  Status InsertNode(const NodeRecord& node);

  sqlite3* db_;
};

}  // namespace plexus
