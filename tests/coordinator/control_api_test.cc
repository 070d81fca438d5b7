#include "coordinator/control_api.h"

#include <gtest/gtest.h>

#include "coordinator/http_api.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

Json QuickSpec() {
  return {{"name", "t"},
          {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
          {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
          {"seeds", 2}};
}

// The control API's table driven in-process: a record, a broker with no
// workers (what it would send is collected), no sockets.
class ControlApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("control_api");
    auto record = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = std::move(*record);
    broker_ = std::make_unique<WorkerBroker>(BrokerOptions{}, record_.get(), &counters_, &log_,
                                             [this](std::vector<std::string> f) { sent_.push_back(std::move(f)); });
    sequential_ = std::make_unique<SequentialScheduler>(record_.get(), broker_.get(), &log_);
    api_ = std::make_unique<ControlApi>(record_.get(), broker_.get(), &log_, sequential_.get());
  }
  void TearDown() override {
    api_.reset();
    sequential_.reset();
    broker_.reset();
    record_.reset();
    fs::remove_all(dir_);
  }

  fs::path dir_;
  Logger log_{stderr, LogLevel::kError};
  CoordinatorCounters counters_;
  std::unique_ptr<Record> record_;
  std::unique_ptr<WorkerBroker> broker_;
  std::unique_ptr<SequentialScheduler> sequential_;
  std::unique_ptr<ControlApi> api_;
  std::vector<std::vector<std::string>> sent_;
};

TEST_F(ControlApiTest, SubmitQueuesAndReadsNameTheSweepByNameOrId) {
  auto out = api_->Handle({{"op", "submit"}, {"spec", QuickSpec()}, {"source", "t.json"}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ((*out)["jobs"], 4);
  EXPECT_EQ(broker_->queued(), 4u);
  const int64_t id = (*out)["sweep_id"].get<int64_t>();
  for (const Json& ref : {Json("t"), Json(id), Json(std::to_string(id))}) {
    auto st = api_->Handle({{"op", "status"}, {"sweep", ref}});
    ASSERT_TRUE(st.ok()) << ref.dump() << ": " << st.status().ToString();
    EXPECT_EQ((*st)["status"]["name"], "t");
  }
  auto missing = api_->Handle({{"op", "jobs"}, {"sweep", "nope"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  auto cancelled = api_->Handle({{"op", "cancel"}, {"sweep", "t"}});
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ((*cancelled)["cancelled"], 4);
  EXPECT_EQ(broker_->queued(), 0u);
  auto retried = api_->Handle({{"op", "retry"}, {"sweep", id}});
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(broker_->queued(), 4u);
}

// A sequential spec queues its first stage only; the rest is held for the
// looks, and its status shows the design and the looks analysed.
TEST_F(ControlApiTest, ASequentialSweepQueuesItsFirstStageAndHoldsTheRest) {
  Json spec = QuickSpec();
  spec["seeds"] = 4;
  spec["comparisons"] = {{{"variant", "ladder_av"}, {"baselines", {"backbone"}}}};
  spec["sequential"] = {{"looks", {2, 4}}};
  auto out = api_->Handle({{"op", "submit"}, {"spec", spec}, {"source", "t.json"}});
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(broker_->queued(), 4u) << "seeds 0 and 1 of both variants";
  auto st = api_->Handle({{"op", "status"}, {"sweep", "t"}});
  ASSERT_TRUE(st.ok());
  const Json& status = (*st)["status"];
  EXPECT_EQ(status["states"]["held"], 4);
  EXPECT_EQ(status["sequential"]["looks_analysed"], 0);
  EXPECT_EQ(status["sequential"]["design"]["looks"], Json({2, 4}));
  EXPECT_FALSE(status["finished"].get<bool>());
  // Without a scheduler (an embedding that runs no looks) it is refused, naming the field.
  ControlApi plain(record_.get(), broker_.get(), &log_);
  spec["name"] = "t2";
  auto refused = plain.Handle({{"op", "submit"}, {"spec", spec}, {"source", "t.json"}});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().field(), "sequential");
}

TEST_F(ControlApiTest, TheTableSaysWhichOpsOnlyRead) {
  for (const char* op : {"ping", "list", "status", "jobs", "results", "workers", "events"}) {
    EXPECT_TRUE(api_->ReadOnly({{"op", op}})) << op;
  }
  for (const char* op : {"submit", "cancel", "retry", "drain_worker", "drain_slurm_job", "nonsense"}) {
    EXPECT_FALSE(api_->ReadOnly({{"op", op}})) << op;
  }
  auto unknown = api_->Handle({{"op", "nonsense"}});
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().ToString().find("expected ping, submit"), std::string::npos);
  EXPECT_FALSE(api_->Handle({{"no_op", 1}}).ok());
  auto drain = api_->Handle({{"op", "drain_worker"}, {"worker", "w9"}});
  ASSERT_FALSE(drain.ok());
  EXPECT_NE(drain.status().ToString().find("w9 is not connected"), std::string::npos);
  EXPECT_TRUE(sent_.empty());
}

TEST(HttpApiTest, ApiTargetsStandForControlRequests) {
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/sweeps")), Json({{"op", "list"}}));
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/sweeps/3")), Json({{"op", "status"}, {"sweep", "3"}}));
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/sweeps/demo/jobs?state=failed")),
            Json({{"op", "jobs"}, {"sweep", "demo"}, {"state", "failed"}}));
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/sweeps/demo/results")), Json({{"op", "results"}, {"sweep", "demo"}}));
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/events?after=12")),
            Json({{"op", "events"}, {"after", 12}, {"limit", 500}}));
  EXPECT_EQ(*ApiRequest(ParseHttpTarget("/api/workers")), Json({{"op", "workers"}}));
  EXPECT_TRUE(ApiRequest(ParseHttpTarget("/api/sweeps/demo/cancel"))->is_null());  // no writes over HTTP
  EXPECT_TRUE(ApiRequest(ParseHttpTarget("/report/demo/"))->is_null());
  const HttpTarget t = ParseHttpTarget("/report/demo/table.csv?x=1&y");
  EXPECT_EQ(t.parts, (std::vector<std::string>{"report", "demo", "table.csv"}));
  EXPECT_EQ(t.query.at("x"), "1");
  EXPECT_EQ(t.query.at("y"), "");
}

}  // namespace
}  // namespace avctl
