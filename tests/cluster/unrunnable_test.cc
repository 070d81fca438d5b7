// A sweep that asks for CUDA workers, run where only CPU workers are
// connected: `sweep status` and the JSON API say why its queued jobs wait,
// and `avctl sweep run` (CPU local workers) stops at once, non-zero, saying
// why, instead of waiting forever. Real processes on loopback.
#include <chrono>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/json_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::ClusterTest;

Json CudaOnlySpec() {
  auto spec = ReadJsonFile(testutil::kQuickSpec);
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  Json s = *spec;
  s["name"] = "cuda_only";
  s["seeds"] = 2;
  s["resources"] = {{"device", "cuda"}, {"gpu_memory_mb", 4000}};
  return s;
}

TEST_F(ClusterTest, CudaOnlySweepWithCpuWorkersIsExplainedNotSilent) {
  StartCoordinator();
  StartWorker(1);
  StartWorker(2);
  Call({{"op", "submit"}, {"spec", CudaOnlySpec()}, {"source", "cuda_only.json"}});
  const std::string why = "it needs a cuda worker (resources.device); connected: 2 cpu workers";
  ASSERT_TRUE(testutil::WaitUntil(
      [&] { return Status("cuda_only").value("unrunnable", Json::object()).value("workers_ready", 0) == 2; }, 30))
      << Status("cuda_only").dump();
  const Json st = Status("cuda_only");
  EXPECT_EQ(st["unrunnable"]["jobs"], 4) << st.dump();
  ASSERT_EQ(st["unrunnable"]["reasons"].size(), 1u);
  EXPECT_EQ(st["unrunnable"]["reasons"][0]["reason"], why);
  EXPECT_EQ(st["states"]["queued"], 4);
  // The list (what /api/sweeps and the live page show) carries it too.
  const Json list = Call({{"op", "list"}})["sweeps"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["unrunnable"]["jobs"], 4);
  int code = -1;
  const std::string out = Avctl("sweep status cuda_only", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("waiting: 4 queued job(s) that no connected worker can run: " + why), std::string::npos) << out;
}

TEST(SweepRun, StopsAtOnceWhenItsLocalWorkersCanNeverRunTheSweep) {
  const fs::path dir = testutil::FreshTestDir("unrunnable-run");
  const fs::path spec = dir / "cuda_only.json";
  std::ofstream(spec) << CudaOnlySpec().dump(2);
  const auto start = std::chrono::steady_clock::now();
  auto r = testutil::RunCommand("timeout 120 " + testutil::kBin + "avctl sweep run " + spec.string() +
                                " --local-workers 1 --dir " + (dir / "run").string());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_LT(seconds, 60) << "it must not wait for a worker that never comes";
  EXPECT_NE(r.output.find("4 queued job(s) of sweep cuda_only can never run on the 1 local worker(s): 4 job(s): it "
                          "needs a cuda worker (resources.device); connected: 1 cpu worker"),
            std::string::npos)
      << r.output;
  fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl
