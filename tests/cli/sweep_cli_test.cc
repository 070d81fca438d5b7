// avctl's sweep and fleet commands that need no running coordinator (the
// cluster tests cover the live ones), and the text renderings.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "cli/status_render.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::ProcessRun;

ProcessRun RunAvctl(const std::string& args) {
  return testutil::RunCommand(std::string(AVCTL_BINARY_DIR) + "/bin/avctl " + args);
}

const std::string kSweeps = std::string(AVCTL_SOURCE_DIR) + "/sweeps/";

TEST(SweepCli, SubmitDryRunPrintsTheJobsAndSendsNothing) {
  // The coordinator endpoint is unreachable: a dry run must not need it.
  ProcessRun r = RunAvctl("sweep submit " + kSweeps + "demo.json --dry-run --coordinator tcp://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("dry run: 20 jobs; nothing submitted"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("ladder_av"), std::string::npos) << r.output;
}

TEST(SweepCli, BadSpecIsRefusedNamingFileAndFieldBeforeAnythingStarts) {
  const fs::path dir = fs::path(::testing::TempDir()) / "avctl-sweep-cli-bad";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string spec = (dir / "bad.json").string();
  std::ofstream(spec) << R"({"name": "bad", "dataset": {"synth": {"profile": "tiny", "seed": 1}},
    "variants": [{"name": "backbone", "overrides": {"train": {"lr": "fast"}}}], "seeds": 2})";
  ProcessRun r = RunAvctl("sweep run " + spec + " --dir " + (dir / "run").string());
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("bad.json"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("variants[0].overrides.train.lr"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "run")) << "nothing is started for a bad spec";
  r = RunAvctl("sweep submit " + spec + " --coordinator tcp://127.0.0.1:1");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("variants[0].overrides.train.lr"), std::string::npos) << r.output;
  fs::remove_all(dir);
}

