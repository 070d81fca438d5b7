// SQLite access for avctl: an RAII connection (WAL, busy timeout, foreign
// keys), prepared statements, transactions and schema migrations by
// PRAGMA user_version. Every error carries sqlite3_errmsg, the SQL
// (shortened) and, as its file(), the database path.
//
// Threading: a Database and its Statements belong to one thread at a time
// (the connection is opened without SQLite's own mutex). Processes and
// threads that share a file each open their own Database; WAL lets readers
// proceed while one writer writes, and a writer that finds the database
// locked waits up to busy_timeout_ms before failing.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "common/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace avctl {

struct DatabaseOptions {
  bool read_only = false;      // open an existing file without write access
  int busy_timeout_ms = 5000;  // wait this long for a lock before SQLITE_BUSY
  bool wal = true;             // journal_mode=WAL with synchronous=NORMAL (else the defaults: DELETE, FULL)
  bool foreign_keys = true;    // enforce FOREIGN KEY constraints
};

class Database;

// A prepared statement (move-only). It must not outlive the Database that
// prepared it. Parameters are 1-based, as in SQLite, or named (":name",
// "@name", "$name", with the prefix); columns are 0-based.
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
  // The same by parameter name; NotFound if the SQL has no such parameter.
  Status BindInt(const std::string& name, int64_t value);
  Status BindDouble(const std::string& name, double value);
  Status BindText(const std::string& name, std::string_view value);
  Status BindBlob(const std::string& name, const void* data, size_t size);
  Status BindNull(const std::string& name);
  // The index of a named parameter; NotFound if absent.
  Result<int> ParamIndex(const std::string& name) const;

  // True when a row is available (read it with the Column getters), false
  // when the statement has finished.
  Result<bool> Step();
  // Steps to completion (for statements that return no rows).
  Status Run();
  // Makes the statement ready to step again from the start; bindings are
  // kept (bind again to change them). Cannot fail: an error of the last
  // Step() was reported by that Step().
  void Reset();

  // Column getters read the current row. REQUIRES: the last Step() returned
  // true and 0 <= column < ColumnCount(). A NULL reads as 0 or empty.
  int ColumnCount() const;
  bool ColumnIsNull(int column) const;
  int64_t ColumnInt(int column) const;
  double ColumnDouble(int column) const;
  std::string ColumnText(int column) const;
  std::vector<uint8_t> ColumnBlob(int column) const;

  const std::string& sql() const { return sql_; }

 private:
  friend class Database;
  Statement(const Database* db, sqlite3_stmt* stmt, std::string sql) : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Status BindResult(int rc, int index) const;

  const Database* db_;  // not owned
  sqlite3_stmt* stmt_;  // owned; null once moved from
  std::string sql_;
};

// Binding one value by its C++ type: integers and bool as INTEGER, floating
// point as REAL, text as TEXT, nullptr and an empty std::optional as NULL.
template <typename T>
Status BindValue(Statement& s, int index, const T& v) {
  if constexpr (std::is_same_v<T, std::nullptr_t>) {
    return s.BindNull(index);
  } else if constexpr (std::is_integral_v<T>) {
    return s.BindInt(index, static_cast<int64_t>(v));
  } else if constexpr (std::is_floating_point_v<T>) {
    return s.BindDouble(index, static_cast<double>(v));
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    return s.BindText(index, std::string_view(v));
  } else {
    static_assert(std::is_same_v<T, std::optional<typename T::value_type>>, "BindValue: an unsupported type");
    return v.has_value() ? BindValue(s, index, *v) : s.BindNull(index);
  }
}

// Binds `values` to the parameters 1, 2, ... in order; the first failure is
// returned (naming the parameter and the SQL):
//   AVCTL_RETURN_IF_ERROR(BindRow(*q, job_id, worker, now));
template <typename... T>
Status BindRow(Statement& s, const T&... values) {
  Status st;
  int index = 0;
  ((st = st.ok() ? BindValue(s, ++index, values) : st), ...);
  return st;
}

