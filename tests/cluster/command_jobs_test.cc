// Command jobs end to end (docs/JOBS.md): real avcoord and avworker
// processes on loopback run sweeps of shell-script programs written from
// the contract alone (no helper): a sweep with its comparison and report;
// each way a program can break the contract failing with the reason named;
// cancel stopping a child that ignores SIGTERM and a grandchild that left
// the process group; preemption requeued without counting, and a SIGKILLed
// worker's job resuming from its checkpoint on another worker with the
// metrics of a fault-free run.
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/cluster/cluster_fixture.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

// A conforming program in POSIX sh: parameters from {args} (--name=value),
// epochs kept in $AVCTL_CHECKPOINT_DIR (it resumes from them), progress
// lines to $AVCTL_PROGRESS, the result written to a temporary name and
// renamed to $AVCTL_RESULT, SIGTERM answered with exit 3 after the epoch.
// The metric depends on every epoch's state, so a resume that skipped or
// repeated an epoch would change it.
constexpr const char* kTrainScript = R"(#!/bin/sh
set -e
boost=0
for a in "$@"; do
  case "$a" in
    --boost=*) boost="${a#--boost=}" ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
stop=0
trap 'stop=1' TERM
state="$AVCTL_CHECKPOINT_DIR/state"
epoch=0; sum=0; from=0
if [ -f "$state" ]; then read epoch sum < "$state"; from=$epoch; fi
while [ "$epoch" -lt "$EPOCHS" ]; do
  if [ "$stop" = 1 ]; then exit 3; fi
  if [ -n "$EPOCH_SLEEP" ]; then sleep "$EPOCH_SLEEP"; fi
  epoch=$((epoch + 1))
  sum=$((sum + epoch * (AVCTL_SEED + 1)))
  echo "$epoch $sum" > "$state.tmp"; mv "$state.tmp" "$state"
  printf '{"epoch": %d, "epochs": %d, "train_loss": 0.5}\n' "$epoch" "$EPOCHS" >> "$AVCTL_PROGRESS"
  echo "epoch $epoch done"
done
f1=$(awk -v s="$sum" -v seed="$AVCTL_SEED" -v b="$boost" 'BEGIN { printf "%.6f", 0.4 + (s % 97) / 1000 + 0.003 * (seed % 3) * (b > 0) + b }')
resume='{"resumed": false}'
if [ "$from" -gt 0 ]; then resume="{\"resumed\": true, \"from\": \"$state\", \"epochs\": $from}"; fi
printf '{"status": "ok", "test": {"metrics": {"macro_f1": %s, "accuracy": %s}}, "resume": %s, "state_sum": %d}\n' \
  "$f1" "$f1" "$resume" "$sum" > "$AVCTL_RESULT.tmp"
mv "$AVCTL_RESULT.tmp" "$AVCTL_RESULT"
)";

// The metric kTrainScript reports for a seed after `epochs` epochs.
double ExpectedF1(int seed, int epochs, double boost) {
  long sum = 0;
  for (int e = 1; e <= epochs; ++e) sum += e * (seed + 1);
  return 0.4 + static_cast<double>(sum % 97) / 1000 + (boost > 0 ? 0.003 * (seed % 3) : 0) + boost;
}

class CommandJobsTest : public testutil::ClusterTest {
 protected:
  fs::path Program(const std::string& name, const std::string& text) {
    const fs::path dir = dir_ / "program";
    fs::create_directories(dir);
    const fs::path p = dir / name;
    std::ofstream(p) << text;
    ::chmod(p.c_str(), 0755);
    return p;
  }

  // Waits until no job of the sweep is queued or running.
  bool Settled(const std::string& sweep, int timeout_s) {
    return testutil::WaitUntil(
        [&] {
          const Json st = Status(sweep);
          return st.contains("states") && st["states"].value("queued", 0) == 0 &&
                 st["states"].value("running", 0) == 0 && st.value("jobs", 0) > 0;
        },
        timeout_s);
  }

  std::string Job(const std::string& variant, const std::string& column) {
    return Text(fmt::format("SELECT COALESCE({}, '') FROM jobs WHERE variant = '{}'", column, variant));
  }
};

