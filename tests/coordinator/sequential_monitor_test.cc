// The decisions of a group-sequential sweep without processes: which looks
// are ready, what they decide from results, which stages each group gets,
// which jobs end not needed, and that replaying the stored looks gives the
// same state (the restart property).
#include "coordinator/sequential_monitor.h"

#include <cmath>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// proposed "big" (a large effect) and "none" (no effect) against one
// baseline; an extra variant in no comparison; looks at 5/10/15/20 pairs.
Json Spec(const std::string& release = "held", bool futility = false) {
  return {{"name", "seq"},
          {"kind", "command"},
          {"program", {{"command", {"./train.sh", "{args}"}}, {"params", {{"boost", 0}}}}},
          {"variants",
           {{{"name", "big"}, {"overrides", {{"params", {{"boost", 1}}}}}},
            {{"name", "none"}, {"overrides", {{"params", {{"boost", 2}}}}}},
            {{"name", "base"}, {"role", "baseline"}},
            {{"name", "extra"}, {"role", "baseline"}, {"overrides", {{"params", {{"boost", 3}}}}}}}},
          {"seeds", 20},
          {"comparisons",
           {{{"variant", "big"}, {"baselines", {"base"}}, {"metric", "macro_f1"}},
            {{"variant", "none"}, {"baselines", {"base"}}, {"metric", "macro_f1"}}}},
          {"sequential",
           {{"looks", {5, 10, 15, 20}}, {"release", release}, {"futility", futility ? "non_binding" : "none"}}}};
}

std::vector<GroupKey> Groups() { return {{"big", ""}, {"none", ""}, {"base", ""}, {"extra", ""}}; }

// Results of seeds [from, to) for every group: base ~ 0.5 + noise, big =
// base + 0.02 + noise (d_z about 2.8: clear at 10 pairs, not at 5 under
// O'Brien-Fleming), none = base + zero-mean noise.
void AddResults(std::vector<ResultRow>* rows, int from, int to) {
  for (int s = from; s < to; ++s) {
    const double base = 0.5 + 0.01 * std::sin(1.7 * s);
    const double noise = 0.01 * std::cos(2.3 * s + 0.4);
    for (const auto& [variant, v] : std::vector<std::pair<std::string, double>>{
             {"base", base}, {"big", base + 0.02 + 0.01 * std::sin(3.1 * s + 1)}, {"none", base + noise}, {"extra", base}}) {
      ResultRow r;
      r.variant = variant;
      r.seed = static_cast<uint64_t>(s);
      r.partition = 1;
      r.metrics["macro_f1"] = v;
      rows->push_back(r);
    }
  }
}

std::unique_ptr<SequentialMonitor> Monitor(const Json& spec_json, const std::vector<SequentialLook>& looks = {}) {
  auto spec = ParseSweepSpec(spec_json, "seq.json");
  EXPECT_TRUE(spec.ok()) << spec.status().ToString();
  auto m = SequentialMonitor::Make(*spec, Groups(), looks);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(*m) : nullptr;
}

const GroupRelease& Of(const std::vector<GroupRelease>& rs, const std::string& variant) {
  for (const auto& r : rs) {
    if (r.group.variant == variant) return r;
  }
  ADD_FAILURE() << "no group " << variant;
  return rs.front();
}

JobStageCount Count(const std::string& variant, int stage, JobState state, int64_t jobs) {
  JobStageCount c;
  c.variant = variant;
  c.stage = stage;
  c.state = state;
  c.jobs = jobs;
  return c;
}

TEST(SequentialMonitor, StagesFollowTheSeedsAndTheFirstStageIsAllThatRunsAtFirst) {
  auto m = Monitor(Spec());
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->tests().size(), 2u);
  EXPECT_EQ(m->StageOf(0), 0);
  EXPECT_EQ(m->StageOf(4), 0);
  EXPECT_EQ(m->StageOf(5), 1);
  EXPECT_EQ(m->StageOf(19), 3);
  EXPECT_EQ(m->StageOf(99), -1);
  const auto rs = m->Releases();
  EXPECT_EQ(Of(rs, "big").through_stage, 0);
  EXPECT_EQ(Of(rs, "base").through_stage, 0);
  EXPECT_EQ(Of(rs, "extra").through_stage, 3) << "a group in no comparison runs every seed";
  EXPECT_FALSE(Of(rs, "big").decided);
}

