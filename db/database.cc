#include "db/database.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace avctl {

namespace {

constexpr size_t kMaxSqlInErrors = 120;

// The SQL on one line, whitespace runs collapsed, clipped for error messages.
std::string Shorten(const std::string& sql) {
  std::string s;
  for (char c : sql) {
    if (c == '\n' || c == '\r' || c == '\t') c = ' ';
    if (c == ' ' && (s.empty() || s.back() == ' ')) continue;
    s += c;
  }
  while (!s.empty() && s.back() == ' ') s.pop_back();
  return s.size() > kMaxSqlInErrors ? s.substr(0, kMaxSqlInErrors - 3) + "..." : s;
}

Status StatusForCode(int rc, std::string msg) {
  switch (rc & 0xFF) {  // primary result code
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(msg));
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_CONSTRAINT:
      return Status::FailedPrecondition(std::move(msg));
    case SQLITE_ERROR:  // SQL error or missing database object
    case SQLITE_RANGE:
    case SQLITE_MISMATCH:
    case SQLITE_TOOBIG:
      return Status::InvalidArgument(std::move(msg));
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL:
      return Status::Internal(std::move(msg));
    default:
      return Status::IOError(std::move(msg));
  }
}

}  // namespace

// ---------------- Database ----------------

Status Database::Error(int rc, const std::string& what, const std::string& sql) const {
  // sqlite3_errmsg describes the most recent failure on this connection,
  // which is the one being reported; without a connection, use the code.
  std::string msg = fmt::format("{}: {} (sqlite code {})", what, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc), rc);
  if (!sql.empty()) msg += fmt::format(" in SQL: {}", Shorten(sql));
  Status st = StatusForCode(rc, std::move(msg)).WithFile(path_);
  const int primary = rc & 0xFF;
  if (primary == SQLITE_FULL || primary == SQLITE_IOERR) storage_failure_ = st;
  return st;
}

Status Database::TakeStorageFailure() {
  Status st = std::move(storage_failure_);
  storage_failure_ = Status::OK();
  return st;
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const DatabaseOptions& options) {
  if (options.busy_timeout_ms < 0) {
    return Status::InvalidArgument(fmt::format("busy_timeout_ms must be >= 0, got {}", options.busy_timeout_ms))
        .WithFile(path);
  }
  sqlite3* raw = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // one thread at a time per connection
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  // Owns `raw` from here on, even when opening failed (SQLite still hands
  // out a handle that must be closed, and that holds the error message).
  std::unique_ptr<Database> db(new Database(path, raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open database", "");
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  AVCTL_RETURN_IF_ERROR(db->Exec(options.foreign_keys ? "PRAGMA foreign_keys = ON" : "PRAGMA foreign_keys = OFF"));
  // Read the schema so that a file that is not a database fails here, not at
  // the first query.
  AVCTL_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_schema"));
  const bool in_memory = path.empty() || path == ":memory:";  // WAL does not apply
  if (options.wal && !options.read_only && !in_memory) {
    AVCTL_ASSIGN_OR_RETURN(Statement st, db->Prepare("PRAGMA journal_mode = WAL"));
    AVCTL_ASSIGN_OR_RETURN(bool row, st.Step());
    const std::string mode = row ? st.ColumnText(0) : "(no result)";
    if (mode != "wal") {
      return Status::FailedPrecondition(fmt::format("cannot switch to WAL journal mode: still {}", mode))
          .WithFile(path);
    }
    AVCTL_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));  // durable at checkpoints; safe under WAL
  }
  return db;
}

Database::~Database() {
  // close_v2 defers the close until the last statement is finalized, so a
  // statement that wrongly outlives its Database does not crash here.
  for (sqlite3_stmt* stmt : control_) sqlite3_finalize(stmt);  // a null statement is a no-op
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::ExecControl(Control what) {
  static constexpr const char* kSql[] = {"BEGIN IMMEDIATE", "BEGIN DEFERRED", "COMMIT", "ROLLBACK",
                                         "SAVEPOINT avctl_nested", "RELEASE avctl_nested",
                                         "ROLLBACK TO avctl_nested"};
  static_assert(sizeof(kSql) / sizeof(kSql[0]) == static_cast<size_t>(Control::kCount));
  const char* sql = kSql[static_cast<int>(what)];
  sqlite3_stmt*& stmt = control_[static_cast<int>(what)];
  if (stmt == nullptr) {
    const int rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
    if (rc != SQLITE_OK) return Error(rc, "cannot prepare statement", sql);
  }
  const int rc = sqlite3_step(stmt);
  Status s = rc == SQLITE_DONE ? Status::OK() : Error(rc, "SQL failed", sql);  // before the reset clears the message
  sqlite3_reset(stmt);
  return s;
}

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // the same text as sqlite3_errmsg, used by Error()
  if (rc != SQLITE_OK) return Error(rc, "SQL failed", sql);
  return Status::OK();
}

