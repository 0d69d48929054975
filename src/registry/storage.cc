#include "registry/storage.h"

#include <sqlite3.h>

#include <array>
#include <utility>

#include "registry/sqlite_util.h"

namespace plexus {
namespace {

using registry_sql::Exec;
using registry_sql::InTransaction;
using registry_sql::Statement;

constexpr int kBusyTimeoutMs = 5000;

// Migration i (0-based) brings the schema from version i to i + 1. Append
// only; never edit a released one. DDL only: no values are built into SQL.
constexpr std::array<const char*, RegistryStorage::kSchemaVersion> kMigrations = {
    R"sql(
CREATE TABLE network (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;
CREATE TABLE network_version (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  version INTEGER NOT NULL
) STRICT;
INSERT INTO network_version (id, version) VALUES (1, 0);
CREATE TABLE nodes (
  name TEXT PRIMARY KEY,
  serial TEXT NOT NULL UNIQUE,
  certificate_pem TEXT NOT NULL,
  prefix TEXT NOT NULL UNIQUE,
  ipv4 TEXT UNIQUE,
  wireguard_key TEXT NOT NULL,
  identity_key TEXT NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
  revoked_at INTEGER
) STRICT;
CREATE TABLE tokens (
  id TEXT PRIMARY KEY,
  secret_hash BLOB NOT NULL,
  uses_left INTEGER NOT NULL CHECK (uses_left >= 0),
  expires_at INTEGER NOT NULL,
  prefix_length INTEGER NOT NULL,
  created_at INTEGER NOT NULL
) STRICT;
CREATE TABLE endpoints (
  node_name TEXT PRIMARY KEY REFERENCES nodes (name) ON DELETE CASCADE,
  endpoints_json TEXT NOT NULL,
  last_seen INTEGER NOT NULL
) STRICT;
)sql",
    // 2: renewal keeps the serials a node held before (so that revoking the node
    // revokes them too), the CRL has its own version, and a heartbeat stores the
    // node's signed peer record for bootstrap.
    R"sql(
CREATE TABLE superseded_certificates (
  serial TEXT PRIMARY KEY,
  node_name TEXT NOT NULL REFERENCES nodes (name) ON DELETE CASCADE,
  expires_at INTEGER NOT NULL
) STRICT;
ALTER TABLE network_version ADD COLUMN crl_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE endpoints ADD COLUMN peer_record TEXT NOT NULL DEFAULT '';
)sql",
};

constexpr const char* kNodeColumns =
    "name, serial, certificate_pem, prefix, ipv4, wireguard_key, identity_key, issued_at, "
    "expires_at, revoked, revoked_at";

Result<NodeRecord> ReadNode(Statement& s, std::string_view op) {
  NodeRecord n;
  n.name = s.Text(0);
  n.serial = s.Text(1);
  n.certificate_pem = s.Text(2);
  Result<Prefix> prefix = Prefix::Parse(s.Text(3));
  if (!prefix) return prefix.error().Wrap(fmt::format("{}: node {}: stored prefix", op, n.name));
  n.prefix = *prefix;
  if (!s.IsNull(4)) {
    Result<Prefix> ipv4 = Prefix::Parse(s.Text(4));
    if (!ipv4) return ipv4.error().Wrap(fmt::format("{}: node {}: stored ipv4", op, n.name));
    n.ipv4 = *ipv4;
  }
  n.wireguard_key = s.Text(5);
  n.identity_key = s.Text(6);
  n.issued_at = s.Time(7);
  n.expires_at = s.Time(8);
  n.revoked = s.Int(9) != 0;
  if (!s.IsNull(10)) n.revoked_at = s.Time(10);
  return n;
}

Result<std::vector<NodeRecord>> ReadNodes(Statement& s, std::string_view op) {
  std::vector<NodeRecord> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    Result<NodeRecord> n = ReadNode(s, op);
    if (!n) return n.error();
    out.push_back(std::move(*n));
  }
}

Token ReadToken(Statement& s) {
  Token t;
  t.id = s.Text(0);
  ByteSpan hash = s.Blob(1);
  if (hash.size() == t.secret_hash.size())
    std::copy(hash.begin(), hash.end(), t.secret_hash.begin());
  t.uses_left = static_cast<int>(s.Int(2));
  t.expires_at = s.Time(3);
  t.prefix_length = static_cast<int>(s.Int(4));
  t.created_at = s.Time(5);
  return t;
}

constexpr const char* kTokenColumns =
    "id, secret_hash, uses_left, expires_at, prefix_length, created_at";

}  // namespace

