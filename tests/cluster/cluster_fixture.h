// The fixture of the cluster integration tests: a real avcoord on loopback
// (restartable on the same ports), avworker daemons, control calls, avctl, and
// read-only queries of the record.
#pragma once

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/control_client.h"
#include "common/json_util.h"
#include "db/database.h"
#include "tests/child_process.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"
#include "tests/wait.h"

namespace avctl::testutil {

namespace fs = std::filesystem;

inline const std::string kBin = std::string(AVCTL_BINARY_DIR) + "/bin/";
inline const std::string kQuickSpec = std::string(AVCTL_SOURCE_DIR) + "/tests/cluster/data/quick.json";

// A sweep of tiny training jobs: ladder_av vs backbone on the tiny synthetic
// store, a one-layer model, one thread (so results are bit-reproducible).
inline Json TinyTrainingSweep(const std::string& name, int seeds, int epochs, int max_train_batches,
                              int max_attempts) {
  return {{"name", name},
          {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
          {"base", {{"threads", 1},
                    {"model", {{"heads", 2}, {"cross_layers", 1}, {"self_layers", 1}, {"aux_repeats", 1},
                               {"pooling", "mean"}}},
                    {"train", {{"epochs", epochs}, {"max_train_batches", max_train_batches}}}}},
          {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
          {"seeds", seeds},
          {"max_attempts", max_attempts},
          {"resources", {{"device", "cpu"}}}};
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = FreshTestDir("cluster");
    db_ = (dir_ / "avctl.db").string();
  }
  void TearDown() override {
    for (auto& w : workers_) w->Kill(SIGKILL);
    coord_.reset();
    if (!HasFailure() && !std::getenv("AVCTL_KEEP_TEST_DIRS")) fs::remove_all(dir_);
  }

  // First start: any free ports; restarts reuse them so workers find it again.
  void StartCoordinator() {
    const std::string endpoints = (dir_ / "endpoints.json").string();
    fs::remove(endpoints);
    coord_ = std::make_unique<ChildProcess>();
    const std::string workers_ep = ep_.is_null() ? "tcp://127.0.0.1:*" : ep_["workers"].get<std::string>();
    const std::string control_ep = ep_.is_null() ? "tcp://127.0.0.1:*" : ep_["control"].get<std::string>();
    std::vector<std::string> args = {kBin + "avcoord", "--db", db_, "--workers", workers_ep, "--control", control_ep,
                                     "--http", "0", "--heartbeat-ms", "200", "--liveness", "5", "--grace-ms", "3000",
                                     "--endpoints-file", endpoints};
    args.insert(args.end(), coordinator_args_.begin(), coordinator_args_.end());
    ASSERT_TRUE(coord_->Start(args, (dir_ / "avcoord.log").string()));
    ASSERT_TRUE(WaitUntil([&] { return fs::exists(endpoints) || !coord_->running(); }, 20)) << coord_->Log();
    ASSERT_TRUE(coord_->running()) << coord_->Log();
    auto ep = ReadJsonFile(endpoints);
    ASSERT_TRUE(ep.ok()) << ep.status().ToString();
    ep_ = *ep;
  }

  // Worker i ("w<i>"); `extra` is appended to its arguments (CURVE keys).
  ChildProcess* StartWorker(int i, const std::vector<std::string>& extra = {}) {
    if (workers_.size() < static_cast<size_t>(i)) workers_.resize(i);
    auto& w = workers_[i - 1];
    if (w) w->Kill(SIGKILL);
    w = std::make_unique<ChildProcess>();
    const std::string id = fmt::format("w{}", i);
    std::vector<std::string> args = {kBin + "avworker", "serve", "--coordinator", ep_["workers"].get<std::string>(),
                                     "--id", id, "--work-dir", (dir_ / id).string(), "--cache",
                                     (dir_ / "stores").string(), "--threads", "1", "--device", "cpu"};
    args.insert(args.end(), extra.begin(), extra.end());
    EXPECT_TRUE(w->Start(args, (dir_ / (id + ".log")).string()));
    return w.get();
  }

  Json Call(const Json& req) {
    auto r = cli::CallCoordinator(ep_["control"].get<std::string>(), req, 10000);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Json::object();
  }

  Json Status(const std::string& sweep) { return Call({{"op", "status"}, {"sweep", sweep}})["status"]; }

  std::string Text(const std::string& sql) {
    DatabaseOptions o;
    o.read_only = true;
    auto db = Database::Open(db_, o);
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    auto q = (*db)->Prepare(sql);
    EXPECT_TRUE(q.ok()) << q.status().ToString();
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return q->ColumnText(0);
  }

  int64_t Count(const std::string& sql) { return std::atoll(Text(sql).c_str()); }

  std::string Avctl(const std::string& args, int* exit_code) {
    auto r = testutil::RunCommand(kBin + "avctl " + args + " --coordinator " + ep_["control"].get<std::string>());
    *exit_code = r.exit_code;
    return r.output;
  }

  fs::path dir_;
  std::string db_;
  Json ep_;
  std::vector<std::string> coordinator_args_;  // appended to avcoord's arguments
  std::unique_ptr<ChildProcess> coord_;
  std::vector<std::unique_ptr<ChildProcess>> workers_;
};

}  // namespace avctl::testutil
