#include "db/database.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <unistd.h>

namespace avctl {
namespace {

namespace fs = std::filesystem;

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::path(::testing::TempDir()) / ("avctl-db-" + std::to_string(::getpid()) + "-" +
                                             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "test.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<Database> OpenOrDie(const DatabaseOptions& o = {}) {
    auto db = Database::Open(path_, o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }

  int64_t Count(Database* db, const std::string& table) {
    auto st = db->Prepare("SELECT count(*) FROM " + table);
    EXPECT_TRUE(st.ok());
    EXPECT_TRUE(*st->Step());
    return st->ColumnInt(0);
  }

  fs::path dir_;
  std::string path_;
};

TEST_F(DatabaseTest, OpensInWalWithBusyTimeoutAndForeignKeys) {
  auto db = OpenOrDie();
  auto mode = db->Prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode.ok());
  ASSERT_TRUE(*mode->Step());
  EXPECT_EQ(mode->ColumnText(0), "wal");
  auto timeout = db->Prepare("PRAGMA busy_timeout");
  ASSERT_TRUE(*timeout->Step());
  EXPECT_EQ(timeout->ColumnInt(0), 5000);
  auto fk = db->Prepare("PRAGMA foreign_keys");
  ASSERT_TRUE(*fk->Step());
  EXPECT_EQ(fk->ColumnInt(0), 1);
  auto sync = db->Prepare("PRAGMA synchronous");
  ASSERT_TRUE(*sync->Step());
  EXPECT_EQ(sync->ColumnInt(0), 1);  // NORMAL
}

TEST_F(DatabaseTest, BindStepAndColumnsRoundTrip) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)").ok());
  auto ins = db->Prepare("INSERT INTO t VALUES (?1, ?2, :s, ?4, ?5)");
  ASSERT_TRUE(ins.ok());
  const uint8_t blob[] = {0, 1, 2, 255};
  ASSERT_TRUE(ins->BindInt(1, int64_t{1} << 40).ok());
  ASSERT_TRUE(ins->BindDouble(2, 0.25).ok());
  auto s_index = ins->ParamIndex(":s");
  ASSERT_TRUE(s_index.ok());
  EXPECT_EQ(*s_index, 3);
  ASSERT_TRUE(ins->BindText(*s_index, std::string("naïve \0 text", 13)).ok());
  ASSERT_TRUE(ins->BindBlob(4, blob, sizeof blob).ok());
  ASSERT_TRUE(ins->BindNull(5).ok());
  ASSERT_TRUE(ins->Run().ok());
  EXPECT_EQ(db->LastInsertRowId(), 1);
  EXPECT_EQ(db->Changes(), 1);
  EXPECT_FALSE(ins->ParamIndex(":nope").ok());

  auto sel = db->Prepare("SELECT i, d, s, b, n FROM t");
  ASSERT_TRUE(sel.ok());
  ASSERT_TRUE(*sel->Step());
  EXPECT_EQ(sel->ColumnCount(), 5);
  EXPECT_EQ(sel->ColumnInt(0), int64_t{1} << 40);
  EXPECT_EQ(sel->ColumnDouble(1), 0.25);
  EXPECT_EQ(sel->ColumnText(2), std::string("naïve \0 text", 13));
  EXPECT_EQ(sel->ColumnBlob(3), (std::vector<uint8_t>{0, 1, 2, 255}));
  EXPECT_TRUE(sel->ColumnIsNull(4));
  EXPECT_FALSE(*sel->Step());
  ASSERT_TRUE(sel->Reset().ok());
  EXPECT_TRUE(*sel->Step());
}

TEST_F(DatabaseTest, TransactionCommitsOrRollsBackOnDestruction) {
  auto db = OpenOrDie();
  ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER)").ok());
  {
    auto tx = Transaction::Begin(db.get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (1)").ok());
    ASSERT_TRUE(tx->Commit().ok());
    EXPECT_FALSE(tx->Commit().ok()) << "a second commit is an error";
  }
  {
    auto tx = Transaction::Begin(db.get());
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE(db->Exec("INSERT INTO t VALUES (2)").ok());
  }  // not committed
  EXPECT_EQ(Count(db.get(), "t"), 1);
}