Result<Statement> Database::Prepare(const std::string& sql) const {
  sqlite3_stmt* stmt = nullptr;
  const char* tail = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, &tail);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare statement", sql);
  Statement st(this, stmt, sql);  // finalizes stmt on every path below
  if (stmt == nullptr) {
    return Status::InvalidArgument(fmt::format("no SQL statement in \"{}\"", Shorten(sql))).WithFile(path_);
  }
  // Whatever follows the first statement must be whitespace or comments:
  // preparing it must yield no statement.
  const size_t consumed = static_cast<size_t>(tail - sql.c_str());
  if (consumed < sql.size()) {
    sqlite3_stmt* extra = nullptr;
    rc = sqlite3_prepare_v2(db_, tail, static_cast<int>(sql.size() - consumed), &extra, nullptr);
    sqlite3_finalize(extra);
    if (rc != SQLITE_OK || extra != nullptr) {
      return Status::InvalidArgument(
                 fmt::format("Prepare takes one statement, got more (use Exec for scripts) in SQL: {}", Shorten(sql)))
          .WithFile(path_);
    }
  }
  return st;
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::Changes() const { return sqlite3_changes64(db_); }
bool Database::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

// ---------------- Statement ----------------

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), sql_(std::move(other.sql_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);  // a no-op on null
    db_ = other.db_;
    stmt_ = other.stmt_;
    sql_ = std::move(other.sql_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::BindResult(int rc, int index) const {
  if (rc != SQLITE_OK) return db_->Error(rc, fmt::format("cannot bind parameter {}", index), sql_);
  return Status::OK();
}

Status Statement::BindInt(int index, int64_t value) { return BindResult(sqlite3_bind_int64(stmt_, index, value), index); }

Status Statement::BindDouble(int index, double value) {
  return BindResult(sqlite3_bind_double(stmt_, index, value), index);
}

Status Statement::BindText(int index, std::string_view value) {
  return BindResult(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8),
                    index);
}

Status Statement::BindBlob(int index, const void* data, size_t size) {
  // A null pointer would bind NULL; an empty blob is still a blob.
  static const uint8_t kEmpty = 0;
  if (data == nullptr && size == 0) data = &kEmpty;
  return BindResult(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT), index);
}

Status Statement::BindNull(int index) { return BindResult(sqlite3_bind_null(stmt_, index), index); }

Status Statement::BindInt(const std::string& name, int64_t value) {
  AVCTL_ASSIGN_OR_RETURN(int index, ParamIndex(name));
  return BindInt(index, value);
}

Status Statement::BindDouble(const std::string& name, double value) {
  AVCTL_ASSIGN_OR_RETURN(int index, ParamIndex(name));
  return BindDouble(index, value);
}

Status Statement::BindText(const std::string& name, std::string_view value) {
  AVCTL_ASSIGN_OR_RETURN(int index, ParamIndex(name));
  return BindText(index, value);
}

Status Statement::BindBlob(const std::string& name, const void* data, size_t size) {
  AVCTL_ASSIGN_OR_RETURN(int index, ParamIndex(name));
  return BindBlob(index, data, size);
}

Status Statement::BindNull(const std::string& name) {
  AVCTL_ASSIGN_OR_RETURN(int index, ParamIndex(name));
  return BindNull(index);
}

Result<int> Statement::ParamIndex(const std::string& name) const {
  const int i = sqlite3_bind_parameter_index(stmt_, name.c_str());
  if (i == 0) {
    return Status::NotFound(fmt::format("no parameter {} in SQL: {}", name, Shorten(sql_))).WithFile(db_->path());
  }
  return i;
}

Result<bool> Statement::Step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_->Error(rc, "statement failed", sql_);
}

Status Statement::Run() {
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::OK();
  }
}

