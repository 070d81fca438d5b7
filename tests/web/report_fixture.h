// A sweep written through the real Record with known metrics, shared by
// the report's unit tests and its browser tests.
#pragma once

#include <cmath>
#include <filesystem>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "db/record.h"
#include "web/report_loader.h"
#include "tests/test_dir.h"

namespace avctl {

namespace fs = std::filesystem;

// Sweep names may not hold '/' (job keys use it); everything else goes.
const std::string kHostile = "<img src=x onerror=alert('x')>&\"v\"";
// A variant name longer than any chart slot or table column.
const std::string kLongName = "ladder_av_with_cross_modal_skips_and_posterior_top_down_signal";

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("report");
    auto store = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }

  // A sweep: proposed (hostile name) beats the baseline by 0.05 +- a little
  // on every seed; an ablation is equal to the proposed; one baseline run
  // fails. Macro F1 drives the tests. With `grid`, the proposed variant has
  // a long name and a log-spaced grid of model.lambda (3 points) and of
  // model.noise_std (2), as a λ-grid sweep's report would; `point` names
  // the grid point the comparison is about.
  void BuildFixture(int seeds, bool grid = false, const std::string& point = "") {
    Json proposed = {{"name", kHostile}, {"variant", "ladder_av"}, {"role", "proposed"}};
    if (grid) {
      proposed["name"] = kLongName;
      proposed["space"] = {{"model.lambda", {0.01, 0.1, 1.0}}, {"model.noise_std", {0.1, 0.3}}};
    }
    Json spec_json = {
        {"name", "fixture"},
        {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
        {"variants",
         {proposed,
          {{"name", "backbone"}, {"role", "baseline"}},
          {{"name", "ladder_no_cross"}, {"role", "ablation"}}}},
        {"seeds", seeds},
        {"max_attempts", 1},
        {"comparisons", {{{"variant", proposed["name"]}, {"baselines", {"backbone"}}}}}};
    if (!point.empty()) spec_json["comparisons"][0]["point"] = point;
    auto spec = ParseSweepSpec(spec_json, "fixture.json");
    ASSERT_TRUE(spec.ok()) << spec.status().ToString();
    auto jobs = ExpandSweep(*spec);
    ASSERT_TRUE(jobs.ok());
    ASSERT_TRUE(store_->SubmitSweep(*spec, spec_json, *jobs, "fixture.json", 1000.0).ok());
    auto queued = store_->QueuedJobs();
    ASSERT_TRUE(queued.ok());
    double now = 1000;
    for (const QueuedJob& q : *queued) {
      auto d = store_->Dispatch(q.job_id, "w1", now);
      ASSERT_TRUE(d.ok());
      const Json job = Json::parse(d->job_raw);
      const std::string variant = job.value("variant", "");
      const uint64_t seed = job.value("seed", uint64_t{0});
      const double wiggle = 0.002 * static_cast<double>(seed % 3);
      double f1 = 0.70 + 0.01 * static_cast<double>(seed);
      if (variant == "backbone") f1 -= 0.05 + wiggle;
      if (job.contains("model") && job["model"].is_object() && job["model"].contains("lambda")) {
        f1 += 0.01 * std::log10(job["model"]["lambda"].get<double>());
      }
      if (variant == "backbone" && seed == 1) {
        ASSERT_TRUE(store_->RecordFailure(d->attempt_id, FailureKind::kJob, "NaN loss at epoch 2 <b>", "w1", now + 5).ok());
        continue;
      }
      Json metrics = {{"macro_f1", f1}, {"macro_precision", f1}, {"macro_recall", f1}, {"micro_f1", f1 + 0.01},
                      {"micro_precision", f1 + 0.01}, {"micro_recall", f1 + 0.01}, {"accuracy", f1 + 0.01}};
      std::vector<int64_t> confusion(36, 1);
      Json result = {{"status", "ok"},
                     {"compute_seconds", 8.0},
                     {"selected_epoch", 2},
                     {"epochs", {{{"epoch", 1}, {"dev_macro_f1", f1 - 0.1}}, {{"epoch", 2}, {"dev_macro_f1", f1}}}},
                     {"test", {{"metrics", metrics}, {"confusion", confusion}}},
                     {"code_version", "abc123"},
                     {"store", {{"synthetic", true}, {"audio_checksum", "xxh3-64:1"}, {"visual_checksum", "xxh3-64:2"},
                                {"clips", 546}}}};
      ASSERT_TRUE(store_->RecordResult(d->attempt_id, result, "w1", now + 10).ok());
      now += 10;
    }
  }

  ReportData Load() {
    auto d = LoadReportData(store_.get(), "fixture");
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : ReportData{};
  }

  fs::path dir_;
  std::unique_ptr<Record> store_;
};

}  // namespace avctl
