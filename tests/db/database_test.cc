#include "db/database.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace avctl {
namespace {

namespace fs = std::filesystem;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::path(::testing::TempDir()) / "avctl-db-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr) << "mkdtemp " << tmpl;
    dir_ = tmpl;
    path_ = (dir_ / "test.db").string();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::unique_ptr<Database> OpenOrDie(const DatabaseOptions& options = {}) {
    auto db = Database::Open(path_, options);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  // The single integer a query returns (-1 and a failure if it does not).
  static int64_t QueryInt(Database* db, const std::string& sql) {
    auto st = db->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return -1;
    auto row = st->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? st->ColumnInt(0) : -1;
  }

  static std::string QueryText(Database* db, const std::string& sql) {
    auto st = db->Prepare(sql);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    if (!st.ok()) return "";
    auto row = st->Step();
    EXPECT_TRUE(row.ok() && *row) << sql;
    return row.ok() && *row ? st->ColumnText(0) : "";
  }

  fs::path dir_;
  std::string path_;
};

// ---------- opening ----------

TEST_F(DatabaseTest, CreatesTheFileInWalModeWithPragmasSet) {
  ASSERT_FALSE(fs::exists(path_));
  auto db = OpenOrDie();
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(fs::exists(path_));
  EXPECT_EQ(db->path(), path_);
  EXPECT_EQ(QueryText(db.get(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA busy_timeout"), 5000);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA synchronous"), 1);  // NORMAL
  EXPECT_FALSE(db->InTransaction());
}

TEST_F(DatabaseTest, OptionsAreApplied) {
  DatabaseOptions o;
  o.busy_timeout_ms = 1234;
  o.wal = false;
  o.foreign_keys = false;
  auto db = OpenOrDie(o);
  ASSERT_NE(db, nullptr);
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA busy_timeout"), 1234);
  EXPECT_EQ(QueryText(db.get(), "PRAGMA journal_mode"), "delete");
  EXPECT_EQ(QueryInt(db.get(), "PRAGMA foreign_keys"), 0);

  DatabaseOptions bad;
  bad.busy_timeout_ms = -1;
  EXPECT_EQ(Database::Open(path_, bad).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DatabaseTest, ForeignKeysAreEnforced) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE parent (id INTEGER PRIMARY KEY);"
                       "CREATE TABLE child (parent_id INTEGER NOT NULL REFERENCES parent(id));")
                  .ok());
  Status s = db->Exec("INSERT INTO child VALUES (42)");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "FOREIGN KEY constraint failed")) << s.ToString();
}

TEST_F(DatabaseTest, MissingDirectoryFailsNamingThePath) {
  const std::string missing = (dir_ / "no" / "such" / "dir" / "x.db").string();
  auto db = Database::Open(missing);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().file(), missing);
  EXPECT_TRUE(Contains(db.status().message(), "cannot open database: unable to open database file"))
      << db.status().ToString();
  EXPECT_TRUE(Contains(db.status().ToString(), missing));
  EXPECT_FALSE(fs::exists(dir_ / "no"));
}

TEST_F(DatabaseTest, FileThatIsNotADatabaseIsCorruption) {
  std::ofstream(path_) << std::string(4096, 'x');
  auto db = Database::Open(path_);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(db.status().file(), path_);
  EXPECT_TRUE(Contains(db.status().message(), "not a database")) << db.status().ToString();
}

TEST_F(DatabaseTest, ReadOnlyCannotWriteNorCreate) {
  DatabaseOptions ro;
  ro.read_only = true;
  EXPECT_FALSE(Database::Open(path_, ro).ok()) << "read-only does not create";
  EXPECT_FALSE(fs::exists(path_));
  {
    auto db = OpenOrDie();
    ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (7);").ok());
  }
  auto db = Database::Open(path_, ro);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(QueryInt(db->get(), "SELECT x FROM t"), 7);
  Status s = (*db)->Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "attempt to write a readonly database")) << s.ToString();
  EXPECT_EQ(s.file(), path_);
  EXPECT_EQ(QueryInt(db->get(), "SELECT count(*) FROM t"), 1);
}

// ---------- statements ----------