TEST_F(CommandJobsTest, AConformingShellProgramRunsASweepToItsReport) {
  Program("train.sh", kTrainScript);
  StartCoordinator();
  StartWorker(1);
  StartWorker(2);
  const Json spec = {
      {"name", "own"},
      {"kind", "command"},
      {"program", {{"command", {"./train.sh", "{args}"}}, {"params", {{"boost", 0}}},
                   {"workdir", (dir_ / "program").string()}, {"env", {{"EPOCHS", "2"}}}}},
      {"variants", {{{"name", "mine"}, {"overrides", {{"params", {{"boost", 0.05}}}}}},
                    {{"name", "base"}, {"role", "baseline"}}}},
      {"seeds", 4},
      {"comparisons", {{{"variant", "mine"}, {"baselines", {"base"}}, {"metric", "macro_f1"}}}},
      {"max_attempts", 2}};
  Call({{"op", "submit"}, {"spec", spec}, {"source", "own.json"}});
  ASSERT_TRUE(Settled("own", 60)) << Status("own").dump();
  EXPECT_EQ(Status("own")["states"].value("done", 0), 8) << Status("own").dump();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 8);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM epochs"), 16) << "two epochs per job, forwarded live";
  // The stored result: the program's metrics, the worker's provenance.
  auto stored = ParseJson(Text("SELECT r.result FROM results r JOIN jobs j ON j.id = r.job_id "
                               "WHERE j.key = 'own/mine/-/seed=1/partition=1'"), "result");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_NEAR((*stored)["test"]["metrics"]["macro_f1"].get<double>(), ExpectedF1(1, 2, 0.05), 1e-6);
  EXPECT_EQ((*stored)["provenance"]["command"]["argv"], (Json{"./train.sh", "--boost=0.05"}));
  EXPECT_EQ((*stored)["provenance"]["command"]["env"]["EPOCHS"], "2");
  EXPECT_EQ((*stored)["state_sum"], 6) << "a field of the program's own is kept";
  EXPECT_TRUE((*stored).contains("compute_seconds"));
  const std::string log = (*stored)["provenance"]["command"].value("stdout_log", "");
  EXPECT_TRUE(fs::exists(log)) << "the attempt's logs outlive its spool folder: " << stored->dump();
  auto logged = ReadFileToString(log);
  EXPECT_TRUE(logged.ok() && *logged == "epoch 1 done\nepoch 2 done\n") << (logged.ok() ? *logged : "unreadable");
  EXPECT_FALSE((*stored)["provenance"]["command"].contains("stderr_log")) << "a silent stream leaves no file";
  // The report: its verdict for the comparison.
  auto report = testutil::RunCommand(fmt::format("{}avctl report own --db {} --out {}", testutil::kBin, db_,
                                                 (dir_ / "report").string()));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  auto index = ReadFileToString((dir_ / "report" / "index.html").string());
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("mine beats base"), std::string::npos);
  EXPECT_EQ(index->find("versions of"), std::string::npos) << "one version of the script so far";
  EXPECT_EQ((*stored)["provenance"]["command"]["script"], (dir_ / "program" / "train.sh").string());
  EXPECT_EQ((*stored)["provenance"]["command"]["script_sha256"].get<std::string>().size(), 64u);
  EXPECT_EQ((*stored)["provenance"]["command"]["interpreter"]["path"], (dir_ / "program" / "train.sh").string());

  // The script changes, and the sweep is resubmitted with more seeds: the
  // four stored results per variant ran the old script.
  std::ofstream(dir_ / "program" / "train.sh", std::ios::app) << "# tuned\n";
  Json more = spec;
  more["seeds"] = 6;
  const fs::path spec_file = dir_ / "own.json";
  std::ofstream(spec_file) << more.dump();
  int code = -1;
  std::string out = Avctl("sweep submit " + spec_file.string(), &code);
  EXPECT_EQ(code, 1) << out;
  EXPECT_NE(out.find("variant mine: 4 stored result(s) ran another version of " +
                     (dir_ / "program" / "train.sh").string()), std::string::npos) << out;
  EXPECT_NE(out.find("--allow-changed-code"), std::string::npos) << out;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 8) << "nothing added";
  out = Avctl("sweep submit --allow-changed-code " + spec_file.string(), &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("warning: the record holds results of sweep own from other code"), std::string::npos) << out;
  ASSERT_TRUE(Settled("own", 60)) << Status("own").dump();
  report = testutil::RunCommand(fmt::format("{}avctl report own --db {} --out {}", testutil::kBin, db_,
                                            (dir_ / "report").string()));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  index = ReadFileToString((dir_ / "report" / "index.html").string());
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("Warning: Variant mine ran 2 versions of"), std::string::npos);
}

TEST_F(CommandJobsTest, EachBreachOfTheContractFailsNamingWhatIsWrong) {
  Program("train.sh", kTrainScript);
  Program("no_result.sh", "#!/bin/sh\necho 'trained, forgot the result'\nexit 0\n");
  Program("torn.sh", "#!/bin/sh\nprintf '{\"status\": \"ok\", \"test\": {\"metr' > \"$AVCTL_RESULT\"\n");
  Program("no_metric.sh",
          "#!/bin/sh\nprintf '{\"status\": \"ok\", \"test\": {\"metrics\": {\"accuracy\": 0.5}}}' > \"$AVCTL_RESULT\"\n");
  Program("crash.sh", "#!/bin/sh\necho 'epoch 1 done' >&2\necho 'Traceback: RuntimeError: boom' >&2\nexit 1\n");
  Program("flood.sh", "#!/bin/sh\nhead -c 100000000 /dev/zero\nexec ./train.sh\n");
  Program("slow.sh", "#!/bin/sh\nsleep 60\n");
  StartCoordinator();
  StartWorker(1, {"--stop-timeout", "1"});
  StartWorker(2, {"--stop-timeout", "1"});
  auto variant = [](const std::string& name, Json command, Json extra = Json::object()) {
    Json program = {{"command", std::move(command)}};
    program.update(extra);
    return Json{{"name", name}, {"role", name == "ok" ? "proposed" : "baseline"}, {"program", program}};
  };
  const Json spec = {
      {"name", "breaches"},
      {"kind", "command"},
      {"program", {{"command", {"./train.sh"}}, {"workdir", (dir_ / "program").string()}, {"env", {{"EPOCHS", "1"}}}}},
      {"variants", {variant("ok", {"./train.sh"}), variant("no_result", {"./no_result.sh"}),
                    variant("torn", {"./torn.sh"}), variant("no_metric", {"./no_metric.sh"}),
                    variant("bad_config", {"./train.sh", "--nonsense=1"}), variant("missing", {"./not_there.sh"}),
                    variant("crash", {"./crash.sh"}), variant("flood", {"./flood.sh"}),
                    variant("slow", {"./slow.sh"}, {{"timeout_minutes", 0.02}})}},
      {"seeds", 1},
      {"comparisons", {{{"variant", "ok"},
                        {"baselines", {"no_result", "torn", "no_metric", "bad_config", "missing", "crash", "flood",
                                       "slow"}},
                        {"metric", "macro_f1"}}}},
      {"max_attempts", 2}};
  Call({{"op", "submit"}, {"spec", spec}, {"source", "breaches.json"}});
  ASSERT_TRUE(Settled("breaches", 90)) << Status("breaches").dump();
  struct Want {
    std::string variant, state;
    int attempts;
    std::string fragment;
  };
  const std::vector<Want> wants = {
      {"ok", "done", 1, ""},
      {"flood", "done", 1, ""},  // 100 MB of stdout neither stalled the worker nor the job
      {"no_result", "failed", 1, "exited with code 0 but wrote no result to"},
      {"torn", "failed", 1, "program_result.json"},
      {"no_metric", "failed", 1, "result.test.metrics.macro_f1: missing (the sweep compares macro_f1"},
      {"bad_config", "failed", 1, "unknown option --nonsense=1"},
      {"missing", "failed", 1, "cannot run ./not_there.sh"},
      {"crash", "failed", 2, "Traceback: RuntimeError: boom"},
      {"slow", "failed", 2, "ran past its timeout of 0.02 minute(s)"},
  };
  for (const Want& w : wants) {
    SCOPED_TRACE(w.variant);
    EXPECT_EQ(Job(w.variant, "state"), w.state) << Job(w.variant, "reason");
    EXPECT_EQ(Job(w.variant, "attempts"), std::to_string(w.attempts)) << Job(w.variant, "reason");
    EXPECT_NE(Job(w.variant, "reason").find(w.fragment), std::string::npos) << Job(w.variant, "reason");
  }
  EXPECT_NE(Job("torn", "reason").find("unusable"), std::string::npos) << Job("torn", "reason");
  // `avctl jobs` shows a failed attempt's stderr tail.
  int code = -1;
  const std::string jobs = Avctl("jobs breaches --state failed", &code);
  EXPECT_EQ(code, 0) << jobs;
  EXPECT_NE(jobs.find("Traceback: RuntimeError: boom"), std::string::npos) << jobs;
  // Both workers are still there: no breach was taken for a broken worker.
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workers WHERE state != 'lost'"), 2);
}

bool Gone(pid_t pid) { return testutil::ProcessGone(pid); }

TEST_F(CommandJobsTest, CancelStopsAChildThatIgnoresSigtermAndAGrandchildThatCalledSetsid) {
  Program("stubborn.sh", "#!/bin/sh\n(trap '' TERM; exec sleep 300) &\necho $! > \"$AVCTL_OUTPUT_DIR/stubborn.pid\"\n"
                         "setsid sleep 300 &\necho $! > \"$AVCTL_OUTPUT_DIR/escaped.pid\"\necho $$ > "
                         "\"$AVCTL_OUTPUT_DIR/main.pid\"\nwait\n");
  StartCoordinator();
  StartWorker(1, {"--stop-timeout", "1"});
  const Json spec = {{"name", "stubborn"},
                     {"kind", "command"},
                     {"program", {{"command", {"./stubborn.sh"}}, {"workdir", (dir_ / "program").string()}}},
                     {"variants", {{{"name", "a"}}}},
                     {"seeds", 1}};
  Call({{"op", "submit"}, {"spec", spec}, {"source", "stubborn.json"}});
  fs::path outputs = dir_ / "w1" / "outputs";
  std::vector<pid_t> pids;
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        pids.clear();
        if (!fs::exists(outputs)) return false;
        for (const auto& job : fs::directory_iterator(outputs)) {
          for (const char* f : {"main.pid", "stubborn.pid", "escaped.pid"}) {
            auto text = ReadFileToString((job.path() / f).string());
            if (!text.ok() || text->empty()) return false;
            pids.push_back(std::stoi(*text));
          }
        }
        return pids.size() == 3;
      },
      30));
  for (pid_t p : pids) ASSERT_FALSE(Gone(p)) << p;
  int code = -1;
  const std::string out = Avctl("sweep cancel stubborn", &code);
  ASSERT_EQ(code, 0) << out;
  // SIGTERM, then SIGKILL after the 1 s stop timeout: nothing of the job is left.
  EXPECT_TRUE(testutil::WaitUntil([&] { return Gone(pids[0]) && Gone(pids[1]) && Gone(pids[2]); }, 15))
      << "main " << Gone(pids[0]) << " stubborn " << Gone(pids[1]) << " escaped " << Gone(pids[2]);
  EXPECT_TRUE(workers_[0]->running());
}