Result<std::unique_ptr<RegistryStorage>> RegistryStorage::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  if (rc != SQLITE_OK) {
    Error e = MakeError("open {}: {}", path, db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    sqlite3_close(db);
    return e;
  }
  std::unique_ptr<RegistryStorage> storage(new RegistryStorage(db));
  if (Status s = storage->Configure(); !s) return s.error().Wrap(path);
  if (Status s = storage->Migrate(); !s) return s.error().Wrap(path);
  return storage;
}

RegistryStorage::~RegistryStorage() {
  sqlite3_close(db_);
}

Status RegistryStorage::Configure() {
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  Statement wal(db_, "PRAGMA journal_mode=WAL", "enable WAL");
  if (Status s = wal.prepared(); !s) return s;
  Result<bool> row = wal.Step();
  if (!row) return row.error();
  if (!*row || wal.Text(0) != "wal")
    return MakeError("enable WAL: journal mode stays {}", wal.Text(0));
  if (Status s = Exec(db_, "PRAGMA synchronous=FULL", "set synchronous=FULL"); !s) return s;
  return Exec(db_, "PRAGMA foreign_keys=ON", "enable foreign keys");
}

Result<int> RegistryStorage::ReadSchemaVersion() {
  constexpr std::string_view kOp = "read schema version";
  Statement exists(db_, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1", kOp);
  if (Status s = exists.prepared(); !s) return s.error();
  exists.Bind(1, "schema_version");
  Result<bool> has_table = exists.Step();
  if (!has_table) return has_table.error();
  if (!*has_table) return 0;
  Statement select(db_, "SELECT MAX(version) FROM schema_version", kOp);
  if (Status s = select.prepared(); !s) return s.error();
  Result<bool> row = select.Step();
  if (!row) return row.error();
  return *row && !select.IsNull(0) ? static_cast<int>(select.Int(0)) : 0;
}

Status RegistryStorage::Migrate() {
  Result<int> current = ReadSchemaVersion();
  if (!current) return current.error();
  if (*current > kSchemaVersion) {
    return MakeError("database schema {} is newer than this plexus (knows {})", *current,
                     kSchemaVersion);
  }
  for (int to = *current + 1; to <= kSchemaVersion; ++to) {
    std::string op = fmt::format("migrate schema to version {}", to);
    Status s = InTransaction(db_, op, [&]() -> Status {
      Result<int> now = ReadSchemaVersion();  // another process may have migrated meanwhile
      if (!now) return now.error();
      if (*now >= to) return Ok();
      if (Status e = Exec(db_, kMigrations[static_cast<size_t>(to - 1)], op); !e) return e;
      if (Status e =
              Exec(db_, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)", op);
          !e)
        return e;
      if (Status e = Exec(db_, "DELETE FROM schema_version", op); !e) return e;
      Statement insert(db_, "INSERT INTO schema_version (version) VALUES (?1)", op);
      if (Status e = insert.prepared(); !e) return e;
      insert.Bind(1, int64_t{to});
      return insert.Run();
    });
    if (!s) return s;
  }
  return Ok();
}

Status RegistryStorage::ConsumeToken(const TokenUse& use, int prefix_length) {
  constexpr std::string_view kOp = "AddNode";
  Result<std::optional<Token>> token = FindToken(use.id);
  if (!token) return token.error();
  if (!*token) return MakeError("{}: no token {}", kOp, use.id);
  if (Status s = CheckToken(**token, *use.secret, use.now); !s) return s.error().Wrap(kOp);
  if ((*token)->prefix_length != prefix_length) {
    return MakeError("{}: token {} grants a /{}, not a /{}", kOp, use.id, (*token)->prefix_length,
                     prefix_length);
  }
  Statement update(
      db_, "UPDATE tokens SET uses_left = uses_left - 1 WHERE id = ?1 AND uses_left > 0", kOp);
  if (Status s = update.prepared(); !s) return s;
  update.Bind(1, use.id);
  if (Status s = update.Run(); !s) return s;
  if (sqlite3_changes(db_) != 1) return MakeError("{}: token {} has no use left", kOp, use.id);
  return Ok();
}

Status RegistryStorage::InsertNode(const NodeRecord& node) {
  constexpr std::string_view kOp = "AddNode";
  Statement insert(db_,
                   "INSERT INTO nodes (name, serial, certificate_pem, prefix, ipv4, wireguard_key, "
                   "identity_key, issued_at, expires_at, revoked, revoked_at) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                   kOp);
  if (Status s = insert.prepared(); !s) return s;
  std::string prefix = node.prefix.Network().ToString();
  std::string ipv4 = node.ipv4 ? node.ipv4->Network().ToString() : std::string();
  insert.Bind(1, node.name);
  insert.Bind(2, node.serial);
  insert.Bind(3, node.certificate_pem);
  insert.Bind(4, prefix);
  if (node.ipv4) {
    insert.Bind(5, ipv4);
  } else {
    insert.BindNull(5);
  }
  insert.Bind(6, node.wireguard_key);
  insert.Bind(7, node.identity_key);
  insert.Bind(8, node.issued_at);
  insert.Bind(9, node.expires_at);
  insert.Bind(10, int64_t{node.revoked ? 1 : 0});
  if (node.revoked_at) {
    insert.Bind(11, *node.revoked_at);
  } else {
    insert.BindNull(11);
  }
  return insert.Run();
}

Status RegistryStorage::AddNode(const NodeRecord& node, const std::optional<TokenUse>& token) {
  if (token && token->secret == nullptr) return MakeError("AddNode: token use without a secret");
  return InTransaction(db_, "AddNode", [&]() -> Status {
    if (token) {
      if (Status s = ConsumeToken(*token, node.prefix.length()); !s) return s;
    }
    return InsertNode(node);
  });
}

Result<std::optional<NodeRecord>> RegistryStorage::FindNode(std::string_view name) {
  constexpr std::string_view kOp = "FindNode";
  std::string sql = fmt::format("SELECT {} FROM nodes WHERE name = ?1", kNodeColumns);
  Statement s(db_, sql.c_str(), kOp);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, name);
  Result<std::vector<NodeRecord>> rows = ReadNodes(s, kOp);
  if (!rows) return rows.error();
  if (rows->empty()) return std::optional<NodeRecord>();
  return std::optional<NodeRecord>(std::move(rows->front()));
}

Result<std::vector<NodeRecord>> RegistryStorage::ListNodes() {
  constexpr std::string_view kOp = "ListNodes";
  std::string sql = fmt::format("SELECT {} FROM nodes ORDER BY name", kNodeColumns);
  Statement s(db_, sql.c_str(), kOp);
  if (Status p = s.prepared(); !p) return p.error();
  return ReadNodes(s, kOp);
}

Status RegistryStorage::RevokeNode(std::string_view name_or_serial, UnixSeconds now) {
  constexpr std::string_view kOp = "RevokeNode";
  return InTransaction(db_, kOp, [&]() -> Status {
    Statement find(db_, "SELECT name FROM nodes WHERE name = ?1 OR serial = ?1", kOp);
    if (Status s = find.prepared(); !s) return s;
    find.Bind(1, name_or_serial);
    Result<bool> row = find.Step();
    if (!row) return row.error();
    if (!*row) return MakeError("{}: no node with name or serial {}", kOp, name_or_serial);
    std::string name = find.Text(0);
    if (Result<bool> more = find.Step(); !more || *more) {
      return MakeError("{}: {} names more than one node", kOp, name_or_serial);
    }
    Statement update(
        db_, "UPDATE nodes SET revoked = 1, revoked_at = ?2 WHERE name = ?1 AND revoked = 0", kOp);
    if (Status s = update.prepared(); !s) return s;
    update.Bind(1, name);
    update.Bind(2, now);
    if (Status s = update.Run(); !s) return s;
    if (sqlite3_changes(db_) == 0) return Ok();
    // The CRL changed, and the network config names the CRL version.
    return Exec(db_,
                "UPDATE network_version SET version = version + 1, crl_version = crl_version + 1 "
                "WHERE id = 1",
                kOp);
  });
}

Result<std::vector<Prefix>> RegistryStorage::AllocatedPrefixes() {
  constexpr std::string_view kOp = "AllocatedPrefixes";
  Statement s(
      db_, "SELECT prefix FROM nodes UNION ALL SELECT ipv4 FROM nodes WHERE ipv4 IS NOT NULL", kOp);
  if (Status p = s.prepared(); !p) return p.error();
  std::vector<Prefix> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    Result<Prefix> prefix = Prefix::Parse(s.Text(0));
    if (!prefix) return prefix.error().Wrap(kOp);
    out.push_back(*prefix);
  }
}