TEST_F(DatabaseTest, BindStepAndColumnsRoundTrip) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  const std::string text("na\xC3\xAFve \0 text", 13);  // UTF-8 with an embedded NUL
  const uint8_t blob[] = {0, 1, 2, 255};
  ASSERT_TRUE(ins->BindInt(1, -(int64_t{1} << 40)).ok());
  ASSERT_TRUE(ins->BindDouble(2, 0.25).ok());
  ASSERT_TRUE(ins->BindText(3, text).ok());
  ASSERT_TRUE(ins->BindBlob(4, blob, sizeof blob).ok());
  ASSERT_TRUE(ins->BindNull(5).ok());
  ASSERT_TRUE(ins->Run().ok());
  EXPECT_EQ(db->LastInsertRowId(), 1);
  EXPECT_EQ(db->Changes(), 1);
  // Reset keeps the bindings: a second identical row.
  ins->Reset();
  ASSERT_TRUE(ins->BindBlob(4, nullptr, 0).ok());  // an empty blob, not NULL
  ASSERT_TRUE(ins->Run().ok());
  EXPECT_EQ(db->LastInsertRowId(), 2);

  auto sel = db->Prepare("SELECT i, d, s, b, n, typeof(b) FROM t ORDER BY rowid");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnCount(), 6);
  EXPECT_EQ(sel->ColumnInt(0), -(int64_t{1} << 40));
  EXPECT_EQ(sel->ColumnDouble(1), 0.25);
  EXPECT_EQ(sel->ColumnText(2), text);
  EXPECT_EQ(sel->ColumnBlob(3), (std::vector<uint8_t>{0, 1, 2, 255}));
  EXPECT_FALSE(sel->ColumnIsNull(3));
  EXPECT_TRUE(sel->ColumnIsNull(4));
  EXPECT_EQ(sel->ColumnText(4), "");
  EXPECT_EQ(sel->ColumnInt(4), 0);
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnInt(0), -(int64_t{1} << 40));
  EXPECT_TRUE(sel->ColumnBlob(3).empty());
  EXPECT_EQ(sel->ColumnText(5), "blob");
  EXPECT_FALSE(*sel->Step());
  sel->Reset();
  ASSERT_TRUE(*sel->Step()) << "steps again from the start after Reset";
  EXPECT_EQ(sel->ColumnDouble(1), 0.25);
}

TEST_F(DatabaseTest, BindByName) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (name TEXT, score REAL, n INTEGER, b BLOB, z TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (:name, :score, :n, :b, :z)");
  ASSERT_TRUE(ins.ok());
  auto index = ins->ParamIndex(":score");
  ASSERT_TRUE(index.ok());
  EXPECT_EQ(*index, 2);
  const char bytes[] = "xyz";
  ASSERT_TRUE(ins->BindText(":name", "anger").ok());
  ASSERT_TRUE(ins->BindDouble(":score", 0.5).ok());
  ASSERT_TRUE(ins->BindInt(":n", 3).ok());
  ASSERT_TRUE(ins->BindBlob(":b", bytes, 3).ok());
  ASSERT_TRUE(ins->BindNull(":z").ok());
  ASSERT_TRUE(ins->Run().ok());

  Status missing = ins->BindInt(":nope", 1);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_TRUE(Contains(missing.message(), "no parameter :nope in SQL: INSERT INTO t VALUES (:name"))
      << missing.ToString();
  EXPECT_FALSE(ins->ParamIndex("name").ok()) << "the prefix is part of the name";

  auto sel = db->Prepare("SELECT name, score, n, b, z FROM t WHERE name = :name");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(sel->BindText(":name", "anger").ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnText(0), "anger");
  EXPECT_EQ(sel->ColumnDouble(1), 0.5);
  EXPECT_EQ(sel->ColumnInt(2), 3);
  EXPECT_EQ(sel->ColumnBlob(3), (std::vector<uint8_t>{'x', 'y', 'z'}));
  EXPECT_TRUE(sel->ColumnIsNull(4));
}

TEST_F(DatabaseTest, BindIndexOutOfRangeIsAnError) {
  auto db = OpenOrDie();
  auto st = db->Prepare("SELECT ?1");
  ASSERT_TRUE(st.ok());
  Status s = st->BindInt(2, 1);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(s.message(), "cannot bind parameter 2")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "SELECT ?1")) << s.ToString();
}