TEST(SequentialMonitor, ALookWaitsForEveryJobOfItsStagesThatATestStillNeeds) {
  auto m = Monitor(Spec());
  ASSERT_NE(m, nullptr);
  EXPECT_FALSE(m->NextLookReady({Count("big", 0, JobState::kDone, 4), Count("big", 0, JobState::kRunning, 1)}));
  EXPECT_FALSE(m->NextLookReady({Count("base", 0, JobState::kCancelled, 1)})) << "a cancelled sweep pauses";
  EXPECT_FALSE(m->NextLookReady({Count("none", 0, JobState::kHeld, 1)}));
  EXPECT_TRUE(m->NextLookReady({Count("big", 0, JobState::kDone, 4), Count("big", 0, JobState::kFailed, 1),
                                Count("big", 1, JobState::kHeld, 5), Count("extra", 0, JobState::kRunning, 5)}))
      << "failed jobs end a look's wait; later stages and groups in no test do not hold it";
}

TEST(SequentialMonitor, ALargeEffectStopsEarlyAndItsLaterSeedsAreNotNeeded) {
  auto m = Monitor(Spec());
  ASSERT_NE(m, nullptr);
  std::vector<ResultRow> rows;
  AddResults(&rows, 0, 10);  // stage 1's results too: look 1 must leave them out
  auto look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ(look->look, 0);
  EXPECT_EQ(look->planned_pairs, 5);
  ASSERT_EQ(look->tests.size(), 2u);
  EXPECT_EQ(look->tests[0].variant, "big");
  EXPECT_EQ(look->tests[0].pairs, 5) << "only stage 0's seeds count at look 1";
  EXPECT_EQ(look->tests[0].decision, "continue") << "O'Brien-Fleming spends almost nothing at 5 pairs";
  AddResults(&rows, 10, 15);
  look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok()) << look.status().ToString();
  EXPECT_EQ(look->tests[0].pairs, 10);
  EXPECT_EQ(look->tests[0].decision, "efficacy") << "p " << look->tests[0].p << " bound " << look->tests[0].bound_p;
  EXPECT_EQ(look->tests[0].decided_look, 1);
  EXPECT_EQ(look->tests[1].decision, "continue");
  EXPECT_DOUBLE_EQ(look->tests[1].level, 0.05) << "the rejection passed its alpha on";
  const auto rs = m->Releases();
  EXPECT_TRUE(Of(rs, "big").decided);
  EXPECT_EQ(Of(rs, "big").through_stage, 1);
  EXPECT_NE(Of(rs, "big").reason.find("big vs base: efficacy at look 2"), std::string::npos) << Of(rs, "big").reason;
  EXPECT_FALSE(Of(rs, "base").decided) << "still the baseline of none";
  EXPECT_EQ(Of(rs, "base").through_stage, 2);
  EXPECT_EQ(Of(rs, "none").through_stage, 2);
  // The rest of the looks: none has no effect and is accepted at the last.
  AddResults(&rows, 15, 20);
  ASSERT_TRUE(m->AnalyseNextLook(rows).ok());
  look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->tests[1].pairs, 20);
  EXPECT_EQ(look->tests[1].decision, "accepted");
  EXPECT_EQ(look->tests[0].pairs, 10) << "big keeps the data of its decision at look 2";
  EXPECT_FALSE(look->tests[0].tested);
  EXPECT_EQ(look->tests[0].decision, "efficacy");
  EXPECT_TRUE(m->finished());
  EXPECT_FALSE(m->AnalyseNextLook(rows).ok());
  EXPECT_FALSE(m->NextLookReady({}));
}

