#include "common/job_result.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/file_util.h"
#include "common/progress_event.h"

namespace avctl {
namespace {

Json TrainResult() {
  return {{"status", "ok"},
          {"compute_seconds", 12.5},
          {"class_names", {"anger", "joy"}},
          {"test",
           {{"metrics", {{"macro_f1", 0.5}, {"accuracy", 0.6}, {"per_class", {{{"f1", 0.5}, {"present", true}}, {{"f1", 0.5}}}}}},
            {"loss", 1.25},
            {"confusion", {3, 1, 0, 2}},
            {"predictions", {{{"id", "1001_DFA_ANG_XX"}, {"label", 0}, {"pred", 1}, {"probs", {0.4, 0.6}}}}}}},
          {"dev", {{"metrics", {{"macro_f1", 0.4}}}}},
          {"epochs", {{{"epoch", 1}, {"train_loss", 1.5}, {"dev_macro_f1", 0.3}}}},
          {"selected_epoch", 1},
          {"resume", {{"resumed", true}, {"skipped", {"epoch-2.ckpt: torn"}}, {"from", "/c/epoch-1.ckpt"}, {"epochs", 1}, {"batches", 0},
                      {"attempt_id", 7}}},
          {"peak_device_memory_mib", nullptr},
          {"device", "cpu"},
          {"cpu_capability", "avx2"},
          {"code_version", "1.2.3"},
          {"config", {{"model", "ladder_av"}}},
          {"my_own_field", {{"kept", true}}}};
}

std::string Error(const Json& result, JobKind kind = JobKind::kTrain) {
  auto r = ParseJobResult(result);
  Status s = r.ok() ? CheckResultFor(*r, kind) : r.status();
  return s.ok() ? "" : s.ToString();
}

TEST(JobResultTest, ParsesEveryPartIntoTypes) {
  auto r = ParseJobResult(TrainResult());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, ResultStatus::kOk);
  EXPECT_DOUBLE_EQ(*r->compute_seconds, 12.5);
  EXPECT_EQ(r->class_names, (std::vector<std::string>{"anger", "joy"}));
  EXPECT_DOUBLE_EQ(*r->test.Metric("macro_f1"), 0.5);
  EXPECT_FALSE(r->test.Metric("uar").has_value());
  ASSERT_EQ(r->test.per_class.size(), 2u);
  EXPECT_DOUBLE_EQ(r->test.per_class[0].at("present"), 1.0);  // a boolean reads as 1
  EXPECT_EQ(r->test.confusion, (std::vector<int64_t>{3, 1, 0, 2}));
  ASSERT_EQ(r->test.predictions.size(), 1u);
  EXPECT_EQ(r->test.predictions[0].id, "1001_DFA_ANG_XX");
  EXPECT_EQ(r->test.predictions[0].label, 0);
  EXPECT_EQ(r->test.predictions[0].pred, 1);
  EXPECT_DOUBLE_EQ(*r->test.loss, 1.25);
  ASSERT_TRUE(r->dev.has_value());
  EXPECT_DOUBLE_EQ(*r->dev->Metric("macro_f1"), 0.4);
  ASSERT_EQ(r->epochs.size(), 1u);
  EXPECT_DOUBLE_EQ(r->epochs[0].at("train_loss"), 1.5);
  ASSERT_TRUE(r->resume.has_value());
  EXPECT_EQ(r->resume->from, "/c/epoch-1.ckpt");
  EXPECT_EQ(r->resume->attempt_id, 7);
  EXPECT_EQ(r->resources.device, "cpu");
  EXPECT_FALSE(r->resources.peak_device_memory_mib.has_value());
  EXPECT_EQ(r->resources.cpu_capability, "avx2");
  EXPECT_EQ(r->config["model"], "ladder_av");
  EXPECT_EQ(r->extra["my_own_field"]["kept"], true);
}

TEST(JobResultTest, WritingWhatWasReadLosesNothing) {
  auto r = ParseJobResult(TrainResult());
  ASSERT_TRUE(r.ok());
  const Json written = JobResultToJson(*r);
  auto again = ParseJobResult(written);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(JobResultToJson(*again), written);
  Json expected = TrainResult();
  expected["test"]["metrics"]["per_class"][0]["present"] = 1.0;
  EXPECT_EQ(written, expected);
}

TEST(JobResultTest, AcceptsTheSmallestResultOfEachKind) {
  Json sleep = {{"status", "ok"}, {"compute_seconds", 0.0}, {"test", {{"metrics", Json::object()}}}};
  EXPECT_EQ(Error(sleep, JobKind::kSleep), "");
  // Metrics of any name for a command job's program.
  Json own = sleep;
  own["test"]["metrics"] = {{"uar", 0.71}, {"ccc_arousal", 0.5}};
  EXPECT_EQ(Error(own, JobKind::kSleep), "");
  auto parsed = ParseJobResult(own);
  ASSERT_TRUE(parsed.ok());
  EXPECT_DOUBLE_EQ(*parsed->test.Metric("uar"), 0.71);
}

TEST(JobResultTest, ReadsFailedAndPreemptedDocuments) {
  auto failed = ParseJobResult({{"status", "failed"}, {"reason", "CUDA out of memory"}, {"out_of_memory", true}});
  ASSERT_TRUE(failed.ok()) << failed.status().ToString();
  EXPECT_EQ(failed->status, ResultStatus::kFailed);
  EXPECT_EQ(failed->failure_kind, FailureKind::kJob);
  EXPECT_TRUE(failed->out_of_memory);
  auto worker = ParseJobResult({{"status", "failed"}, {"kind", "worker"}, {"reason", "no store"}});
  ASSERT_TRUE(worker.ok());
  EXPECT_EQ(worker->failure_kind, FailureKind::kWorker);
  auto preempted = ParseJobResult({{"status", "preempted"}, {"reason", "SIGTERM"}, {"compute_seconds", 3.0}});
  ASSERT_TRUE(preempted.ok());
  EXPECT_EQ(preempted->status, ResultStatus::kPreempted);
  EXPECT_NE(CheckResultFor(*preempted, JobKind::kSleep).ToString().find("result.status: expected \"ok\""),
            std::string::npos);
  EXPECT_EQ(JobResultToJson(*worker)["kind"], "worker");
}

// A program that gives per-example predictions with labels but no matrix
// gets one counted from them (what the report shows); a given one wins.
TEST(JobResultTest, AConfusionMatrixIsCountedFromLabelledPredictionsWhenNoneIsGiven) {
  SplitEvaluation s;
  s.predictions = {{"a", 0, 0, {}}, {"b", 0, 2, {}}, {"c", 2, 2, {}}, {"d", 1, 0, {}}, {"e", -1, 1, {}}};
  // Rows: truth 0, 1, 2; the unlabelled example is not counted.
  EXPECT_EQ(s.ConfusionOrCounted(3), (std::vector<int64_t>{1, 0, 1, 1, 0, 0, 0, 0, 1}));
  EXPECT_EQ(s.ConfusionOrCounted(), s.ConfusionOrCounted(3)) << "k from the largest index seen";
  EXPECT_EQ(s.ConfusionOrCounted(4).size(), 16u) << "a class never seen is a row and column of zeros";
  EXPECT_TRUE(s.ConfusionOrCounted(2).empty()) << "an index beyond the classes";
  s.confusion = {5, 0, 0, 5};
  EXPECT_EQ(s.ConfusionOrCounted(2), s.confusion);
  EXPECT_TRUE(s.ConfusionOrCounted(3).empty()) << "a given matrix of another size";
  SplitEvaluation unlabelled;
  unlabelled.predictions = {{"a", -1, 0, {}}};
  EXPECT_TRUE(unlabelled.ConfusionOrCounted(2).empty());
}

TEST(JobResultTest, NamesTheFieldAtFault) {
  struct Case {
    const char* what;
    std::function<void(Json&)> spoil;
    const char* fragment;
  };
  const std::vector<Case> cases = {
      {"no test", [](Json& r) { r.erase("test"); }, "result.test: missing"},
      {"no metrics", [](Json& r) { r["test"].erase("metrics"); }, "result.test.metrics: missing"},
      {"no macro F1", [](Json& r) { r["test"]["metrics"].erase("macro_f1"); }, "result.test.metrics.macro_f1: missing"},
      {"F1 beyond 1", [](Json& r) { r["test"]["metrics"]["macro_f1"] = 80.2; }, "result.test.metrics.macro_f1: 80.2"},
      {"metric as text", [](Json& r) { r["test"]["metrics"]["uar"] = "high"; }, "result.test.metrics.uar: expected a number"},
      {"per_class not a list", [](Json& r) { r["test"]["metrics"]["per_class"] = 1; }, "result.test.metrics.per_class: expected"},
      {"per_class of text", [](Json& r) { r["test"]["metrics"]["per_class"][1]["f1"] = "x"; },
       "result.test.metrics.per_class[1].f1: expected a number"},
      {"per_class short", [](Json& r) { r["test"]["metrics"]["per_class"].erase(1); },
       "result.test.metrics.per_class: 1 rows for 2 class_names"},
      {"confusion not square", [](Json& r) { r["test"]["confusion"] = {1, 2, 3}; }, "result.test.confusion: 3 counts"},
      {"confusion of another size", [](Json& r) { r["test"]["confusion"] = {1, 2, 3, 4, 5, 6, 7, 8, 9}; },
       "result.test.confusion: 9 counts for 2 class_names"},
      {"negative count", [](Json& r) { r["test"]["confusion"][0] = -1; }, "result.test.confusion[0]: expected a count"},
      {"prediction beyond the classes", [](Json& r) { r["test"]["predictions"][0]["pred"] = 2; },
       "result.test.predictions[0]: class index beyond"},
      {"prediction without pred", [](Json& r) { r["test"]["predictions"][0].erase("pred"); },
       "result.test.predictions[0].pred: missing"},
      {"no compute time", [](Json& r) { r.erase("compute_seconds"); }, "result.compute_seconds: missing"},
      {"negative time", [](Json& r) { r["compute_seconds"] = -1; }, "result.compute_seconds: must not be negative"},
      {"unknown status", [](Json& r) { r["status"] = "done"; }, "result.status: expected \"ok\", \"failed\""},
      {"status failed", [](Json& r) { r["status"] = "failed"; }, "result.status: expected \"ok\", got \"failed\""},
      {"epochs not a list", [](Json& r) { r["epochs"] = 3; }, "result.epochs: expected an array"},
      {"epoch of text", [](Json& r) { r["epochs"][0]["lr"] = "fast"; }, "result.epochs[0].lr: expected a number"},
      {"memory as text", [](Json& r) { r["peak_device_memory_mib"] = "lots"; }, "result.peak_device_memory_mib"},
      {"resume without from", [](Json& r) { r["resume"].erase("from"); }, "result.resume.from: missing"},
      {"class name a number", [](Json& r) { r["class_names"][1] = 3; }, "result.class_names[1]: expected a string"},
      {"config not an object", [](Json& r) { r["config"] = "ladder"; }, "result.config: expected an object"},
      {"failure kind unknown", [](Json& r) { r["kind"] = "bad"; }, "result.kind"},
  };
  for (const Case& c : cases) {
    Json r = TrainResult();
    c.spoil(r);
    EXPECT_NE(Error(r).find(c.fragment), std::string::npos) << c.what << ": " << Error(r);
  }
  EXPECT_NE(Error(Json::array()).find("result: expected an object"), std::string::npos);
  // A sleep job's metrics may be empty; a train job's may not.
  Json empty = TrainResult();
  empty["test"]["metrics"] = Json::object();
  EXPECT_EQ(Error(empty, JobKind::kSleep), "");
  EXPECT_NE(Error(empty, JobKind::kTrain), "");
}

TEST(JobResultTest, StoredResultsBeforeProtocol2MayLackComputeSeconds) {
  Json old = TrainResult();
  old.erase("compute_seconds");
  ResultParseOptions lenient;
  lenient.require_compute_seconds = false;
  lenient.path = "results[3]";
  auto r = ParseJobResult(old, lenient);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->compute_seconds.has_value());
  old["test"]["metrics"]["macro_f1"] = "x";
  EXPECT_NE(ParseJobResult(old, lenient).status().ToString().find("results[3].test.metrics.macro_f1"),
            std::string::npos);
}