TEST_F(CommandJobsTest, PreemptionIsRequeuedUncountedAndAKilledWorkersJobResumesElsewhereWithTheSameMetrics) {
  Program("train.sh", kTrainScript);
  StartCoordinator();
  const Json spec = {
      {"name", "resume"},
      {"kind", "command"},
      {"program", {{"command", {"./train.sh"}}, {"workdir", (dir_ / "program").string()},
                   {"env", {{"EPOCHS", "8"}, {"EPOCH_SLEEP", "0.3"}}}}},
      {"variants", {{{"name", "a"}}}},
      {"seeds", {5}},
      {"checkpoint_dir", (dir_ / "shared-checkpoints").string()},
      {"max_attempts", 3}};
  Call({{"op", "submit"}, {"spec", spec}, {"source", "resume.json"}});
  auto epoch_reached = [&](int n) {
    for (const auto& d : fs::directory_iterator(dir_ / "shared-checkpoints")) {
      int epoch = 0;
      std::ifstream(d.path() / "state") >> epoch;
      if (epoch >= n) return true;
    }
    return false;
  };
  // Worker 1 is preempted (SIGTERM, as Slurm does): the program checkpoints and exits 3.
  testutil::ChildProcess* w1 = StartWorker(1);
  ASSERT_TRUE(testutil::WaitUntil([&] { return fs::exists(dir_ / "shared-checkpoints") && epoch_reached(2); }, 30));
  w1->Kill(SIGTERM);
  ASSERT_TRUE(testutil::WaitUntil([&] { return !w1->running(); }, 30)) << w1->Log();
  ASSERT_TRUE(testutil::WaitUntil([&] { return Count("SELECT COUNT(*) FROM attempts WHERE state = 'preempted'") == 1; },
                                  10));
  EXPECT_EQ(Job("a", "state"), "queued");
  EXPECT_EQ(Job("a", "attempts"), "0") << "a preempted attempt is not counted against max_attempts";
  // Worker 2 resumes it and is killed outright mid-epoch.
  testutil::ChildProcess* w2 = StartWorker(2);
  ASSERT_TRUE(testutil::WaitUntil([&] { return epoch_reached(5); }, 30));
  w2->Kill(SIGKILL);
  ASSERT_TRUE(testutil::WaitUntil([&] { return Count("SELECT COUNT(*) FROM attempts WHERE state = 'lost'") == 1; }, 20));
  // Worker 3 finishes it from the last checkpoint.
  StartWorker(3);
  ASSERT_TRUE(Settled("resume", 60)) << Status("resume").dump();
  EXPECT_EQ(Job("a", "state"), "done") << Job("a", "reason");
  auto stored = ParseJson(Text("SELECT result FROM results"), "result");
  ASSERT_TRUE(stored.ok());
  EXPECT_NEAR((*stored)["test"]["metrics"]["macro_f1"].get<double>(), ExpectedF1(5, 8, 0), 1e-9)
      << "the metrics of a fault-free run";
  EXPECT_GE((*stored)["resume"]["epochs"].get<int>(), 5) << stored->dump();
  EXPECT_EQ(Text("SELECT COALESCE(resumed_epochs, -1) FROM attempts WHERE state = 'succeeded'"),
            std::to_string((*stored)["resume"]["epochs"].get<int>()));
  // Its checkpoint folder is removed once the result is stored.
  EXPECT_TRUE(testutil::WaitUntil([&] { return fs::is_empty(dir_ / "shared-checkpoints"); }, 10));
}

// A result finished while the coordinator is away stays in the worker's
// spool (written without fsync, synced once it has waited a second without
// acknowledgement), survives the worker's SIGKILL and restart, and is stored
// once when the coordinator is back: the program does not run again.
TEST_F(CommandJobsTest, AResultFinishedWhileTheCoordinatorIsAwayIsSyncedAndStoredOnceAfterRestarts) {
  Program("gated.sh",
          "#!/bin/sh\n"
          "echo run >> runs.txt\n"
          "while [ ! -f go ]; do sleep 0.05; done\n"
          "printf '{\"status\": \"ok\", \"test\": {\"metrics\": {\"macro_f1\": 0.625}}}' > \"$AVCTL_RESULT\"\n");
  StartCoordinator();
  testutil::ChildProcess* w1 = StartWorker(1);
  const Json spec = {{"name", "away"},
                     {"kind", "command"},
                     {"program", {{"command", {"./gated.sh"}}, {"workdir", (dir_ / "program").string()}}},
                     {"variants", {{{"name", "a"}}}},
                     {"seeds", {1}}};
  Call({{"op", "submit"}, {"spec", spec}, {"source", "away.json"}});
  ASSERT_TRUE(testutil::WaitUntil([&] { return fs::exists(dir_ / "program" / "runs.txt"); }, 30)) << w1->Log();
  coord_->Kill(SIGKILL);
  const size_t mark = w1->Log().size();
  std::ofstream(dir_ / "program" / "go") << "go\n";
  ASSERT_TRUE(testutil::WaitUntil([&] { return w1->Log().find("synced to disk", mark) != std::string::npos; }, 30))
      << w1->Log();
  bool spooled = false;
  for (const auto& d : fs::directory_iterator(dir_ / "w1" / "attempts")) spooled |= fs::exists(d.path() / "result.json");
  EXPECT_TRUE(spooled);
  w1->Kill(SIGKILL);
  StartWorker(1);
  StartCoordinator();
  ASSERT_TRUE(Settled("away", 60)) << Status("away").dump() << coord_->Log();
  EXPECT_EQ(Job("a", "state"), "done") << Job("a", "reason");
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 1);
  EXPECT_EQ(Text("SELECT json_extract(result, '$.test.metrics.macro_f1') FROM results"), "0.625");
  auto runs = ReadFileToString((dir_ / "program" / "runs.txt").string());
  ASSERT_TRUE(runs.ok());
  EXPECT_EQ(*runs, "run\n") << "the program ran once";
}

