// RegistryStorage, continued: what the signed documents are made of (settings,
// CRL serials and versions), renewal, and heartbeat records for bootstrap.
// See storage.h for the schema and the durability contract.
#include <sqlite3.h>

#include "registry/sqlite_util.h"
#include "registry/storage.h"

namespace plexus {
namespace {

using registry_sql::Exec;
using registry_sql::InTransaction;
using registry_sql::Statement;

Result<SettingsMap> ReadSettings(sqlite3* db) {
  constexpr std::string_view kOp = "AllSettings";
  Statement s(db, "SELECT key, value FROM network ORDER BY key", kOp);
  if (Status p = s.prepared(); !p) return p.error();
  SettingsMap out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.emplace(s.Text(0), s.Text(1));
  }
}

Status WriteSettings(sqlite3* db, const SettingsMap& settings) {
  constexpr std::string_view kOp = "UpdateSettings";
  if (Status e = Exec(db, "DELETE FROM network", kOp); !e) return e;
  for (const auto& [key, value] : settings) {
    Statement insert(db, "INSERT INTO network (key, value) VALUES (?1, ?2)", kOp);
    if (Status p = insert.prepared(); !p) return p;
    insert.Bind(1, key);
    insert.Bind(2, value);
    if (Status r = insert.Run(); !r) return r;
  }
  return Exec(db, "UPDATE network_version SET version = version + 1 WHERE id = 1", kOp);
}

// The node's serial and revocation flag; an error when there is no such node.
struct NodeState {
  std::string serial;
  bool revoked = false;
  UnixSeconds expires_at{};
};

Result<NodeState> ReadNodeState(sqlite3* db, std::string_view name, std::string_view op) {
  Statement s(db, "SELECT serial, revoked, expires_at FROM nodes WHERE name = ?1", op);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, name);
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return MakeError("{}: no node {}", op, name);
  return NodeState{s.Text(0), s.Int(1) != 0, s.Time(2)};
}

Status KeepSuperseded(sqlite3* db, std::string_view name, const NodeState& old,
                      std::string_view op) {
  Statement s(db,
              "INSERT INTO superseded_certificates (serial, node_name, expires_at) "
              "VALUES (?1, ?2, ?3)",
              op);
  if (Status p = s.prepared(); !p) return p;
  s.Bind(1, old.serial);
  s.Bind(2, name);
  s.Bind(3, old.expires_at);
  return s.Run();
}

Status ReplaceCertificate(sqlite3* db, const Renewal& r, std::string_view op) {
  Statement s(db,
              "UPDATE nodes SET serial = ?2, certificate_pem = ?3, issued_at = ?4, "
              "expires_at = ?5 WHERE name = ?1",
              op);
  if (Status p = s.prepared(); !p) return p;
  s.Bind(1, r.name);
  s.Bind(2, r.serial);
  s.Bind(3, r.certificate_pem);
  s.Bind(4, r.issued_at);
  s.Bind(5, r.expires_at);
  return s.Run();
}

Result<int64_t> ReadInt(sqlite3* db, const char* sql, std::string_view op) {
  Statement s(db, sql, op);
  if (Status p = s.prepared(); !p) return p.error();
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return MakeError("{}: no row", op);
  return s.Int(0);
}

}  // namespace

Result<SettingsMap> RegistryStorage::AllSettings() {
  return ReadSettings(db_);
}

Result<int64_t> RegistryStorage::UpdateSettings(const SettingsChange& change) {
  return InTransaction(db_, "UpdateSettings", [&]() -> Result<int64_t> {
    Result<SettingsMap> current = ReadSettings(db_);
    if (!current) return current.error();
    Result<SettingsMap> next = change(*current);
    if (!next) return next.error();
    if (Status w = WriteSettings(db_, *next); !w) return w.error();
    return NetworkVersion();
  });
}

Status RegistryStorage::RenewNode(const Renewal& renewal) {
  constexpr std::string_view kOp = "RenewNode";
  return InTransaction(db_, kOp, [&]() -> Status {
    Result<NodeState> old = ReadNodeState(db_, renewal.name, kOp);
    if (!old) return old.error();
    if (old->revoked) return MakeError("{}: node {} is revoked", kOp, renewal.name);
    if (old->serial != renewal.old_serial) {
      return MakeError("{}: node {} was renewed meanwhile", kOp, renewal.name);
    }
    if (Status s = KeepSuperseded(db_, renewal.name, *old, kOp); !s) return s;
    return ReplaceCertificate(db_, renewal, kOp);
  });
}

Result<int64_t> RegistryStorage::CrlVersion() {
  return ReadInt(db_, "SELECT crl_version FROM network_version WHERE id = 1", "CrlVersion");
}

Result<std::vector<std::string>> RegistryStorage::RevokedSerials() {
  constexpr std::string_view kOp = "RevokedSerials";
  Statement s(db_,
              "SELECT serial FROM nodes WHERE revoked = 1 UNION "
              "SELECT c.serial FROM superseded_certificates c JOIN nodes n ON n.name = c.node_name "
              "WHERE n.revoked = 1 ORDER BY 1",
              kOp);
  if (Status p = s.prepared(); !p) return p.error();
  std::vector<std::string> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(s.Text(0));
  }
}

Result<std::vector<EndpointsRecord>> RegistryStorage::RecentEndpoints(UnixSeconds since,
                                                                      int limit) {
  constexpr std::string_view kOp = "RecentEndpoints";
  Statement s(db_,
              "SELECT e.node_name, e.endpoints_json, e.last_seen, e.peer_record FROM endpoints e "
              "JOIN nodes n ON n.name = e.node_name WHERE n.revoked = 0 AND e.last_seen >= ?1 "
              "AND e.peer_record != '' ORDER BY e.last_seen DESC, e.node_name LIMIT ?2",
              kOp);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, since);
  s.Bind(2, int64_t{limit});
  std::vector<EndpointsRecord> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(EndpointsRecord{s.Text(0), s.Text(1), s.Time(2), s.Text(3)});
  }
}

Result<std::map<std::string, UnixSeconds>> RegistryStorage::LastSeen() {
  constexpr std::string_view kOp = "LastSeen";
  Statement s(db_, "SELECT node_name, last_seen FROM endpoints", kOp);
  if (Status p = s.prepared(); !p) return p.error();
  std::map<std::string, UnixSeconds> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.emplace(s.Text(0), s.Time(1));
  }
}

}  // namespace plexus