// One connection to one database file; not copyable or movable (Open hands
// out a unique_ptr), since Statements and Transactions point to it.
class Database {
 public:
  // Opens (and, unless read_only, creates) the database at `path` and applies
  // `options`. A missing directory, a file that is not a database or a
  // failure to switch to WAL is an error naming the path.
  static Result<std::unique_ptr<Database>> Open(const std::string& path, const DatabaseOptions& options);
  static Result<std::unique_ptr<Database>> Open(const std::string& path) { return Open(path, DatabaseOptions()); }
  ~Database();

  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  // Runs a script: one or more ';'-separated statements; rows are discarded.
  Status Exec(const std::string& sql);

  // Transaction control, run from statements prepared once per connection
  // (a busy coordinator begins and releases a savepoint per job).
  enum class Control { kBeginImmediate, kBeginDeferred, kCommit, kRollback, kSavepoint, kRelease, kRollbackTo, kCount };
  Status ExecControl(Control what);
  // Prepares exactly one statement; empty SQL or SQL holding more than one
  // statement is InvalidArgument.
  Result<Statement> Prepare(const std::string& sql) const;

  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  // True between BEGIN and COMMIT/ROLLBACK.
  bool InTransaction() const;
  const std::string& path() const { return path_; }

  // The last failure of this connection that says its storage is in trouble
  // (SQLITE_FULL: the disk or max_page_count is full; SQLITE_IOERR), OK if
  // none since the last call. A caller that batches several changes in one
  // transaction rolls the batch back instead of committing part of it.
  Status TakeStorageFailure();

 private:
  friend class Statement;
  Database(std::string path, sqlite3* db) : path_(std::move(path)), db_(db) {}

  // An error for result code `rc`: "what: <sqlite3_errmsg> (sqlite code N)
  // in SQL: <sql, shortened>", with file() = the path.
  Status Error(int rc, const std::string& what, const std::string& sql) const;

  std::string path_;
  sqlite3* db_;  // owned
  mutable Status storage_failure_;  // set by Error()
  sqlite3_stmt* control_[static_cast<int>(Control::kCount)] = {};  // owned, prepared on first use
};

// A transaction on a Database, which must outlive it:
//   AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
//   ... statements ...
//   AVCTL_RETURN_IF_ERROR(tx.Commit());
// A transaction neither committed nor rolled back is rolled back by the
// destructor. Immediate mode (the default) takes the write lock at BEGIN, so
// a busy database fails there (after the busy timeout) rather than midway.
// Begun inside another transaction, it is a savepoint: its rollback undoes
// only its own changes, and its commit becomes durable with the outer one
// (the coordinator commits a batch of state changes at once this way).
class Transaction {
 public:
  enum class Mode { kDeferred, kImmediate };
  static Result<Transaction> Begin(Database* db, Mode mode = Mode::kImmediate);

  Transaction(Transaction&& other) noexcept : db_(other.db_), nested_(other.nested_) { other.db_ = nullptr; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();

  // On failure the transaction stays open and the destructor rolls it back.
  Status Commit();
  Status Rollback();

 private:
  Transaction(Database* db, bool nested) : db_(db), nested_(nested) {}
  Database* db_;  // not owned; null once committed or rolled back
  bool nested_;   // a savepoint in an enclosing transaction
};

// PRAGMA user_version: the number of migration steps applied.
Result<int64_t> UserVersion(Database* db);

// Brings the schema to version steps.size(): applies steps[user_version ..]
// in order, each (an Exec script) in its own immediate transaction together
// with the user_version bump, so a failing step changes nothing and the
// error names the step, its SQL and the path. The version is re-read under
// the write lock, so processes migrating at once apply each step once. A
// database whose user_version is above steps.size() was written by a newer
// avctl and is refused (FailedPrecondition naming both versions). An
// up-to-date database is left alone (read-only ones included). Steps run
// inside a transaction: no VACUUM, and PRAGMA foreign_keys has no effect.
Status Migrate(Database* db, const std::vector<std::string>& steps);

}  // namespace avctl
