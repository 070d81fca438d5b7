// Group-sequential sweeps end to end (issue 27): real avcoord and avworker
// processes on loopback run command jobs whose metric is a known function
// of the seed, so each look's decision is known in advance (the same data
// as tests/coordinator/sequential_monitor_test.cc). A large effect stops at
// look 2 and its later seeds never run; a variant with no effect goes on to
// the last look, or stops for futility; a job that fails for good does not
// hang its look; a coordinator killed mid-look and restarted reaches the
// same decisions as an uninterrupted run of the same sweep.
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

// macro_f1 = 0.5 + 0.01 sin(1.7 seed) + shift + wobble sin(freq seed + phase);
// seed fail_seed exits 1; JOB_SLEEP slows every job.
constexpr const char* kScript = R"(#!/bin/sh
set -e
sh_=0; wobble=0; freq=1; phase=0; fail_seed=-1
for a in "$@"; do
  case "$a" in
    --shift=*) sh_="${a#--shift=}" ;;
    --wobble=*) wobble="${a#--wobble=}" ;;
    --freq=*) freq="${a#--freq=}" ;;
    --phase=*) phase="${a#--phase=}" ;;
    --fail_seed=*) fail_seed="${a#--fail_seed=}" ;;
    *) echo "unknown option $a" >&2; exit 2 ;;
  esac
done
if [ "$AVCTL_SEED" = "$fail_seed" ]; then echo "seed $fail_seed fails on purpose" >&2; exit 1; fi
if [ -n "$JOB_SLEEP" ]; then sleep "$JOB_SLEEP"; fi
f1=$(awk -v s="$AVCTL_SEED" -v sh="$sh_" -v w="$wobble" -v f="$freq" -v p="$phase" \
  'BEGIN { printf "%.9f", 0.5 + 0.01 * sin(1.7 * s) + sh + w * sin(f * s + p) }')
printf '{"status": "ok", "test": {"metrics": {"macro_f1": %s}}}\n' "$f1" > "$AVCTL_RESULT.tmp"
mv "$AVCTL_RESULT.tmp" "$AVCTL_RESULT"
)";

class SequentialSweepTest : public testutil::ClusterTest {
 protected:
  void SetUp() override {
    testutil::ClusterTest::SetUp();
    const fs::path dir = dir_ / "program";
    fs::create_directories(dir);
    std::ofstream(dir / "score.sh") << kScript;
    ::chmod((dir / "score.sh").c_str(), 0755);
  }

  // big: +0.02 (d_z about 2.8); none: no effect, or -0.03 with `none_worse`;
  // extra: in no comparison. Looks at 5, 10, 15, 20 pairs.
  Json Spec(const std::string& name, bool futility, int base_fail_seed, const std::string& job_sleep = "",
            const std::string& release = "held") {
    Json env = Json::object();
    if (!job_sleep.empty()) env["JOB_SLEEP"] = job_sleep;
    return {{"name", name},
            {"kind", "command"},
            {"program", {{"command", {"./score.sh", "{args}"}},
                         {"params", {{"shift", 0}, {"wobble", 0}, {"freq", 1}, {"phase", 0}, {"fail_seed", -1}}},
                         {"workdir", (dir_ / "program").string()}, {"env", env}}},
            {"variants",
             {{{"name", "big"}, {"overrides", {{"params", {{"shift", 0.02}, {"wobble", 0.01}, {"freq", 3.1}, {"phase", 1}}}}}},
              {{"name", "none"},
               {"overrides", {{"params", {{"shift", futility ? -0.03 : 0.0}, {"wobble", 0.01}, {"freq", 2.3},
                                          {"phase", 1.9707963267948966}}}}}},
              {{"name", "base"}, {"role", "baseline"}, {"overrides", {{"params", {{"fail_seed", base_fail_seed}}}}}},
              {{"name", "extra"}, {"role", "baseline"}}}},
            {"seeds", 20},
            {"max_attempts", 1},
            {"comparisons",
             {{{"variant", "big"}, {"baselines", {"base"}}, {"metric", "macro_f1"}},
              {{"variant", "none"}, {"baselines", {"base"}}, {"metric", "macro_f1"}}}},
            {"sequential",
             {{"looks", {5, 10, 15, 20}}, {"futility", futility ? "non_binding" : "none"}, {"release", release}}}};
  }

