// The sequential scheduler on a real record and broker, without sockets:
// a look analysed once its stage's jobs end, its next stage released; and a
// strict sweep's designs made on a thread of their own (the loop goes on),
// the look analysed when the thread posts back.
#include "coordinator/sequential_scheduler.h"

#include <cmath>
#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "coordinator/control_api.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

Json Spec(bool strict) {
  return {{"name", "t"},
          {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
          {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
          {"seeds", 6},
          {"comparisons", {{{"variant", "ladder_av"}, {"baselines", {"backbone"}}}}},
          {"sequential", {{"looks", {3, 6}}, {"strict", strict}}}};
}

class SequentialSchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("sequential_scheduler");
    auto record = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = std::move(*record);
    broker_ = std::make_unique<WorkerBroker>(BrokerOptions{}, record_.get(), &counters_, &log_,
                                             [](std::vector<std::string>) {});
  }
  void TearDown() override {
    api_.reset();
    scheduler_.reset();
    broker_.reset();
    record_.reset();
    fs::remove_all(dir_);
  }

  void Start(SequentialScheduler::PostFn post) {
    scheduler_ = std::make_unique<SequentialScheduler>(record_.get(), broker_.get(), &log_, &SystemClock(),
                                                       std::move(post));
    broker_->SetJobEndedHook([this](int64_t sweep) { scheduler_->Touch(sweep); });
    api_ = std::make_unique<ControlApi>(record_.get(), broker_.get(), &log_, scheduler_.get());
  }

  // Runs every queued job to a result: backbone scores 0.5, ladder_av
  // 0.52 + 0.01 sin(3.1 seed + 1) (d_z about 2.8: past O'Brien-Fleming's
  // bound at 6 pairs, not at 3).
  int RunQueued() {
    auto queued = record_->QueuedJobs();
    EXPECT_TRUE(queued.ok());
    int n = 0;
    for (const QueuedJob& q : *queued) {
      auto d = record_->Dispatch(q.job_id, "w1", 10.0);
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      const bool proposed = d->job_key.find("/ladder_av/") != std::string::npos;
      const size_t at = d->job_key.find("seed=") + 5;
      const int seed = std::stoi(d->job_key.substr(at, d->job_key.find('/', at) - at));
      const double f1 = proposed ? 0.52 + 0.01 * std::sin(3.1 * seed + 1) : 0.5;
      auto f = record_->RecordResult(d->attempt_id,
                                     {{"status", "ok"}, {"compute_seconds", 1.0},
                                      {"test", {{"metrics", {{"macro_f1", f1}, {"accuracy", f1}}}}}},
                                     "w1", 11.0);
      EXPECT_TRUE(f.ok()) << f.status().ToString();
      EXPECT_EQ(f->transition.job, JobState::kDone) << f->transition.note;
      EXPECT_EQ(f->sweep_id, 1);
      broker_->Dequeue(q.job_id);
      broker_->ApplyFollowup(*f);
      ++n;
    }
    return n;
  }

  int64_t Looks() { return static_cast<int64_t>(record_->SequentialLooks(1)->size()); }

  fs::path dir_;
  Logger log_{stderr, LogLevel::kError};
  CoordinatorCounters counters_;
  std::unique_ptr<Record> record_;
  std::unique_ptr<WorkerBroker> broker_;
  std::unique_ptr<SequentialScheduler> scheduler_;
  std::unique_ptr<ControlApi> api_;
};

TEST_F(SequentialSchedulerTest, ALookIsAnalysedWhenItsStageEndsAndTheNextStageIsReleased) {
  Start(nullptr);
  ASSERT_TRUE(api_->Handle({{"op", "submit"}, {"spec", Spec(false)}, {"source", "t.json"}}).ok());
  EXPECT_EQ(RunQueued(), 6) << "stage 0: seeds 0-2 of both variants";
  scheduler_->Process();
  EXPECT_EQ(Looks(), 1);
  EXPECT_EQ(broker_->queued(), 6u) << "stage 1 released after look 1";
  EXPECT_EQ(RunQueued(), 6);
  scheduler_->Process();
  EXPECT_EQ(Looks(), 2);
  auto looks = record_->SequentialLooks(1);
  EXPECT_EQ((*looks)[1].tests[0].decision, "efficacy");
  EXPECT_EQ((*looks)[1].tests[0].pairs, 6);
}

TEST_F(SequentialSchedulerTest, AStrictSweepsDesignsAreMadeOffTheLoopThenTheLookIsAnalysed) {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::function<void()>> posted;
  Start([&](std::function<void()> f) {
    std::lock_guard<std::mutex> lock(mu);
    posted.push_back(std::move(f));
    cv.notify_all();
  });
  ASSERT_TRUE(api_->Handle({{"op", "submit"}, {"spec", Spec(true)}, {"source", "t.json"}}).ok());
  EXPECT_EQ(RunQueued(), 6);
  scheduler_->Process();
  EXPECT_EQ(Looks(), 0) << "the loop did not wait for the calibration";
  EXPECT_EQ(scheduler_->warming(), 1u);
  scheduler_->Process();  // a round meanwhile: no second thread
  EXPECT_EQ(scheduler_->warming(), 1u);
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(120), [&] { return !posted.empty(); }));
  }
  posted.front()();  // on the loop
  EXPECT_EQ(scheduler_->warming(), 0u);
  scheduler_->Process();
  EXPECT_EQ(Looks(), 1) << "analysed on the loop with the designs made";
  EXPECT_EQ(broker_->queued(), 6u);
}

}  // namespace
}  // namespace avctl