Status RegistryStorage::AddToken(const Token& token) {
  constexpr std::string_view kOp = "AddToken";
  return InTransaction(db_, kOp, [&]() -> Status {
    Statement s(db_,
                "INSERT INTO tokens (id, secret_hash, uses_left, expires_at, prefix_length, "
                "created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                kOp);
    if (Status p = s.prepared(); !p) return p;
    s.Bind(1, token.id);
    s.Bind(2, ByteSpan(token.secret_hash));
    s.Bind(3, int64_t{token.uses_left});
    s.Bind(4, token.expires_at);
    s.Bind(5, int64_t{token.prefix_length});
    s.Bind(6, token.created_at);
    return s.Run();
  });
}

Result<std::optional<Token>> RegistryStorage::FindToken(std::string_view id) {
  constexpr std::string_view kOp = "FindToken";
  std::string sql = fmt::format("SELECT {} FROM tokens WHERE id = ?1", kTokenColumns);
  Statement s(db_, sql.c_str(), kOp);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, id);
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return std::optional<Token>();
  return std::optional<Token>(ReadToken(s));
}

Result<std::vector<Token>> RegistryStorage::ListTokens() {
  constexpr std::string_view kOp = "ListTokens";
  std::string sql = fmt::format("SELECT {} FROM tokens ORDER BY created_at, id", kTokenColumns);
  Statement s(db_, sql.c_str(), kOp);
  if (Status p = s.prepared(); !p) return p.error();
  std::vector<Token> out;
  for (;;) {
    Result<bool> row = s.Step();
    if (!row) return row.error();
    if (!*row) return out;
    out.push_back(ReadToken(s));
  }
}