  // No job of the sweep is queued, running or held.
  bool Settled(const std::string& sweep, int timeout_s) {
    return testutil::WaitUntil(
        [&] {
          const Json st = Status(sweep);
          return st.contains("states") && st.value("jobs", 0) > 0 && st["states"].value("queued", 0) == 0 &&
                 st["states"].value("running", 0) == 0 && st["states"].value("held", 0) == 0;
        },
        timeout_s);
  }

  int64_t Jobs(const std::string& sweep, const std::string& where) {
    return Count(fmt::format("SELECT COUNT(*) FROM jobs j JOIN sweeps s ON s.id = j.sweep_id WHERE s.name = '{}' AND {}",
                             sweep, where));
  }
  // Attempts dispatched: the jobs a worker actually trained.
  int64_t Trained(const std::string& sweep, const std::string& variant) {
    return Count(fmt::format("SELECT COUNT(*) FROM attempts a JOIN jobs j ON j.id = a.job_id JOIN sweeps s ON "
                             "s.id = j.sweep_id WHERE s.name = '{}' AND j.variant = '{}'",
                             sweep, variant));
  }
  std::string Looks(const std::string& sweep) {
    return Text(fmt::format("SELECT group_concat(data, char(10)) FROM (SELECT l.data FROM sequential_looks l JOIN "
                            "sweeps s ON s.id = l.sweep_id WHERE s.name = '{}' ORDER BY l.look)",
                            sweep));
  }
};

TEST_F(SequentialSweepTest, ALargeEffectStopsAtTheSecondLookAndItsLaterSeedsNeverRun) {
  StartCoordinator();
  StartWorker(1);
  StartWorker(2);
  const Json submitted = Call({{"op", "submit"}, {"spec", Spec("seq", false, -1)}, {"source", "seq.json"}});
  EXPECT_EQ(submitted.value("jobs", 0), 80);
  ASSERT_TRUE(Settled("seq", 90)) << Status("seq").dump();
  const Json st = Status("seq");
  // big: efficacy at look 2 (10 pairs); seeds 10-19 never dispatched.
  EXPECT_EQ(Trained("seq", "big"), 10) << st.dump();
  EXPECT_EQ(Jobs("seq", "variant = 'big' AND state = 'not_needed'"), 10);
  EXPECT_EQ(Jobs("seq", "variant = 'big' AND state = 'not_needed' AND seed < 10"), 0);
  // none has no effect: every look, accepted at the last; base serves it to the end.
  EXPECT_EQ(Trained("seq", "none"), 20);
  EXPECT_EQ(Trained("seq", "base"), 20);
  EXPECT_EQ(Trained("seq", "extra"), 20) << "a variant in no comparison runs every seed";
  EXPECT_EQ(st["states"].value("not_needed", -1), 10);
  ASSERT_TRUE(st.contains("sequential")) << st.dump();
  const Json& seq = st["sequential"];
  EXPECT_EQ(seq.value("looks_analysed", 0), 4) << seq.dump();
  ASSERT_EQ(seq["looks"].size(), 4u);
  const Json& second = seq["looks"][1]["tests"];
  EXPECT_EQ(second[0]["variant"], "big");
  EXPECT_EQ(second[0]["decision"], "efficacy") << second.dump();
  EXPECT_EQ(second[0]["pairs"], 10);
  EXPECT_EQ(seq["looks"][0]["tests"][0]["decision"], "continue");
  EXPECT_EQ(seq["looks"][3]["tests"][1]["decision"], "accepted") << seq.dump();
  EXPECT_EQ(seq["looks"][3]["tests"][1]["pairs"], 20);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM events WHERE kind = 'look'"), 4);
  // The report: where each comparison stopped, and the seeds not needed.
  auto report = testutil::RunCommand(fmt::format("{}avctl report seq --db {} --out {}", testutil::kBin, db_,
                                                 (dir_ / "report").string()));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  auto index = ReadFileToString((dir_ / "report" / "index.html").string());
  ASSERT_TRUE(index.ok());
  EXPECT_NE(index->find("<h2>Group-sequential looks</h2>"), std::string::npos);
  EXPECT_NE(index->find("Group-sequential: big beats base on macro_f1 at look 2 of 4, with 10 of 20 pairs"),
            std::string::npos);
  EXPECT_NE(index->find("no rejection by the last look (4)"), std::string::npos);
  EXPECT_NE(index->find("10 job(s) were not needed"), std::string::npos);
  // sweep retry leaves the jobs that were not needed alone.
  const Json retried = Call({{"op", "retry"}, {"sweep", "seq"}});
  EXPECT_EQ(retried.value("requeued", -1), 0);
  EXPECT_EQ(Status("seq")["states"].value("not_needed", -1), 10);
  EXPECT_EQ(Status("seq")["states"].value("queued", -1), 0);
}

