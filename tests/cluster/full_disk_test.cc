// A full disk under the record is a degraded mode, not an exit: the record
// lives on a small tmpfs of its own; mid-sweep a filler file takes the rest of
// it, every commit then fails, and avcoord pauses dispatch and results
// (workers keep theirs and resend), says why in ping and /metrics, and stays
// up. Once the filler goes, the sweep finishes with every job stored once
// and the record intact. Needs root (mount); skipped, saying so, otherwise.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_fixture.h"
#include "tests/raw_http.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::RunCommand;
using testutil::WaitUntil;

class FullDiskTest : public testutil::ClusterTest {
 protected:
  void SetUp() override {
    ClusterTest::SetUp();
    disk_ = dir_ / "disk";
    fs::create_directories(disk_);
    if (::geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs for the record";
    auto m = RunCommand(fmt::format("mount -t tmpfs -o size=16m avctl-full-disk-test {} 2>&1", disk_.string()));
    if (m.exit_code != 0) GTEST_SKIP() << "cannot mount a tmpfs here: " << m.output;
    mounted_ = true;
    db_ = (disk_ / "avctl.db").string();
  }
  void TearDown() override {
    for (auto& w : workers_) w->Kill(SIGKILL);
    coord_.reset();
    if (mounted_) (void)RunCommand(fmt::format("umount -l {} 2>&1", disk_.string()));
    ClusterTest::TearDown();
  }

  // Writes 256 KiB blocks to `path` until the file system says no.
  static void Fill(const fs::path& path) {
    std::FILE* f = std::fopen(path.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    const std::string block(256 * 1024, 'x');
    while (std::fwrite(block.data(), 1, block.size(), f) == block.size() && std::fflush(f) == 0) {
    }
    std::fclose(f);
  }

  std::string Metrics() {
    const std::string http = ep_["http"].get<std::string>();
    return testutil::HttpGet(std::stoi(http.substr(http.rfind(':') + 1)), "/metrics");
  }

  fs::path disk_;
  bool mounted_ = false;
};

TEST_F(FullDiskTest, AFullDiskPausesTheSweepAndLosesNothing) {
  StartCoordinator();
  Json spec = {{"name", "disk"},
               {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
               {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
               {"seeds", 30},
               {"kind", "sleep"},
               {"sleep_seconds", 0.05}};
  ASSERT_EQ(Call({{"op", "submit"}, {"spec", spec}, {"source", "disk.json"}}).value("jobs", 0), 60);
  StartWorker(1);
  StartWorker(2);
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT COUNT(*) FROM results") >= 5; }, 60)) << coord_->Log();

  const fs::path filler = disk_ / "filler";
  Fill(filler);
  // The write-ahead log may still have room it can reuse; a large submit
  // cannot fit. It is refused, and the rounds after it cannot commit either.
  Json big = spec;
  big["name"] = "big";
  big["seeds"] = 5000;
  auto refused = cli::CallCoordinator(ep_["control"].get<std::string>(),
                                      {{"op", "submit"}, {"spec", big}, {"source", "big.json"}}, 60000);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("cannot be written"), std::string::npos) << refused.status().ToString();
  // Commits now fail: avcoord says so and keeps answering.
  Json record;
  ASSERT_TRUE(WaitUntil([&] {
    record = Call({{"op", "ping"}}).value("record", Json::object());
    return !record.value("writable", true);
  }, 30)) << coord_->Log();
  EXPECT_NE(record.value("reason", "").find("cannot be written"), std::string::npos) << record.dump();
  ASSERT_TRUE(WaitUntil([&] { return Metrics().find("avctl_deferred_reports_total 0") == std::string::npos; }, 30))
      << "no result was held back while the disk was full:\n" << Metrics();
  EXPECT_NE(Metrics().find("avctl_record_writable 0"), std::string::npos);
  EXPECT_TRUE(coord_->running()) << coord_->Log();

  fs::remove(filler);
  ASSERT_TRUE(WaitUntil([&] { return Status("disk").value("finished", false); }, 120)) << coord_->Log();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 60);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 60);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) FROM results"), 60) << "a job stored twice";
  EXPECT_GE(Count("SELECT COUNT(*) FROM events WHERE kind = 'record' AND message LIKE '%takes writes again%'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sweeps WHERE name = 'big'"), 0) << "the refused submit left something";
  EXPECT_TRUE(Call({{"op", "ping"}})["record"].value("writable", false));
  EXPECT_NE(Metrics().find("avctl_record_writable 1"), std::string::npos);
  EXPECT_EQ(Text("PRAGMA integrity_check"), "ok");
  EXPECT_NE(coord_->Log().find("the record cannot be written"), std::string::npos);
}

}  // namespace
}  // namespace avctl