// Out of memory (said on stderr, as PyTorch says it): tried once more on the
// other worker, then failed as too large for the fleet. A node whose jobs
// all fail (w1 here: "its driver is gone") is held after three different
// jobs, and the queue finishes on the healthy one.
TEST_F(CommandJobsTest, OutOfMemoryTriesAnotherWorkerOnceAndABrokenWorkerIsHeld) {
  Program("oom.sh", "#!/bin/sh\necho 'RuntimeError: CUDA out of memory. Tried to allocate 2.00 GiB' >&2\nexit 1\n");
  Program("node.sh",
          "#!/bin/sh\ncase \"$AVCTL_ATTEMPT_TOKEN\" in w1-*) echo 'CUDA driver version is insufficient' >&2; "
          "exit 1 ;; esac\nsleep 0.2\nprintf '{\"status\": \"ok\", \"test\": {\"metrics\": {\"macro_f1\": 0.5}}}' > "
          "\"$AVCTL_RESULT.tmp\"\nmv \"$AVCTL_RESULT.tmp\" \"$AVCTL_RESULT\"\n");
  StartCoordinator();
  StartWorker(1);
  StartWorker(2);
  const std::string workdir = (dir_ / "program").string();
  Call({{"op", "submit"},
        {"spec", {{"name", "oom"}, {"kind", "command"},
                  {"program", {{"command", {"./oom.sh"}}, {"workdir", workdir}}},
                  {"variants", {{{"name", "big"}}}}, {"seeds", 1}, {"max_attempts", 5}}},
        {"source", "oom.json"}});
  ASSERT_TRUE(Settled("oom", 60)) << Status("oom").dump();
  EXPECT_EQ(Job("big", "state"), "failed");
  EXPECT_EQ(Job("big", "attempts"), "2") << "retried once, not five times: " << Job("big", "reason");
  EXPECT_NE(Job("big", "reason").find("too large for the fleet"), std::string::npos) << Job("big", "reason");
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT worker_id) FROM attempts"), 2) << "the retry went to the other worker";
  // Out of memory is not a broken node: neither worker is held.
  int code = -1;
  EXPECT_EQ(Avctl("workers", &code).find("held"), std::string::npos);

  Call({{"op", "submit"},
        {"spec", {{"name", "node"}, {"kind", "command"},
                  {"program", {{"command", {"./node.sh"}}, {"workdir", workdir}}},
                  {"variants", {{{"name", "a"}}}}, {"seeds", 12}, {"max_attempts", 3}}},
        {"source", "node.json"}});
  ASSERT_TRUE(Settled("node", 90)) << Status("node").dump();
  EXPECT_EQ(Status("node")["states"].value("done", 0), 12) << "no job failed for the broken node";
  const int64_t on_w1 = Count("SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id "
                              "WHERE j.key LIKE 'node/%' AND a.worker_id = 'w1'");
  EXPECT_EQ(on_w1, 3) << "held after three different jobs failed on it";
  const std::string workers = Avctl("workers", &code);
  EXPECT_EQ(code, 0) << workers;
  EXPECT_NE(workers.find("held: 3 attempts of 3 different jobs failed here in a row; last:"), std::string::npos)
      << workers;
  EXPECT_NE(workers.find("CUDA driver version is insufficient"), std::string::npos) << workers;
  EXPECT_EQ(Count("SELECT COUNT(*) FROM events WHERE kind = 'worker_held'"), 1);
}

}  // namespace
}  // namespace avctl
