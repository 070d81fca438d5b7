#include "db/database.h"

#include <sqlite3.h>

#include <fmt/format.h>

namespace avctl {

namespace {

std::string Shorten(const std::string& sql) {
  std::string s;
  for (char c : sql) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !s.empty() && s.back() == ' ') continue;
    s += c;
  }
  while (!s.empty() && s.front() == ' ') s.erase(s.begin());
  return s.size() > 120 ? s.substr(0, 117) + "..." : s;
}

}  // namespace

// ---------------- Database ----------------

Status Database::Error(int rc, const std::string& what, const std::string& sql) const {
  std::string msg = fmt::format("{}: {} (sqlite code {})", what, db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc), rc);
  if (!sql.empty()) msg += fmt::format(" in SQL: {}", Shorten(sql));
  Status s = (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) ? Status::Corruption(msg)
             : (rc == SQLITE_BUSY || rc == SQLITE_LOCKED || rc == SQLITE_READONLY || rc == SQLITE_CONSTRAINT)
                 ? Status::FailedPrecondition(msg)
                 : (rc == SQLITE_ERROR ? Status::InvalidArgument(msg) : Status::IOError(msg));
  return std::move(s).WithFile(path_);
}

Result<std::unique_ptr<Database>> Database::Open(const std::string& path, const DatabaseOptions& options) {
  sqlite3* raw = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // one connection per thread
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<Database> db(new Database(path, raw));
  if (rc != SQLITE_OK) return db->Error(rc, "cannot open database", "");
  sqlite3_extended_result_codes(raw, 0);
  sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  AVCTL_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  const bool in_memory = path.empty() || path == ":memory:";  // no WAL for memory databases
  if (!options.read_only && !in_memory) {
    if (options.wal) {
      auto st = db->Prepare("PRAGMA journal_mode = WAL");
      if (!st.ok()) return st.status();
      auto row = st->Step();
      if (!row.ok()) return row.status();
      if (!*row || st->ColumnText(0) != "wal") {
        return Status::FailedPrecondition("cannot switch to WAL journal mode").WithFile(path);
      }
      AVCTL_RETURN_IF_ERROR(db->Exec("PRAGMA synchronous = NORMAL"));
    }
  }
  // Touch the schema so that a file that is not a database fails here, not later.
  AVCTL_RETURN_IF_ERROR(db->Exec("SELECT count(*) FROM sqlite_master"));
  return db;
}

Database::~Database() {
  if (db_ != nullptr) sqlite3_close_v2(db_);
}

Status Database::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  sqlite3_free(err);  // sqlite3_errmsg below says the same
  if (rc != SQLITE_OK) return Error(rc, "SQL failed", sql);
  return Status::OK();
}

Result<Statement> Database::Prepare(const std::string& sql) const {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.c_str(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "cannot prepare statement", sql);
  return Statement(this, stmt, sql);
}

int64_t Database::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }
int64_t Database::Changes() const { return sqlite3_changes64(db_); }

// ---------------- Statement ----------------

Statement::Statement(Statement&& other) noexcept : db_(other.db_), stmt_(other.stmt_), sql_(std::move(other.sql_)) {
  other.stmt_ = nullptr;
}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = other.db_;
    stmt_ = other.stmt_;
    sql_ = std::move(other.sql_);
    other.stmt_ = nullptr;
  }
  return *this;
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Status Statement::BindResult(int rc, int index) {
  if (rc != SQLITE_OK) return db_->Error(rc, fmt::format("cannot bind parameter {}", index), sql_);
  return Status::OK();
}

Status Statement::BindInt(int index, int64_t value) { return BindResult(sqlite3_bind_int64(stmt_, index, value), index); }
Status Statement::BindDouble(int index, double value) { return BindResult(sqlite3_bind_double(stmt_, index, value), index); }
Status Statement::BindText(int index, std::string_view value) {
  return BindResult(sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8), index);
}
Status Statement::BindBlob(int index, const void* data, size_t size) {
  return BindResult(sqlite3_bind_blob64(stmt_, index, data, size, SQLITE_TRANSIENT), index);
}
Status Statement::BindNull(int index) { return BindResult(sqlite3_bind_null(stmt_, index), index); }

