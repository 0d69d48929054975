// SQLite helpers shared by the RegistryStorage implementation files
// (storage.cc, storage_documents.cc): prepared statements with bound
// parameters and IMMEDIATE transactions. Internal to src/registry/.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <string>
#include <string_view>

#include "base/bytes.h"
#include "base/result.h"
#include "registry/token.h"

namespace plexus::registry_sql {

inline Error SqliteError(sqlite3* db, std::string_view op) {
  return MakeError("{}: {}", op, sqlite3_errmsg(db));
}

// Runs SQL without parameters (pragmas, transaction control, DDL).
inline Status Exec(sqlite3* db, const char* sql, std::string_view op) {
  if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return SqliteError(db, op);
  return Ok();
}

// A prepared statement; errors name the operation `op`.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql, std::string_view op) : db_(db), op_(op) {
    if (sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr) != SQLITE_OK) stmt_ = nullptr;
  }
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status prepared() const { return stmt_ ? Ok() : Status(Fail()); }
  Error Fail() const { return SqliteError(db_, op_); }

  void Bind(int i, std::string_view text) {
    sqlite3_bind_text(stmt_, i, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, const std::string& text) { Bind(i, std::string_view{text}); }
  void Bind(int i, const char* text) { Bind(i, std::string_view{text}); }
  void Bind(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
  void Bind(int i, UnixSeconds t) { Bind(i, static_cast<int64_t>(t.time_since_epoch().count())); }
  void Bind(int i, ByteSpan b) {
    sqlite3_bind_blob(stmt_, i, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
  }
  void BindNull(int i) { sqlite3_bind_null(stmt_, i); }

  // true: a row is ready; false: done.
  Result<bool> Step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    return Fail();
  }
  // Steps a statement that returns no rows.
  Status Run() {
    Result<bool> r = Step();
    if (!r) return r.error();
    return Ok();
  }

  bool IsNull(int i) { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  int64_t Int(int i) { return sqlite3_column_int64(stmt_, i); }
  UnixSeconds Time(int i) { return UnixSeconds(std::chrono::seconds(Int(i))); }
  std::string Text(int i) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, i))) : std::string();
  }
  ByteSpan Blob(int i) {
    const void* p = sqlite3_column_blob(stmt_, i);
    return {static_cast<const std::byte*>(p), static_cast<size_t>(sqlite3_column_bytes(stmt_, i))};
  }

 private:
  sqlite3* db_;
  std::string_view op_;
  sqlite3_stmt* stmt_ = nullptr;
};

// BEGIN IMMEDIATE on construction (takes the write lock at once, so a
// read-then-write never fails halfway on a busy database); ROLLBACK on
// destruction unless committed.
class Transaction {
 public:
  Transaction(sqlite3* db, std::string_view op) : db_(db), op_(op) {
    begun_ = Exec(db, "BEGIN IMMEDIATE", op);
  }
  ~Transaction() {
    if (begun_.ok() && !committed_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;

  const Status& begun() const { return begun_; }
  Status Commit() {
    Status s = Exec(db_, "COMMIT", op_);
    committed_ = s.ok();
    return s;
  }

 private:
  sqlite3* db_;
  std::string_view op_;
  Status begun_;
  bool committed_ = false;
};

// Runs `body` (returning Result<T> or Status) in a transaction; commits if it succeeds.
template <typename F>
auto InTransaction(sqlite3* db, std::string_view op, F&& body) -> decltype(body()) {
  Transaction tx(db, op);
  if (!tx.begun()) return tx.begun().error();
  auto result = body();
  if (!result) return result;
  if (Status s = tx.Commit(); !s) return s.error();
  return result;
}

}  // namespace plexus::registry_sql