TEST_F(DatabaseTest, SecondWriterWaitsThenGetsABusyError) {
  auto a = OpenOrDie();
  DatabaseOptions quick;
  quick.busy_timeout_ms = 50;
  auto b = Database::Open(path_, quick);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(a->Exec("CREATE TABLE t (x INTEGER)").ok());
  auto tx = Transaction::Begin(a.get());
  ASSERT_TRUE(tx.ok());
  auto tx2 = Transaction::Begin(b->get());
  ASSERT_FALSE(tx2.ok());
  EXPECT_NE(tx2.status().message().find("locked"), std::string::npos) << tx2.status().ToString();
  EXPECT_EQ(tx2.status().file(), path_);
}

const std::vector<std::string> kSteps = {
    "CREATE TABLE sweeps (id INTEGER PRIMARY KEY, name TEXT NOT NULL)",
    "ALTER TABLE sweeps ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX sweeps_by_name ON sweeps(name)",
};

TEST_F(DatabaseTest, MigrationsRunOnceInOrder) {
  auto db = OpenOrDie();
  EXPECT_EQ(*UserVersion(db.get()), 0);
  ASSERT_TRUE(Migrate(db.get(), {kSteps[0]}).ok());
  EXPECT_EQ(*UserVersion(db.get()), 1);
  ASSERT_TRUE(db->Exec("INSERT INTO sweeps(name) VALUES ('a')").ok());
  ASSERT_TRUE(Migrate(db.get(), kSteps).ok());
  EXPECT_EQ(*UserVersion(db.get()), 3);
  ASSERT_TRUE(Migrate(db.get(), kSteps).ok()) << "re-running is a no-op";
  EXPECT_EQ(*UserVersion(db.get()), 3);
  EXPECT_EQ(Count(db.get(), "sweeps"), 1);
}

TEST_F(DatabaseTest, FailingMigrationChangesNothing) {
  auto db = OpenOrDie();
  ASSERT_TRUE(Migrate(db.get(), {kSteps[0]}).ok());
  ASSERT_TRUE(db->Exec("INSERT INTO sweeps(name) VALUES ('keep me')").ok());
  std::vector<std::string> bad = {kSteps[0], "ALTER TABLE sweeps ADD COLUMN x INTEGER; DROP TABLE sweeps; SELEC oops"};
  Status s = Migrate(db.get(), bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("migration 1 -> 2"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("SELEC oops"), std::string::npos) << "the error names the SQL";
  EXPECT_EQ(*UserVersion(db.get()), 1);
  EXPECT_EQ(Count(db.get(), "sweeps"), 1);
}

TEST_F(DatabaseTest, NewerDatabaseIsRefused) {
  auto db = OpenOrDie();
  ASSERT_TRUE(Migrate(db.get(), kSteps).ok());
  Status s = Migrate(db.get(), {kSteps[0]});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.file(), path_);
  EXPECT_NE(s.message().find("schema version 3 is newer than this avctl knows (1)"), std::string::npos);
}

TEST_F(DatabaseTest, ErrorsNameSqlAndPath) {
  auto db = OpenOrDie();
  Status s = db->Exec("SELECT * FROM no_such_table");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.file(), path_);
  EXPECT_NE(s.message().find("no such table: no_such_table"), std::string::npos);
  EXPECT_NE(s.message().find("in SQL: SELECT * FROM no_such_table"), std::string::npos);
  auto p = db->Prepare("SELEKT 1");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("SELEKT 1"), std::string::npos);
}

TEST_F(DatabaseTest, MissingDirectoryAndNonDatabaseFilesFail) {
  auto missing = Database::Open((dir_ / "no" / "such" / "dir" / "x.db").string());
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cannot open database"), std::string::npos);
  std::string junk = (dir_ / "junk.db").string();
  std::ofstream(junk) << std::string(4096, 'x');
  auto notdb = Database::Open(junk);
  ASSERT_FALSE(notdb.ok());
  EXPECT_EQ(notdb.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(notdb.status().file(), junk);
}

TEST_F(DatabaseTest, ReadOnlyCannotWrite) {
  {
    auto db = OpenOrDie();
    ASSERT_TRUE(db->Exec("CREATE TABLE t (x INTEGER)").ok());
  }
  DatabaseOptions ro;
  ro.read_only = true;
  auto db = Database::Open(path_, ro);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  EXPECT_EQ(Count(db->get(), "t"), 0);
  Status s = (*db)->Exec("INSERT INTO t VALUES (1)");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("readonly"), std::string::npos) << s.ToString();
}

}  // namespace
}  // namespace avctl