TEST_F(DatabaseTest, BadSqlNamesTheSqlAndThePath) {
  auto db = OpenOrDie();
  Status s = db->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.file(), path_);
  EXPECT_TRUE(Contains(s.message(), "no such table: no_such_table")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "in SQL: SELECT * FROM no_such_table")) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_));

  auto p = db->Prepare("SELEKT 1");
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(Contains(p.status().message(), "cannot prepare statement")) << p.status().ToString();
  EXPECT_TRUE(Contains(p.status().message(), "syntax error")) << p.status().ToString();
  EXPECT_TRUE(Contains(p.status().message(), "SELEKT 1")) << p.status().ToString();
  EXPECT_EQ(p.status().file(), path_);

  // Long SQL is shown on one line and clipped.
  std::string long_sql = "SELECT\n  1,\n  2 FROM no_such_table WHERE " + std::string(300, 'x') + " = 1";
  Status l = db->Exec(long_sql);
  ASSERT_FALSE(l.ok());
  EXPECT_TRUE(Contains(l.message(), "in SQL: SELECT 1, 2 FROM no_such_table WHERE xxx")) << l.ToString();
  EXPECT_TRUE(Contains(l.message(), "...")) << l.ToString();
  EXPECT_LT(l.message().size(), 250u) << l.ToString();
}

TEST_F(DatabaseTest, StepErrorsNameTheSql) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER NOT NULL UNIQUE)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (?1)");
  ASSERT_TRUE(ins.ok());
  ASSERT_TRUE(ins->BindInt(1, 5).ok());
  ASSERT_TRUE(ins->Run().ok());
  ins->Reset();
  Status s = ins->Run();
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(s.message(), "UNIQUE constraint failed: t.x")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "INSERT INTO t VALUES (?1)")) << s.ToString();
  ins->Reset();
  ASSERT_TRUE(ins->BindInt(1, 6).ok());
  EXPECT_TRUE(ins->Run().ok()) << "usable again after a failed step";
}

TEST_F(DatabaseTest, PrepareTakesExactlyOneStatement) {
  auto db = OpenOrDie();
  auto two = db->Prepare("SELECT 1; SELECT 2");
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(two.status().message(), "one statement")) << two.status().ToString();
  auto empty = db->Prepare("  -- only a comment\n");
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kInvalidArgument);
  // Trailing semicolons, whitespace and comments are fine.
  auto one = db->Prepare("SELECT 1;  -- the answer\n");
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  ASSERT_TRUE(*one->Step());
  EXPECT_EQ(one->ColumnInt(0), 1);
}

TEST_F(DatabaseTest, ExecRunsScripts) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER);\n"
                       "INSERT INTO t VALUES (1);\n"
                       "INSERT INTO t VALUES (2);\n"
                       "SELECT * FROM t;  -- rows are discarded\n")
                  .ok());
  EXPECT_EQ(QueryInt(db.get(), "SELECT sum(x) FROM t"), 3);
}

TEST_F(DatabaseTest, StatementsMove) {
  auto db = OpenOrDie();
  auto a = db->Prepare("SELECT 7");
  ASSERT_TRUE(a.ok());
  Statement moved = std::move(*a);
  ASSERT_TRUE(*moved.Step());
  EXPECT_EQ(moved.ColumnInt(0), 7);
  auto b = db->Prepare("SELECT 8");
  ASSERT_TRUE(b.ok());
  moved = std::move(*b);  // finalizes the first
  ASSERT_TRUE(*moved.Step());
  EXPECT_EQ(moved.ColumnInt(0), 8);
  EXPECT_EQ(moved.sql(), "SELECT 8");
}

// ---------- transactions ----------

TEST_F(DatabaseTest, TransactionCommits) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER)").ok());
  {
    auto tx = Transaction::Begin(db.get());
    ASSERT_TRUE(tx.ok()) << tx.status().ToString();
    EXPECT_TRUE(db->InTransaction());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(db->InTransaction());
    EXPECT_EQ(tx->Commit().code(), StatusCode::kFailedPrecondition) << "a second commit is an error";
    EXPECT_FALSE(tx->Rollback().ok());
  }
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM t"), 1);
  // Visible to another connection.
  auto other = OpenOrDie();
  EXPECT_EQ(QueryInt(other.get(), "SELECT count(*) FROM t"), 1);
}