Status RegistryStorage::DeleteToken(std::string_view id) {
  constexpr std::string_view kOp = "DeleteToken";
  return InTransaction(db_, kOp, [&]() -> Status {
    Statement s(db_, "DELETE FROM tokens WHERE id = ?1", kOp);
    if (Status p = s.prepared(); !p) return p;
    s.Bind(1, id);
    if (Status r = s.Run(); !r) return r;
    if (sqlite3_changes(db_) != 1) return MakeError("{}: no token {}", kOp, id);
    return Ok();
  });
}

Result<std::optional<std::string>> RegistryStorage::GetSetting(std::string_view key) {
  constexpr std::string_view kOp = "GetSetting";
  Statement s(db_, "SELECT value FROM network WHERE key = ?1", kOp);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, key);
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return std::optional<std::string>();
  return std::optional<std::string>(s.Text(0));
}

Result<int64_t> RegistryStorage::SetSetting(std::string_view key, std::string_view value) {
  constexpr std::string_view kOp = "SetSetting";
  return InTransaction(db_, kOp, [&]() -> Result<int64_t> {
    Statement upsert(db_,
                     "INSERT INTO network (key, value) VALUES (?1, ?2) "
                     "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                     kOp);
    if (Status p = upsert.prepared(); !p) return p.error();
    upsert.Bind(1, key);
    upsert.Bind(2, value);
    if (Status r = upsert.Run(); !r) return r.error();
    Statement bump(db_, "UPDATE network_version SET version = version + 1 WHERE id = 1", kOp);
    if (Status p = bump.prepared(); !p) return p.error();
    if (Status r = bump.Run(); !r) return r.error();
    return NetworkVersion();
  });
}

Result<int64_t> RegistryStorage::NetworkVersion() {
  constexpr std::string_view kOp = "NetworkVersion";
  Statement s(db_, "SELECT version FROM network_version WHERE id = 1", kOp);
  if (Status p = s.prepared(); !p) return p.error();
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return MakeError("{}: network_version row is missing", kOp);
  return s.Int(0);
}

Status RegistryStorage::UpsertEndpoints(const EndpointsRecord& record) {
  constexpr std::string_view kOp = "UpsertEndpoints";
  return InTransaction(db_, kOp, [&]() -> Status {
    Statement s(db_,
                "INSERT INTO endpoints (node_name, endpoints_json, last_seen, peer_record) "
                "VALUES (?1, ?2, ?3, ?4) "
                "ON CONFLICT (node_name) DO UPDATE SET endpoints_json = excluded.endpoints_json, "
                "last_seen = excluded.last_seen, peer_record = excluded.peer_record",
                kOp);
    if (Status p = s.prepared(); !p) return p;
    s.Bind(1, record.node_name);
    s.Bind(2, record.endpoints_json);
    s.Bind(3, record.last_seen);
    s.Bind(4, record.peer_record);
    return s.Run();
  });
}

Result<std::optional<EndpointsRecord>> RegistryStorage::FindEndpoints(std::string_view node_name) {
  constexpr std::string_view kOp = "FindEndpoints";
  Statement s(db_,
              "SELECT node_name, endpoints_json, last_seen, peer_record FROM endpoints WHERE "
              "node_name = ?1",
              kOp);
  if (Status p = s.prepared(); !p) return p.error();
  s.Bind(1, node_name);
  Result<bool> row = s.Step();
  if (!row) return row.error();
  if (!*row) return std::optional<EndpointsRecord>();
  return std::optional<EndpointsRecord>(
      EndpointsRecord{s.Text(0), s.Text(1), s.Time(2), s.Text(3)});
}

}  // namespace plexus