TEST_F(SequentialSweepTest, FutilityAFailedJobAndARestartMidLookGiveTheUninterruptedDecisions) {
  StartCoordinator();
  StartWorker(1);
  // The reference: run through without interruption.
  Call({{"op", "submit"}, {"spec", Spec("ref", true, 2)}, {"source", "ref.json"}});
  ASSERT_TRUE(Settled("ref", 90)) << Status("ref").dump();
  // none (-0.03) stops for futility at look 1; base's seed 2 failed for good
  // and look 1 was analysed with 4 pairs instead of hanging.
  const Json ref = Status("ref")["sequential"];
  ASSERT_GE(ref["looks"].size(), 2u) << ref.dump();
  EXPECT_EQ(ref["looks"][0]["tests"][1]["decision"], "futility") << ref.dump();
  EXPECT_EQ(ref["looks"][0]["tests"][0]["pairs"], 4) << ref.dump();
  EXPECT_EQ(Jobs("ref", "variant = 'base' AND state = 'failed'"), 1);
  EXPECT_EQ(Trained("ref", "none"), 5) << "stage 1 of none never ran";
  // The same sweep with slow jobs, its coordinator killed once look 1 is stored.
  Call({{"op", "submit"}, {"spec", Spec("cut", true, 2, "0.2")}, {"source", "cut.json"}});
  ASSERT_TRUE(testutil::WaitUntil(
      [&] {
        return Count("SELECT COUNT(*) FROM sequential_looks l JOIN sweeps s ON s.id = l.sweep_id WHERE s.name = 'cut'") >= 1;
      },
      90));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sequential_looks l JOIN sweeps s ON s.id = l.sweep_id WHERE s.name = 'cut'"), 1)
      << "killed mid-look 2";
  coord_->Kill(SIGKILL);
  StartCoordinator();
  ASSERT_TRUE(Settled("cut", 120)) << Status("cut").dump();
  EXPECT_EQ(Looks("cut"), Looks("ref")) << "the same data and decisions at every look";
  for (const char* v : {"big", "none", "base", "extra"}) {
    EXPECT_EQ(Trained("cut", v) >= Trained("ref", v), true) << v;
    EXPECT_EQ(Jobs("cut", fmt::format("variant = '{}' AND state = 'not_needed'", v)),
              Jobs("ref", fmt::format("variant = '{}' AND state = 'not_needed'", v)))
        << v;
  }
  EXPECT_EQ(Trained("cut", "none"), 5);
}

TEST_F(SequentialSweepTest, SpeculativeReleaseRunsAheadAndResultsPastADecisionDoNotChangeIt) {
  StartCoordinator();
  StartWorker(1);
  StartWorker(2);
  Call({{"op", "submit"}, {"spec", Spec("held", false, -1)}, {"source", "held.json"}});
  ASSERT_TRUE(Settled("held", 90)) << Status("held").dump();
  Call({{"op", "submit"}, {"spec", Spec("spec", false, -1, "", "speculative")}, {"source", "spec.json"}});
  ASSERT_TRUE(Settled("spec", 90)) << Status("spec").dump();
  // Every stage was queued at once; whatever of big's ran past look 2 is
  // overrun, and the decisions are the held run's.
  EXPECT_EQ(Looks("spec"), Looks("held"));
  EXPECT_EQ(Trained("spec", "big") + Jobs("spec", "variant = 'big' AND state = 'not_needed'"), 20);
  EXPECT_EQ(Jobs("spec", "variant = 'big' AND state = 'not_needed' AND seed < 10"), 0);
  const int64_t overrun = Jobs("spec", "variant = 'big' AND state = 'done' AND seed >= 10");
  auto report = testutil::RunCommand(fmt::format("{}avctl report spec --db {} --out {}", testutil::kBin, db_,
                                                 (dir_ / "report").string()));
  ASSERT_EQ(report.exit_code, 0) << report.output;
  auto json = ReadFileToString((dir_ / "report" / "table.json").string());
  ASSERT_TRUE(json.ok());
  auto table = ParseJson(*json, "table.json");
  ASSERT_TRUE(table.ok());
  EXPECT_EQ((*table)["sequential"]["overrun"], overrun) << (*table)["sequential"].dump();
  EXPECT_EQ((*table)["sequential"]["tests"][0]["pairs_used"], 10);
}

}  // namespace
}  // namespace avctl