TEST(SequentialMonitor, ReplayingTheStoredLooksGivesTheSameStateAndAChangedSpecIsRefused) {
  auto m = Monitor(Spec());
  ASSERT_NE(m, nullptr);
  std::vector<ResultRow> rows;
  AddResults(&rows, 0, 10);
  std::vector<SequentialLook> looks;
  for (int k = 0; k < 2; ++k) {
    auto look = m->AnalyseNextLook(rows);
    ASSERT_TRUE(look.ok());
    // Through the record's JSON, as a restarted coordinator reads it.
    auto parsed = ParseSequentialLook(SequentialLookToJson(*look));
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    looks.push_back(*parsed);
  }
  auto again = Monitor(Spec(), looks);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->looks_analysed(), 2);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(again->family().comparisons()[i].decision, m->family().comparisons()[i].decision);
    EXPECT_EQ(again->family().comparisons()[i].level, m->family().comparisons()[i].level);
  }
  AddResults(&rows, 10, 15);
  auto a = m->AnalyseNextLook(rows), b = again->AnalyseNextLook(rows);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(SequentialLookToJson(*a), SequentialLookToJson(*b));
  // The spec lost a comparison since: refused, naming the look.
  Json changed = Spec();
  changed["comparisons"].erase(1);
  auto spec = ParseSweepSpec(changed, "seq.json");
  ASSERT_TRUE(spec.ok());
  auto refused = SequentialMonitor::Make(*spec, Groups(), looks);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().ToString().find("look 1 of sweep seq"), std::string::npos) << refused.status().ToString();
  // A stored decision the data no longer gives (the design changed): refused.
  looks[1].tests[0].decision = "continue";
  auto parsed_spec = ParseSweepSpec(Spec(), "seq.json");
  auto refused2 = SequentialMonitor::Make(*parsed_spec, Groups(), looks);
  ASSERT_FALSE(refused2.ok());
  EXPECT_NE(refused2.status().ToString().find("decided continue then and efficacy now"), std::string::npos)
      << refused2.status().ToString();
}

TEST(SequentialMonitor, SpeculativeReleaseRunsEveryStageAndEndsOnlyWhatADecisionMadeUnneeded) {
  auto m = Monitor(Spec("speculative"));
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Of(m->Releases(), "big").through_stage, 3);
  std::vector<ResultRow> rows;
  AddResults(&rows, 0, 20);
  ASSERT_TRUE(m->AnalyseNextLook(rows).ok());
  auto look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->tests[0].decision, "efficacy") << "results past a look do not enter it";
  EXPECT_EQ(look->tests[0].pairs, 10);
  const auto rs = m->Releases();
  EXPECT_TRUE(Of(rs, "big").decided);
  EXPECT_EQ(Of(rs, "big").through_stage, 1);
  EXPECT_EQ(Of(rs, "none").through_stage, 3);
}

TEST(SequentialMonitor, FailedJobsLowerALooksPairsAndAStageWithNoNewPairsSpendsNothing) {
  auto m = Monitor(Spec());
  ASSERT_NE(m, nullptr);
  std::vector<ResultRow> rows;
  AddResults(&rows, 0, 5);
  // big's seed 3 failed for good: 4 pairs at look 1.
  rows.erase(std::remove_if(rows.begin(), rows.end(), [](const ResultRow& r) { return r.variant == "big" && r.seed == 3; }),
             rows.end());
  auto look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->tests[0].pairs, 4);
  EXPECT_TRUE(look->tests[0].tested);
  // Stage 1 all failed: look 2 has no new pairs, tests nothing, decides nothing.
  look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok());
  EXPECT_FALSE(look->tests[0].tested);
  EXPECT_EQ(look->tests[0].decision, "continue");
}

TEST(SequentialMonitor, FutilityStopsANullComparisonAndItsVariantIsNotNeeded) {
  auto m = Monitor(Spec("held", true));
  ASSERT_NE(m, nullptr);
  // none is worse than base here: its t is negative, below any futility bound.
  std::vector<ResultRow> rows;
  AddResults(&rows, 0, 20);
  for (auto& r : rows) {
    if (r.variant == "none") r.metrics["macro_f1"] -= 0.03;
  }
  auto look = m->AnalyseNextLook(rows);
  ASSERT_TRUE(look.ok());
  EXPECT_EQ(look->tests[1].decision, "futility") << "t " << look->tests[1].t;
  const auto rs = m->Releases();
  EXPECT_TRUE(Of(rs, "none").decided);
  EXPECT_EQ(Of(rs, "none").through_stage, 0);
  EXPECT_NE(Of(rs, "none").reason.find("futility at look 1"), std::string::npos);
  EXPECT_FALSE(Of(rs, "base").decided) << "big still needs it";
}

}  // namespace
}  // namespace avctl
