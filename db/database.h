// SQLite access for avctl: an RAII connection (WAL, busy timeout, foreign
// keys), prepared statements, transactions and schema migrations by
// PRAGMA user_version. Every error carries sqlite3_errmsg, the SQL (shortened)
// and the database path.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace avctl {

struct DatabaseOptions {
  bool read_only = false;
  int busy_timeout_ms = 5000;  // wait this long for a lock before SQLITE_BUSY
  bool wal = true;             // journal_mode=WAL with synchronous=NORMAL
};

class Database;

// A prepared statement (move-only). Parameters are 1-based, as in SQLite.
class Statement {
 public:
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Status BindInt(int index, int64_t value);
  Status BindDouble(int index, double value);
  Status BindText(int index, std::string_view value);
  Status BindBlob(int index, const void* data, size_t size);
  Status BindNull(int index);
  // Index of a named parameter (":name"); NotFound if absent.
  Result<int> ParamIndex(const std::string& name) const;

  // True when a row is available, false when done.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // Ready to step again; bindings are kept.
  Status Reset();

  int ColumnCount() const;
  bool ColumnIsNull(int column) const;  // 0-based columns
  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::vector<uint8_t> ColumnBlob(int column) const;

  const std::string& sql() const { return sql_; }

 private:
  friend class Database;
  Statement(const Database* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Status BindResult(int rc, int index);

  const Database* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const DatabaseOptions& options);
  static Result<std::unique_ptr<Database>> Open(const std::string& path) { return Open(path, DatabaseOptions()); }
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs one or more statements that return no rows.
  Status Exec(const std::string& sql);
  Result<Statement> Prepare(const std::string& sql) const;

  int64_t LastInsertRowId() const;
  int64_t Changes() const;
  const std::string& path() const { return path_; }

  // An error for `rc` with sqlite3_errmsg, the shortened SQL and the path.
  Status Error(int rc, const std::string& what, const std::string& sql) const;

 private:
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  std::string path_;
  sqlite3* db_;
};

// BEGIN IMMEDIATE (or DEFERRED) ... COMMIT; rolls back if destroyed uncommitted.
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  static Result<Transaction> Begin(Database* db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept : db_(other.db_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  Status Commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;  // null once committed or rolled back
};

Result<int64_t> UserVersion(Database* db);

// Applies steps[user_version ..] in order, each in its own transaction
// together with the user_version bump. A database whose user_version is
// newer than steps.size() is refused (it was written by a newer avctl).
Status Migrate(Database* db, const std::vector<std::string>& steps);

}  // namespace avctl