void Statement::Reset() {
  // sqlite3_reset's result only repeats the error of a failed last step,
  // which Step() has reported; the statement is reset regardless.
  sqlite3_reset(stmt_);
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }
bool Statement::ColumnIsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
int64_t Statement::ColumnInt(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::ColumnDouble(int c) const { return sqlite3_column_double(stmt_, c); }

std::string Statement::ColumnText(int c) const {
  // Fetch the pointer first: column_bytes then reports the size of that form.
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  const int n = sqlite3_column_bytes(stmt_, c);
  return t != nullptr ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(n)) : std::string();
}

std::vector<uint8_t> Statement::ColumnBlob(int c) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, c));
  const int n = sqlite3_column_bytes(stmt_, c);
  return p != nullptr ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>();
}

// ---------------- Transaction ----------------

Result<Transaction> Transaction::Begin(Database* db, Mode mode) {
  if (db->InTransaction()) {  // nested: a savepoint inside the enclosing transaction
    AVCTL_RETURN_IF_ERROR(db->ExecControl(Database::Control::kSavepoint));
    return Transaction(db, true);
  }
  AVCTL_RETURN_IF_ERROR(db->ExecControl(mode == Mode::kImmediate ? Database::Control::kBeginImmediate
                                                                  : Database::Control::kBeginDeferred));
  return Transaction(db, false);
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Status::FailedPrecondition("transaction already committed or rolled back");
  // On failure db_ stays set: the destructor rolls back.
  AVCTL_RETURN_IF_ERROR(db_->ExecControl(nested_ ? Database::Control::kRelease : Database::Control::kCommit));
  db_ = nullptr;
  return Status::OK();
}

Status Transaction::Rollback() {
  if (db_ == nullptr) return Status::FailedPrecondition("transaction already committed or rolled back");
  Database* db = db_;
  db_ = nullptr;
  // Some errors (a full disk, an interrupt) make SQLite roll back by itself;
  // then there is nothing left to undo.
  if (!db->InTransaction()) return Status::OK();
  if (!nested_) return db->ExecControl(Database::Control::kRollback);
  AVCTL_RETURN_IF_ERROR(db->ExecControl(Database::Control::kRollbackTo));
  return db->ExecControl(Database::Control::kRelease);
}

Transaction::~Transaction() {
  if (db_ == nullptr) return;
  // A destructor cannot report a failed ROLLBACK. SQLite only refuses one
  // when the connection is unusable, and then the next BEGIN on it fails
  // with a message of its own; call Rollback() to see the error here.
  Status ignored = Rollback();
  (void)ignored;
}

// ---------------- Migrations ----------------

Result<int64_t> UserVersion(Database* db) {
  AVCTL_ASSIGN_OR_RETURN(Statement st, db->Prepare("PRAGMA user_version"));
  AVCTL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("PRAGMA user_version returned no row").WithFile(db->path());
  return st.ColumnInt(0);
}

namespace {

Status NewerSchema(const Database& db, int64_t version, int64_t known) {
  return Status::FailedPrecondition(fmt::format(
                                        "database schema version {} is newer than this avctl knows ({}); "
                                        "it was written by a newer avctl",
                                        version, known))
      .WithFile(db.path());
}

}  // namespace

Status Migrate(Database* db, const std::vector<std::string>& steps) {
  const int64_t known = static_cast<int64_t>(steps.size());
  // Without the write lock first, so that an up-to-date database (possibly
  // opened read-only) is not locked at all.
  AVCTL_ASSIGN_OR_RETURN(int64_t version, UserVersion(db));
  if (version > known) return NewerSchema(*db, version, known);
  while (version < known) {
    AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db, Transaction::Mode::kImmediate));
    // Another process may have migrated while we waited for the lock.
    AVCTL_ASSIGN_OR_RETURN(version, UserVersion(db));
    if (version > known) return NewerSchema(*db, version, known);
    if (version == known) return tx.Commit();
    const std::string what = fmt::format("migration {} -> {}", version, version + 1);
    Status s = db->Exec(steps[static_cast<size_t>(version)]);
    if (!s.ok()) return std::move(s).Annotate(what);
    s = db->Exec(fmt::format("PRAGMA user_version = {}", version + 1));
    if (!s.ok()) return std::move(s).Annotate(what);
    s = tx.Commit();
    if (!s.ok()) return std::move(s).Annotate(what);
    ++version;
  }
  return Status::OK();
}

}  // namespace avctl