// docs/PROTOCOL.md, "The result", lists every field this module knows.
TEST(JobResultTest, EveryFieldIsDescribedAndDocumented) {
  auto doc = ReadFileToString(std::string(AVCTL_SOURCE_DIR) + "/docs/PROTOCOL.md");
  ASSERT_TRUE(doc.ok());
  for (const ResultField& f : ResultFields()) {
    EXPECT_NE(doc->find(std::string("`") + f.path + "`"), std::string::npos) << f.path << " is not in docs/PROTOCOL.md";
    EXPECT_GT(std::string(f.meaning).size(), 3u) << f.path;
    EXPECT_GT(std::string(f.type).size(), 3u) << f.path;
  }
}

TEST(ProgressEventTest, ReadsEpochsAndCheckpointEvents) {
  auto e = ParseProgress({{"epoch", 3}, {"epochs", 10}, {"train_loss", 0.5}, {"dev_macro_f1", 0.7}, {"attempt_id", 9},
                          {"dev_loss", nullptr}});
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(e->epoch, 3);
  EXPECT_EQ(e->epochs, 10);
  EXPECT_DOUBLE_EQ(*e->Value("dev_macro_f1"), 0.7);
  EXPECT_FALSE(e->Value("dev_loss").has_value());
  EXPECT_FALSE(e->Value("attempt_id").has_value());
  EXPECT_EQ(ProgressToJson(*e), Json({{"epoch", 3}, {"epochs", 10}, {"train_loss", 0.5}, {"dev_macro_f1", 0.7}}));
  auto c = ParseProgress({{"epoch", 2}, {"checkpoint", {{"path", "/c/2"}, {"epochs", 2}, {"batches", 0}, {"bytes", 10},
                                                        {"seconds", 0.5}}}});
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(c->checkpoint.has_value());
  EXPECT_EQ(c->checkpoint->bytes, 10);
  EXPECT_EQ(ParseProgress(ProgressToJson(*c)).value().checkpoint->path, "/c/2");
  auto r = ParseProgress({{"epoch", 2}, {"resumed", {{"path", "/c/2"}, {"epochs", 2}, {"batches", 5}, {"attempt_id", 4}}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->resumed->attempt_id, 4);
  EXPECT_EQ(ProgressToJson(*r)["resumed"]["batches"], 5);
}

TEST(ProgressEventTest, NamesTheFieldAtFault) {
  EXPECT_NE(ParseProgress(Json::array(), "p.jsonl:3").status().ToString().find("p.jsonl:3: expected a JSON object"),
            std::string::npos);
  EXPECT_NE(ParseProgress({{"epochs", 3}}).status().ToString().find("progress.epoch: missing"), std::string::npos);
  EXPECT_NE(ParseProgress({{"epoch", -1}}).status().ToString().find("progress.epoch: must not be negative"),
            std::string::npos);
  EXPECT_NE(ParseProgress({{"epoch", 1}, {"loss", "low"}}).status().ToString().find("progress.loss: expected a number"),
            std::string::npos);
  EXPECT_NE(ParseProgress({{"epoch", 1}, {"checkpoint", {{"path", "/c"}}}}).status().ToString().find(
                "progress.checkpoint.epochs: missing"),
            std::string::npos);
}

}  // namespace
}  // namespace avctl