Result<int> Statement::ParamIndex(const std::string& name) const {
  int i = sqlite3_bind_parameter_index(stmt_, name.c_str());
  if (i == 0) return Status::NotFound(fmt::format("no parameter {} in SQL: {}", name, Shorten(sql_)));
  return i;
}

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
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

Status Statement::Reset() {
  int rc = sqlite3_reset(stmt_);
  if (rc != SQLITE_OK) return db_->Error(rc, "cannot reset statement", sql_);
  return Status::OK();
}

int Statement::ColumnCount() const { return sqlite3_column_count(stmt_); }
bool Statement::ColumnIsNull(int c) const { return sqlite3_column_type(stmt_, c) == SQLITE_NULL; }
int64_t Statement::ColumnInt(int c) const { return sqlite3_column_int64(stmt_, c); }
double Statement::ColumnDouble(int c) const { return sqlite3_column_double(stmt_, c); }
std::string Statement::ColumnText(int c) const {
  const unsigned char* t = sqlite3_column_text(stmt_, c);
  return t ? std::string(reinterpret_cast<const char*>(t), static_cast<size_t>(sqlite3_column_bytes(stmt_, c))) : "";
}
std::vector<uint8_t> Statement::ColumnBlob(int c) const {
  const auto* p = static_cast<const uint8_t*>(sqlite3_column_blob(stmt_, c));
  int n = sqlite3_column_bytes(stmt_, c);
  return p ? std::vector<uint8_t>(p, p + n) : std::vector<uint8_t>();
}

// ---------------- Transaction ----------------

Result<Transaction> Transaction::Begin(Database* db, Mode mode) {
  AVCTL_RETURN_IF_ERROR(db->Exec(mode == Mode::kImmediate ? "BEGIN IMMEDIATE" : "BEGIN DEFERRED"));
  return Transaction(db);
}

Status Transaction::Commit() {
  if (db_ == nullptr) return Status::FailedPrecondition("transaction already finished");
  Status s = db_->Exec("COMMIT");
  if (s.ok()) db_ = nullptr;  // on failure the destructor rolls back
  return s;
}

Transaction::~Transaction() {
  if (db_ != nullptr) (void)db_->Exec("ROLLBACK");  // nothing more to do if the rollback itself fails
}

// ---------------- Migrations ----------------

Result<int64_t> UserVersion(Database* db) {
  AVCTL_ASSIGN_OR_RETURN(Statement st, db->Prepare("PRAGMA user_version"));
  AVCTL_ASSIGN_OR_RETURN(bool row, st.Step());
  if (!row) return Status::Internal("PRAGMA user_version returned no row").WithFile(db->path());
  return st.ColumnInt(0);
}

Status Migrate(Database* db, const std::vector<std::string>& steps) {
  AVCTL_ASSIGN_OR_RETURN(int64_t version, UserVersion(db));
  const int64_t known = static_cast<int64_t>(steps.size());
  if (version > known) {
    return Status::FailedPrecondition(fmt::format("database schema version {} is newer than this avctl knows ({}): "
                                                  "upgrade avctl",
                                                  version, known))
        .WithFile(db->path());
  }
  for (int64_t v = version; v < known; ++v) {
    AVCTL_ASSIGN_OR_RETURN(Transaction tx, Transaction::Begin(db));
    Status s = db->Exec(steps[static_cast<size_t>(v)]);
    if (!s.ok()) return std::move(s).Annotate(fmt::format("migration {} -> {}", v, v + 1));
    AVCTL_RETURN_IF_ERROR(db->Exec(fmt::format("PRAGMA user_version = {}", v + 1)));
    AVCTL_RETURN_IF_ERROR(tx.Commit());
  }
  return Status::OK();
}

}  // namespace avctl