TEST_F(DatabaseTest, TransactionRollsBackOnDestructionOrRequest) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").ok());
  {
    auto tx = Transaction::Begin(db.get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2); DELETE FROM t WHERE x = 1;").ok());
    EXPECT_EQ(QueryInt(db.get(), "SELECT sum(x) FROM t"), 2) << "seen inside the transaction";
  }  // not committed
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(QueryInt(db.get(), "SELECT sum(x) FROM t"), 1);
  {
    auto tx = Transaction::Begin(db.get(), Transaction::Mode::kDeferred);
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (5)").ok());
    ASSERT_TRUE(tx->Rollback().ok());
    EXPECT_FALSE(db->InTransaction());
    EXPECT_FALSE(tx->Commit().ok()) << "nothing to commit after a rollback";
  }
  EXPECT_EQ(QueryInt(db.get(), "SELECT sum(x) FROM t"), 1);
  // A moved transaction rolls back once, from its new owner.
  {
    auto tx = Transaction::Begin(db.get());
    ASSERT_TRUE(tx.ok());
    Transaction owner = std::move(*tx);
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (9)").ok());
  }
  EXPECT_EQ(QueryInt(db.get(), "SELECT sum(x) FROM t"), 1);
}

TEST_F(DatabaseTest, SecondWriterWaitsForTheBusyTimeoutThenFails) {
  auto a = OpenOrDie();
  DatabaseOptions quick;
  quick.busy_timeout_ms = 50;
  auto b = OpenOrDie(quick);
  ASSERT_TRUE(a->Exec("CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1);").ok());
  auto tx = Transaction::Begin(a.get());
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE(a->Exec("INSERT INTO t VALUES (2)").ok());
  auto tx2 = Transaction::Begin(b.get());
  ASSERT_FALSE(tx2.ok());
  EXPECT_EQ(tx2.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_TRUE(Contains(tx2.status().message(), "database is locked")) << tx2.status().ToString();
  EXPECT_EQ(tx2.status().file(), path_);
  // WAL: the reader is not blocked and sees the last committed state.
  EXPECT_EQ(QueryInt(b.get(), "SELECT count(*) FROM t"), 1);
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(QueryInt(b.get(), "SELECT count(*) FROM t"), 2);
}

// ---------- migrations ----------

const std::vector<std::string> kSteps = {
    "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE sweeps ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX sweeps_by_name ON sweeps(name);\n"
    "CREATE TABLE runs (id INTEGER PRIMARY KEY, sweep_id INTEGER NOT NULL REFERENCES sweeps(id));",
};

TEST_F(DatabaseTest, MigratesFromZeroToN) {
  auto db = OpenOrDie();
  auto v0 = UserVersion(db.get());
  ASSERT_TRUE(v0.ok());
  EXPECT_EQ(*v0, 0);
  Status s = Migrate(db.get(), kSteps);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*UserVersion(db.get()), 3);
  ASSERT_TRUE(db->Exec("INSERT INTO sweeps(name, priority) VALUES ('a', 2); INSERT INTO runs(sweep_id) VALUES (1);")
                  .ok());
  EXPECT_FALSE(db->InTransaction());
  // Another connection sees the schema.
  auto other = OpenOrDie();
  EXPECT_EQ(*UserVersion(other.get()), 3);
  EXPECT_EQ(QueryInt(other.get(), "SELECT priority FROM sweeps"), 2);
}

TEST_F(DatabaseTest, MigratesStepByStepAndRerunningIsANoOp) {
  auto db = OpenOrDie();
  ASSERT_TRUE(Migrate(db.get(), {kSteps[0]}).ok());
  EXPECT_EQ(*UserVersion(db.get()), 1);
  ASSERT_TRUE(db->Exec("INSERT INTO sweeps(name) VALUES ('a')").ok());
  ASSERT_TRUE(Migrate(db.get(), kSteps).ok());
  EXPECT_EQ(*UserVersion(db.get()), 3);
  // Re-running would fail if any step ran again (CREATE TABLE sweeps exists).
  Status again = Migrate(db.get(), kSteps);
  ASSERT_TRUE(again.ok()) << again.ToString();
  EXPECT_EQ(*UserVersion(db.get()), 3);
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM sweeps"), 1);
  // From a second connection too.
  auto other = OpenOrDie();
  EXPECT_TRUE(Migrate(other.get(), kSteps).ok());
}

