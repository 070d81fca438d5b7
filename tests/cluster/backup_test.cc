// `avctl record backup` against a live coordinator: copies taken while a
// sweep runs each open as a record, pass integrity_check and hold a moment of
// the sweep (as many results as then, no fewer than the copy before); the
// README's restore steps (stop avcoord, put the copy in the record's place,
// start it again) bring back a coordinator that serves the copy's state.
#include <signal.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "db/database.h"
#include "db/record.h"
#include "tests/cluster/cluster_fixture.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::RunCommand;
using testutil::WaitUntil;

class BackupTest : public testutil::ClusterTest {};

int64_t CountIn(const std::string& db_path, const std::string& sql) {
  DatabaseOptions o;
  o.read_only = true;
  auto db = Database::Open(db_path, o);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  if (!db.ok()) return -1;
  auto q = (*db)->Prepare(sql);
  EXPECT_TRUE(q.ok() && *q->Step()) << sql;
  return q.ok() ? q->ColumnInt(0) : -1;
}

TEST_F(BackupTest, ACopyTakenDuringASweepOpensAndRestores) {
  StartCoordinator();
  Json spec = {{"name", "bk"},
               {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
               {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
               {"seeds", 60},
               {"kind", "sleep"},
               {"sleep_seconds", 0.02}};
  ASSERT_EQ(Call({{"op", "submit"}, {"spec", spec}, {"source", "bk.json"}}).value("jobs", 0), 120);
  StartWorker(1, {"--slots", "2"});
  int64_t previous = 0;
  std::string last;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(WaitUntil([&] { return Count("SELECT COUNT(*) FROM results") > previous; }, 60)) << coord_->Log();
    last = (dir_ / fmt::format("copy{}.db", i)).string();
    auto r = RunCommand(fmt::format("{}avctl record backup --db {} {} 2>&1", testutil::kBin, db_, last));
    ASSERT_EQ(r.exit_code, 0) << r.output;
    EXPECT_NE(r.output.find("integrity_check ok"), std::string::npos) << r.output;
    auto opened = Record::OpenReadOnly(last);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    EXPECT_EQ(CountIn(last, "SELECT COUNT(*) FROM jobs"), 120);
    const int64_t results = CountIn(last, "SELECT COUNT(*) FROM results");
    EXPECT_GE(results, previous);
    previous = results;
  }
  // An existing destination is refused, and left as it was.
  auto again = RunCommand(fmt::format("{}avctl record backup --db {} {} 2>&1", testutil::kBin, db_, last));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("exists"), std::string::npos) << again.output;

  // Restore: stop avcoord, the copy in the record's place, start it again.
  workers_[0]->Kill(SIGKILL);
  coord_->Kill(SIGTERM);
  ASSERT_EQ(coord_->Wait(20000), 0) << coord_->Log();
  const int64_t in_copy = CountIn(last, "SELECT COUNT(*) FROM jobs WHERE state = 'done'");
  for (const char* suffix : {"", "-wal", "-shm"}) fs::remove(db_ + suffix);
  fs::copy_file(last, db_);
  StartCoordinator();
  EXPECT_EQ(Status("bk")["states"].value("done", -1), in_copy);
  EXPECT_EQ(Text("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace avctl
