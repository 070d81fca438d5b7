#include "sweeps/result_schema.h"

#include <gtest/gtest.h>

#include <functional>

#include "common/file_util.h"

namespace avctl {
namespace {

Json TrainResult() {
  return {{"status", "ok"},
          {"compute_seconds", 12.5},
          {"test", {{"metrics", {{"macro_f1", 0.5}, {"accuracy", 0.6}, {"per_class", Json::array({{{"f1", 0.5}}})}}},
                    {"confusion", Json::array()}}},
          {"peak_device_memory_mib", nullptr}};
}

std::string Error(const Json& result, JobKind kind = JobKind::kTrain) {
  Status s = ValidateResult(result, kind);
  return s.ok() ? "" : s.ToString();
}

TEST(ResultSchemaTest, AcceptsWhatTheTrainerWrites) {
  EXPECT_EQ(Error(TrainResult()), "");
  Json sleep = {{"status", "ok"}, {"compute_seconds", 0.0}, {"test", {{"metrics", Json::object()}}}};
  EXPECT_EQ(Error(sleep, JobKind::kSleep), "");
}

TEST(ResultSchemaTest, NamesTheFieldAtFault) {
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
      {"no compute time", [](Json& r) { r.erase("compute_seconds"); }, "result.compute_seconds: missing"},
      {"negative time", [](Json& r) { r["compute_seconds"] = -1; }, "result.compute_seconds: must not be negative"},
      {"status failed", [](Json& r) { r["status"] = "failed"; }, "result.status: expected \"ok\""},
      {"epochs not a list", [](Json& r) { r["epochs"] = 3; }, "result.epochs: expected array"},
      {"memory as text", [](Json& r) { r["peak_device_memory_mib"] = "lots"; }, "result.peak_device_memory_mib"},
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

// docs/PROTOCOL.md, "The result", lists every field the schema knows.
TEST(ResultSchemaTest, EveryFieldIsDescribedAndDocumented) {
  auto doc = ReadFileToString(std::string(AVCTL_SOURCE_DIR) + "/docs/PROTOCOL.md");
  ASSERT_TRUE(doc.ok());
  for (const ResultField& f : ResultFields()) {
    EXPECT_NE(doc->find(std::string("`") + f.path + "`"), std::string::npos) << f.path << " is not in docs/PROTOCOL.md";
    EXPECT_GT(std::string(f.meaning).size(), 3u) << f.path;
    EXPECT_GT(std::string(f.type).size(), 3u) << f.path;
  }
}

}  // namespace
}  // namespace avctl