TEST_F(DatabaseTest, FailingStepLeavesVersionAndDataUnchanged) {
  auto db = OpenOrDie();
  ASSERT_TRUE(Migrate(db.get(), {kSteps[0]}).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO sweeps(name) VALUES ('keep me')").ok());
  // The step alters, drops, then hits a syntax error: all of it must be undone.
  const std::vector<std::string> bad = {
      kSteps[0],
      "ALTER TABLE sweeps ADD COLUMN x INTEGER; DELETE FROM sweeps; DROP TABLE sweeps; SELEC oops",
      "CREATE TABLE never (x INTEGER)",
  };
  Status s = Migrate(db.get(), bad);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s.message(), "migration 1 -> 2")) << s.ToString();
  EXPECT_TRUE(Contains(s.message(), "SELEC oops")) << "the error names the SQL: " << s.ToString();
  EXPECT_EQ(s.file(), path_);
  EXPECT_FALSE(db->InTransaction());
  EXPECT_EQ(*UserVersion(db.get()), 1);
  EXPECT_EQ(QueryText(db.get(), "SELECT name FROM sweeps"), "keep me");
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM pragma_table_info('sweeps')"), 2) << "column x not added";
  EXPECT_EQ(QueryInt(db.get(), "SELECT count(*) FROM sqlite_schema WHERE name = 'never'"), 0);
  // Fixed steps then apply from where it stopped.
  ASSERT_TRUE(Migrate(db.get(), kSteps).ok());
  EXPECT_EQ(*UserVersion(db.get()), 3);
}

TEST_F(DatabaseTest, NewerDatabaseIsRefused) {
  {
    auto db = OpenOrDie();
    ASSERT_TRUE(Migrate(db.get(), kSteps).ok());
  }
  auto db = OpenOrDie();
  Status s = Migrate(db.get(), {kSteps[0]});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.file(), path_);
  EXPECT_TRUE(Contains(s.message(), "schema version 3 is newer than this avctl knows (1)")) << s.ToString();
  EXPECT_TRUE(Contains(s.ToString(), path_));
  EXPECT_EQ(*UserVersion(db.get()), 3) << "left as it was";
}

TEST_F(DatabaseTest, MigrateOnReadOnlyDatabase) {
  {
    auto db = OpenOrDie();
    ASSERT_TRUE(Migrate(db.get(), {kSteps[0]}).ok());
  }
  DatabaseOptions ro;
  ro.read_only = true;
  auto db = Database::Open(path_, ro);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_TRUE(Migrate(db->get(), {kSteps[0]}).ok()) << "up to date: nothing to write";
  Status s = Migrate(db->get(), kSteps);
  ASSERT_FALSE(s.ok()) << "an outdated read-only database cannot be migrated";
  EXPECT_EQ(s.file(), path_);
  EXPECT_EQ(*UserVersion(db->get()), 1);
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {


TEST(NestedTransaction, InnerRollbackUndoesOnlyItsOwnChangesAndOuterCommitKeepsTheRest) {
  std::string tmpl = (std::filesystem::path(::testing::TempDir()) / "avctl-db-nested-XXXXXX").string();
  ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
  const std::string path = tmpl + "/n.db";
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    ASSERT_TRUE((*db)->Exec("CREATE TABLE t (x INTEGER)").ok());
    auto outer = Transaction::Begin(db->get());
    ASSERT_TRUE(outer.ok());
    {
      auto inner = Transaction::Begin(db->get());
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (1)").ok());
      ASSERT_TRUE(inner->Commit().ok());
    }
    {
      auto inner = Transaction::Begin(db->get());
      ASSERT_TRUE(inner.ok());
      ASSERT_TRUE((*db)->Exec("INSERT INTO t VALUES (2)").ok());
      // destroyed without commit: rolled back to its savepoint
    }
    EXPECT_TRUE((*db)->InTransaction());
    ASSERT_TRUE(outer->Commit().ok());
    EXPECT_FALSE((*db)->InTransaction());
  }
  auto db = Database::Open(path);
  ASSERT_TRUE(db.ok());
  auto st = (*db)->Prepare("SELECT group_concat(x) FROM t");
  ASSERT_TRUE(st.ok());
  ASSERT_TRUE(*st->Step());
  EXPECT_EQ(st->ColumnText(0), "1");
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace avctl
