// The statistics of a report, pure: mean and standard deviation of every
// metric per variant (and parameter point), and each comparison of the
// sweep (variant vs baseline, one-tailed, pairs matched on partition and
// seed) with the paired t-test, the Wilcoxon signed-rank test and
// Holm-Bonferroni adjusted p-values over the sweep's family of tests.
// Ablations (role "ablation") are compared with the proposed variant.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/effect_size.h"
#include "common/paired_stats.h"
#include "common/power.h"
#include "sweeps/sweep_spec.h"
#include "web/report_data.h"

namespace avctl {

// The paper's table: macro and micro precision, recall and F1.
const std::vector<std::string>& TableMetrics();

// A column of the results table: a metric the results carry.
struct MetricColumn {
  std::string name;     // as the results name it ("macro_f1", "ccc")
  std::string label;    // as the table heads it ("Macro F1", "ccc")
  bool percent = true;  // every value in [0, 1]: shown x100, differences in percentage points
};

// The results table's columns: the paper's six when the results carry them
// all (the built-in models); otherwise every metric the results carry,
// the compared ones first, each shown as a percentage only when all its
// values lie in [0, 1] (a loss or a concordance coefficient stays as is).
std::vector<MetricColumn> ReportColumns(const ReportData& data);

struct MetricSummary {
  int n = 0;
  double mean = 0;
  double sd = 0;  // sample standard deviation; 0 for n < 2
};

// One class of a group's per-class test metrics, over its runs.
struct ClassRow {
  std::string name;
  MetricSummary precision, recall, f1;
  double support = 0;  // mean test clips of the class per run
};

struct GroupSummary {
  std::string label;    // "ladder_av" or "ladder_av [model.lambda=0.5]"
  std::string variant;
  std::string point;
  std::string role;
  int runs = 0, done = 0, failed = 0;
  std::map<std::string, MetricSummary> metrics;
  // Per class, over the runs whose classes are those of the group's first
  // run that reports them (the store's label schema; results that name no
  // classes have CREMA-D's six).
  std::vector<ClassRow> per_class;
};

struct ComparisonResult {
  std::string kind;      // "comparison" (from the spec) or "ablation"
  std::string variant;   // group labels
  std::string baseline;
  std::string metric;
  Tail tail = Tail::kGreater;
  MatchedPairs pairs;
  PairedTTest t;
  WilcoxonTest wilcoxon;
  double p_holm = 1;
  bool significant = false;      // Holm-adjusted p < alpha
  bool significant_raw = false;  // unadjusted p < alpha
  double min_effect = 0;         // from the spec; 0: none (ablations)
  bool percent = true;           // the metric lies in [0, 1]: differences in percentage points
  SeedPlan plan;                 // power and pairs needed, from the observed differences
  // Effect sizes on the compared metric, each with a seeded stratified
  // bootstrap interval (strata: partitions; kEffectSizeReps resamples):
  // the share of matched pairs the variant wins (ties 1/2), the unpaired
  // probability of improvement over all runs of each side (rliable's), and
  // each side's interquartile mean.
  EffectInterval paired_wins, improvement, iqm_variant, iqm_baseline;
};

inline constexpr int kEffectSizeReps = 10000;

struct ReportAnalysis {
  double alpha = 0.05;
  std::vector<MetricColumn> columns;  // ReportColumns
  std::vector<GroupSummary> groups;
  std::vector<ComparisonResult> comparisons;
};

// The sweep's family of tests, by variant name: each (variant, baseline) of
// the spec's comparisons, then each ablation variant against the first
// proposed one when no comparison covers that pair. Holm's adjustment and
// seed planning (cli/seed_plan.h) both run over this family.
struct FamilyTest {
  std::string kind;  // "comparison" or "ablation"
  std::string variant, baseline;
  std::string metric = "macro_f1";
  std::string direction = "greater";
  double min_effect = 0;
  std::string variant_point;  // the variant's grid point tested; "": every point
};
std::vector<FamilyTest> ComparisonFamily(const std::vector<ReportComparison>& comparisons,
                                         const std::vector<ReportVariant>& variants);
// The same family of a spec (not yet run, or being run).
std::vector<FamilyTest> SpecFamily(const SweepSpec& spec);

// "variant" or "variant [point]": how tables and tests name a group.
std::string GroupLabel(const std::string& variant, const std::string& point);

// A group of runs: one variant at one grid point ("" without a space).
struct GroupKey {
  std::string variant, point;
};
// One test of the family between two groups: a family entry over the
// sweep's groups (a swept side compared point by point with the other
// side's same point; a named variant_point keeps that point only). The
// report and the sequential scheduler both test exactly these.
struct GroupTest {
  FamilyTest test;
  GroupKey x, y;
};
std::vector<GroupTest> FamilyGroupTests(const std::vector<FamilyTest>& family, const std::vector<GroupKey>& groups);

ReportAnalysis AnalyzeReport(const ReportData& data);

// One sentence per variant of a comparison whose results ran more than one
// version of its program: another script, or the same script at another
// commit of its repository (a resubmit with `avctl sweep submit
// --allow-changed-code`): its tests mix code.
std::vector<std::string> MixedCodeWarnings(const ReportData& data);

// The runs of one group.
std::vector<const ReportRun*> RunsOf(const ReportData& data, const GroupSummary& group);

}  // namespace avctl