TEST(SweepCli, UsageErrorsAndHelp) {
  ProcessRun r = RunAvctl("results demo --format xml");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--format"), std::string::npos) << r.output;
  r = RunAvctl("sweep frobnicate");
  EXPECT_EQ(r.exit_code, 2) << r.output;
  r = RunAvctl("sweep --help");
  EXPECT_EQ(r.exit_code, 0);
  for (const char* c : {"submit", "status", "list", "cancel", "retry", "run"}) {
    EXPECT_NE(r.output.find(c), std::string::npos) << c;
  }
  r = RunAvctl("sweep run --help");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_NE(r.output.find("--local-workers"), std::string::npos) << r.output;
  r = RunAvctl("sweep run " + kSweeps + "demo.json --local-workers 0");
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

TEST(StatusRender, ProgressCountsAndEta) {
  Json st = {{"id", 3}, {"name", "demo"}, {"jobs", 10}, {"finished", false}, {"eta_seconds", 125.0},
             {"states", {{"queued", 4}, {"running", 2}, {"done", 3}, {"failed", 1}, {"cancelled", 0}}},
             {"variants", {{{"name", "ladder_av"}, {"role", "proposed"},
                            {"states", {{"queued", 2}, {"running", 1}, {"done", 2}, {"failed", 0}, {"cancelled", 0}}}}}},
             {"running", {{{"key", "demo/ladder_av/-/seed=1/partition=1"}, {"worker", "w1"}, {"elapsed_seconds", 65.0},
                           {"progress", {{"epoch", 4}, {"epochs", 8}, {"dev_loss", 1.23456}, {"dev_macro_f1", 0.4}}}},
                          {{"key", "demo/backbone/-/seed=1/partition=1"}, {"worker", "w2"}, {"elapsed_seconds", 2.0}}}}};
  std::string out = cli::RenderSweepStatus(st);
  EXPECT_NE(out.find("    demo/ladder_av/-/seed=1/partition=1      w1 "), std::string::npos) << out;
  EXPECT_NE(out.find("1m05s  [#####.....] epoch 4/8  dev loss 1.2346  dev F1 0.400"), std::string::npos) << out;
  EXPECT_NE(out.find("2s  starting"), std::string::npos) << out;
  EXPECT_NE(out.find("sweep demo (id 3)"), std::string::npos) << out;
  EXPECT_NE(out.find("4/10 finished"), std::string::npos) << out;
  EXPECT_NE(out.find("ETA 2m05s"), std::string::npos) << out;
  EXPECT_NE(out.find("[############..................]"), std::string::npos) << out;
  EXPECT_NE(out.find("ladder_av"), std::string::npos) << out;
}

TEST(StatusRender, ASequentialSweepShowsItsLooksAndDecisions) {
  Json st = {{"id", 2}, {"name", "seq"}, {"jobs", 40}, {"finished", false},
             {"states", {{"queued", 2}, {"running", 2}, {"done", 20}, {"held", 6}, {"not_needed", 10}}},
             {"variants", {{{"name", "big"}, {"role", "proposed"}, {"states", {{"done", 10}, {"not_needed", 10}}}},
                           {{"name", "base"}, {"role", "baseline"}, {"states", {{"done", 10}, {"held", 6}}}}}},
             {"sequential",
              {{"design", {{"looks", {5, 10, 15, 20}}, {"spending", "obrien_fleming"}, {"futility", "none"},
                           {"release", "held"}}},
               {"looks_analysed", 2},
               {"looks", {{{"look", 0}, {"tests", Json::array()}},
                          {{"look", 1},
                           {"tests", {{{"variant", "big"}, {"baseline", "base"}, {"metric", "macro_f1"},
                                       {"decision", "efficacy"}, {"decided_look", 1}, {"p", 0.00012}, {"pairs", 10},
                                       {"bound_p", 0.0024}},
                                      {{"variant", "none"}, {"baseline", "base"}, {"metric", "macro_f1"},
                                       {"decision", "continue"}, {"decided_look", -1}, {"p", 0.31}, {"pairs", 10},
                                       {"bound_p", 0.0024}, {"level", 0.05}}}}}}}}}};
  const std::string out = cli::RenderSweepStatus(st);
  EXPECT_NE(out.find("30/40 finished"), std::string::npos) << "not-needed jobs are finished: " << out;
  EXPECT_NE(out.find("not needed"), std::string::npos) << out;
  EXPECT_NE(out.find("group-sequential: 2 of 4 looks analysed (pairs 5, 10, 15, 20; obrien_fleming spending, held "
                     "release)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("big vs base (macro_f1): efficacy at look 2; p 0.00012 with 10 pairs (bound 0.0024)"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("none vs base (macro_f1): continues; p 0.31 with 10 pairs (bound 0.0024), alpha share 0.05"),
            std::string::npos)
      << out;
  st.erase("sequential");
  EXPECT_EQ(cli::RenderSweepStatus(st).find("not needed"), std::string::npos) << "a fixed sweep's table is as before";
}

TEST(StatusRender, QueuedJobsNoWorkerCanRunAreExplained) {
  Json st = {{"id", 1}, {"name", "gpu"}, {"jobs", 4}, {"states", {{"queued", 4}}}, {"variants", Json::array()},
             {"unrunnable", {{"jobs", 4}, {"workers_ready", 2},
                             {"reasons", {{{"reason", "it needs a cuda worker (resources.device); connected: 2 cpu workers"},
                                           {"jobs", 4}}}}}}};
  EXPECT_NE(cli::RenderSweepStatus(st).find("  waiting: 4 queued job(s) that no connected worker can run: it needs a "
                                            "cuda worker (resources.device); connected: 2 cpu workers\n"),
            std::string::npos)
      << cli::RenderSweepStatus(st);
  st["unrunnable"] = {{"jobs", 0}, {"reasons", Json::array()}, {"workers_ready", 2}};
  EXPECT_EQ(cli::RenderSweepStatus(st).find("waiting:"), std::string::npos);
}

TEST(StatusRender, AnUnwritableRecordIsSaidFirst) {
  EXPECT_EQ(cli::RenderRecordHealth(Json{{"record", {{"writable", true}}}}), "");
  EXPECT_EQ(cli::RenderRecordHealth(Json{{"sweeps", Json::array()}}), "");  // an older coordinator says nothing
  const std::string w = cli::RenderRecordHealth(
      Json{{"record", {{"writable", false}, {"reason", "the record cannot be written since 1: database or disk is full"}}}});
  EXPECT_NE(w.find("warning: the record cannot be written since 1: database or disk is full"), std::string::npos) << w;
  EXPECT_NE(w.find("nothing is lost"), std::string::npos) << w;
}

TEST(StatusRender, ResultsCsvHasEveryMetricAndQuotesFields) {
  const Json reply = {
      {{"key", "s/a,b/-/seed=0/partition=1"}, {"variant", "a,b"}, {"point", ""}, {"seed", 0}, {"partition", 1},
       {"attempt_id", 1}, {"worker", "w1"}, {"seconds", 1.5}, {"wall_seconds", 2.0},
       {"metrics", {{"macro_f1", 0.5}, {"accuracy", 0.25}, {"per_class", Json::array()}}}},
      {{"key", "s/c/-/seed=0/partition=1"}, {"variant", "c"}, {"point", ""}, {"seed", 0}, {"partition", 1},
       {"attempt_id", 2}, {"worker", "w2"}, {"seconds", 2.0}, {"wall_seconds", 2.5}, {"metrics", {{"macro_f1", 0.75}}}}};
  auto results = ParseResultRows(reply);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  EXPECT_EQ(ResultRowsToJson(*results)[1], reply[1]) << "written back as read";
  std::string csv = cli::ResultsToCsv(*results);
  EXPECT_EQ(csv,
            "key,variant,point,seed,partition,worker,seconds,accuracy,macro_f1\n"
            "\"s/a,b/-/seed=0/partition=1\",\"a,b\",,0,1,w1,1.500,0.25,0.5\n"
            "s/c/-/seed=0/partition=1,c,,0,1,w2,2.000,,0.75\n");
}

TEST(StatusRender, ResultRowsNameTheFieldAtFault) {
  auto bad = ParseResultRows(Json::array({{{"key", "k"}, {"variant", "v"}, {"point", ""}, {"seed", 0},
                                           {"partition", 1}, {"attempt_id", 1}, {"worker", "w"}, {"seconds", 1},
                                           {"wall_seconds", 1}, {"metrics", {{"ccc", "high"}}}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("results[0].metrics.ccc: expected a number"), std::string::npos)
      << bad.status().ToString();
}

TEST(StatusRender, SummaryMeanAndSampleSd) {
  std::vector<ResultRow> results;
  for (double x : {0.5, 0.7, 0.6}) {
    ResultRow r;
    r.variant = "v";
    r.metrics = {{"macro_f1", x}};
    results.push_back(r);
  }
  std::string out = cli::RenderResultSummary(results, "macro_f1");
  EXPECT_NE(out.find("0.6000"), std::string::npos) << out;
  EXPECT_NE(out.find("0.1000"), std::string::npos) << out;  // sample sd of 0.5, 0.7, 0.6
  EXPECT_EQ(cli::FormatDuration(3725), "1h02m");
  EXPECT_EQ(cli::FormatDuration(59), "59s");
}

}  // namespace
}  // namespace avctl

#include "cli/slurm_script.h"

namespace avctl {
namespace {

TEST(Slurm, ScriptRunsOneDaemonPerGpuWithIdsFromTheJob) {
  cli::SlurmOptions o;
  o.coordinator = "tcp://login1:5555";
  o.nodes = 2;
  o.gpus_per_node = 4;
  o.slots_per_gpu = 2;
  o.partition = "gpu";
  o.account = "emo";
  o.avworker = "/opt/avctl/bin/avworker";
  ASSERT_TRUE(cli::ValidateSlurmOptions(o).ok());
  const std::string s = cli::RenderSbatchScript(o);
  for (const char* line : {"#SBATCH --nodes=2\n", "#SBATCH --ntasks-per-node=4\n", "#SBATCH --gpus-per-node=4\n",
                           "#SBATCH --gpus-per-task=1\n", "#SBATCH --partition=gpu\n", "#SBATCH --account=emo\n"}) {
    EXPECT_NE(s.find(line), std::string::npos) << line << s;
  }
  EXPECT_NE(s.find("slurm-${SLURM_JOB_ID}-${SLURM_PROCID}"), std::string::npos) << s;
  EXPECT_NE(s.find("--device cuda:0"), std::string::npos) << s;
  EXPECT_NE(s.find("--slots 2"), std::string::npos) << s;
  EXPECT_NE(s.find("'\\''/opt/avctl/bin/avworker'\\''"), std::string::npos) << s;  // quoted inside bash -c '...'
  EXPECT_NE(s.find("%x-%j-task%t.log"), std::string::npos) << s;
  // Preemption: SIGTERM two minutes ahead of the limit; the daemons' stop fits KillWait.
  EXPECT_NE(s.find("#SBATCH --signal=TERM@120\n"), std::string::npos) << s;
  EXPECT_NE(s.find("--stop-timeout 25"), std::string::npos) << s;
  EXPECT_EQ(s.find("--requeue"), std::string::npos) << s;
  o.requeue = true;
  o.checkpoint_dir = "/scratch/emo/ckpt";
  const std::string r = cli::RenderSbatchScript(o);
  EXPECT_NE(r.find("#SBATCH --requeue\n"), std::string::npos) << r;
  EXPECT_NE(r.find("--checkpoint-dir '\\''/scratch/emo/ckpt'\\''"), std::string::npos) << r;
  o.signal_seconds = -1;
  EXPECT_EQ(cli::ValidateSlurmOptions(o).field(), "--signal-seconds");
}

TEST(Slurm, CpuWorkersAndBadOptions) {
  cli::SlurmOptions o;
  o.coordinator = "tcp://login1:5555";
  o.gpus_per_node = 0;
  const std::string s = cli::RenderSbatchScript(o);
  EXPECT_EQ(s.find("--gpus"), std::string::npos);
  EXPECT_NE(s.find("--device cpu"), std::string::npos);
  o.coordinator = "tcp://127.0.0.1:5555";
  EXPECT_FALSE(cli::ValidateSlurmOptions(o).ok()) << "compute nodes cannot reach loopback";
  o.allow_loopback = true;  // a one-node Slurm on this machine
  EXPECT_TRUE(cli::ValidateSlurmOptions(o).ok());
  o.allow_loopback = false;
  o.coordinator = "tcp://login1:5555";
  o.partition = "gpu; rm -rf /";
  auto bad = cli::ValidateSlurmOptions(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.field(), "--partition");
  EXPECT_EQ(cli::ShellQuote("it's"), "'it'\\''s'");
}

TEST(Slurm, DryRunPrintsTheScript) {
  ProcessRun r = RunAvctl("workers slurm --coordinator tcp://login1:5555 --nodes 3 --gpus-per-node 8 --dry-run");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("#SBATCH --nodes=3"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("srun"), std::string::npos) << r.output;
  r = RunAvctl("workers slurm --coordinator tcp://localhost:5555 --dry-run");
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("--coordinator"), std::string::npos) << r.output;
  r = RunAvctl("workers stop");
  EXPECT_EQ(r.exit_code, 1) << r.output;
}

}  // namespace
}  // namespace avctl
