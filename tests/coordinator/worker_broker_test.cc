// The broker's time-driven decisions with a clock moved by hand: heartbeats
// to a quiet worker, a silent worker declared dead with its attempt
// requeued, and running attempts of a restarted coordinator waiting out the
// restart grace. No sockets, no sleeps.
#include "coordinator/worker_broker.h"

#include <gtest/gtest.h>

#include "sweeps/sweep_spec.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

class WorkerBrokerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("worker_broker");
    auto record = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    record_ = std::move(*record);
    opt_.heartbeat_ms = 1000;
    opt_.liveness = 3;
    opt_.restart_grace_ms = 5000;
    MakeBroker();
  }
  void TearDown() override {
    broker_.reset();
    record_.reset();
    fs::remove_all(dir_);
  }
  void MakeBroker() {
    broker_ = std::make_unique<WorkerBroker>(opt_, record_.get(), &counters_, &log_,
                                             [this](std::vector<std::string> f) { sent_.push_back(std::move(f)); },
                                             &clock_);
  }
  void Submit(int seeds, int max_attempts = 3) {
    Json spec = {{"name", "t"},
                 {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
                 {"variants", {{{"name", "backbone"}, {"role", "baseline"}}}},
                 {"seeds", seeds},
                 {"max_attempts", max_attempts}};
    auto parsed = ParseSweepSpec(spec, "t.json");
    ASSERT_TRUE(parsed.ok());
    auto jobs = ExpandSweep(*parsed);
    ASSERT_TRUE(record_->SubmitSweep(*parsed, spec, *jobs, "t.json", clock_.Unix()).ok());
    broker_->Enqueue(*record_->QueuedJobs());
  }
  void FromWorker(const std::string& identity, MsgType type, Json body) {
    auto frames = EncodeWorkerMessage({type, std::move(body)});
    frames.insert(frames.begin(), identity);
    broker_->OnMessage(frames);
  }
  // The types of the messages sent since the last call.
  std::vector<std::string> Sent() {
    std::vector<std::string> types;
    for (const auto& f : sent_) types.push_back(f[2]);
    sent_.clear();
    return types;
  }

  fs::path dir_;
  Logger log_{stderr, LogLevel::kError};
  ManualClock clock_;
  BrokerOptions opt_;
  CoordinatorCounters counters_;
  std::unique_ptr<Record> record_;
  std::unique_ptr<WorkerBroker> broker_;
  std::vector<std::vector<std::string>> sent_;
};

TEST_F(WorkerBrokerTest, AQuietWorkerGetsHeartbeatsAndASilentOneIsDeclaredDeadWithItsAttemptRequeued) {
  Submit(1);
  FromWorker("id1", MsgType::kHello, {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}});
  FromWorker("id1", MsgType::kReady, Json::object());
  broker_->Schedule();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"welcome", "job"}));
  EXPECT_EQ(broker_->queued(), 0u);

  // Sent nothing for less than a heartbeat interval: nothing to send.
  clock_.Advance(milliseconds(999));
  broker_->Tick();
  EXPECT_TRUE(Sent().empty());
  clock_.Advance(milliseconds(1));
  broker_->Tick();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"heartbeat"}));

  // Heard from within liveness x heartbeat: alive. (It last spoke at 0.)
  clock_.Advance(milliseconds(2000));  // 3000 ms of silence: not yet more than 3 x 1000
  broker_->Tick();
  EXPECT_EQ(broker_->connected(), 1u);
  EXPECT_EQ(counters_.workers_lost, 0);
  // A heartbeat from it resets its silence.
  FromWorker("id1", MsgType::kHeartbeat, Json::object());
  clock_.Advance(milliseconds(3000));
  broker_->Tick();
  EXPECT_EQ(broker_->connected(), 1u);
  // One millisecond more than liveness allows: dead, its attempt lost and the job queued again.
  clock_.Advance(milliseconds(1));
  broker_->Tick();
  EXPECT_EQ(broker_->connected(), 0u);
  EXPECT_EQ(counters_.workers_lost, 1);
  EXPECT_EQ(counters_.lost_attempts, 1);
  EXPECT_EQ(broker_->queued(), 1u);
  auto workers = record_->Workers();
  ASSERT_TRUE(workers.ok());
  EXPECT_EQ((*workers)[0]["state"], "lost");
  // Its next message finds no session: it is asked to say hello again.
  Sent();
  FromWorker("id1", MsgType::kHeartbeat, Json::object());
  EXPECT_EQ(Sent(), (std::vector<std::string>{"reconnect"}));
}

// A worker whose connection is renewed while a job is on its way comes back
// (the same daemon, by its pid) without it: the job never reached it, so it
// is requeued without using up an attempt. A restarted daemon (another pid)
// without it may have died of it: that attempt counts.
TEST_F(WorkerBrokerTest, ADispatchLostWithAConnectionIsRequeuedUncountedButARestartCounts) {
  Submit(1, /*max_attempts=*/1);
  const Json hello = {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}, {"pid", 100}};
  FromWorker("id1", MsgType::kHello, hello);
  FromWorker("id1", MsgType::kReady, Json::object());
  broker_->Schedule();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"welcome", "job"}));
  FromWorker("id2", MsgType::kHello, hello);  // a new connection, the same process, nothing running
  EXPECT_EQ(counters_.lost_attempts, 1);
  EXPECT_EQ(broker_->queued(), 1u) << "requeued although max_attempts is 1";
  FromWorker("id2", MsgType::kReady, Json::object());
  broker_->Schedule();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"welcome", "job"}));
  Json restarted = hello;
  restarted["pid"] = 200;
  FromWorker("id3", MsgType::kHello, restarted);
  EXPECT_EQ(counters_.lost_attempts, 2);
  EXPECT_EQ(broker_->queued(), 0u) << "its one attempt is used up";
  auto queued = record_->QueuedJobs();
  ASSERT_TRUE(queued.ok());
  EXPECT_TRUE(queued->empty());
}

TEST_F(WorkerBrokerTest, AfterARestartRunningAttemptsWaitTheGraceForTheirWorker) {
  Submit(2);
  FromWorker("id1", MsgType::kHello, {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 2}});
  FromWorker("id1", MsgType::kReady, Json::object());
  broker_->Schedule();
  ASSERT_EQ(broker_->queued(), 0u);
  auto running = record_->RunningAttempts();
  ASSERT_EQ(running->size(), 2u);
  // The coordinator restarts: a new broker on the same record.
  MakeBroker();
  ASSERT_TRUE(broker_->Recover().ok());
  EXPECT_EQ(broker_->queued(), 0u);
  // w1 comes back within the grace claiming one of its two attempts.
  clock_.Advance(milliseconds(4000));
  FromWorker("id2", MsgType::kHello, {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"},
                                      {"slots", 2}, {"running", {(*running)[0].attempt_id}}});
  // The other was lost with the reconnect; the claimed one stays.
  EXPECT_EQ(broker_->queued(), 1u);
  clock_.Advance(milliseconds(2000));  // past the grace: nothing else to lose
  FromWorker("id2", MsgType::kHeartbeat, Json::object());
  broker_->Tick();
  EXPECT_EQ(broker_->queued(), 1u);
  EXPECT_EQ(broker_->slots_busy(), 1);

  // Another restart, and this time nobody comes back: lost after the grace, not before.
  MakeBroker();
  ASSERT_TRUE(broker_->Recover().ok());
  clock_.Advance(milliseconds(4999));
  broker_->Tick();
  EXPECT_EQ(broker_->queued(), 1u);
  clock_.Advance(milliseconds(1));
  broker_->Tick();
  EXPECT_EQ(broker_->queued(), 2u);
}

TEST_F(WorkerBrokerTest, WhileTheRecordCannotBeWrittenNothingIsDispatchedOrAcknowledged) {
  Submit(1);
  FromWorker("id1", MsgType::kHello, {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}});
  FromWorker("id1", MsgType::kReady, Json::object());
  broker_->SetPaused("the disk is full");
  broker_->Schedule();
  EXPECT_EQ(Sent(), (std::vector<std::string>{"welcome"}));
  broker_->SetPaused("");
  broker_->Schedule();
  ASSERT_EQ(Sent(), (std::vector<std::string>{"job"}));
  const int64_t attempt = (*record_->RunningAttempts())[0].attempt_id;
  const Json result = {{"attempt_id", attempt},
                       {"result", {{"status", "ok"}, {"compute_seconds", 1.0},
                                   {"test", {{"metrics", {{"macro_f1", 0.5}, {"accuracy", 0.5}}}}}}}};
  broker_->SetPaused("the disk is full");
  FromWorker("id1", MsgType::kResult, result);
  EXPECT_TRUE(Sent().empty()) << "acknowledged while the record could not be written";
  EXPECT_EQ(counters_.deferred_reports, 1);
  EXPECT_EQ((*record_->Results(1)).size(), 0u);
  broker_->SetPaused("");
  FromWorker("id1", MsgType::kResult, result);  // the worker sends it again
  EXPECT_EQ(Sent(), (std::vector<std::string>{"ack"}));
  EXPECT_EQ((*record_->Results(1)).size(), 1u);
}

TEST_F(WorkerBrokerTest, LastSeenIsWrittenInBatchesWithWhenEachWorkerWasHeard) {
  opt_.liveness = 100;  // silent for 8 s and still alive: this is about last_seen, not liveness
  MakeBroker();
  FromWorker("id1", MsgType::kHello, {{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}});
  const double hello_at = clock_.Unix();
  broker_->Tick();  // the first batch
  clock_.Advance(milliseconds(2000));
  FromWorker("id1", MsgType::kHeartbeat, Json::object());
  const double heard_at = clock_.Unix();
  broker_->Tick();  // within the interval: not written
  EXPECT_DOUBLE_EQ((*record_->Workers())[0]["last_seen"].get<double>(), hello_at);
  clock_.Advance(milliseconds(8000));
  broker_->Tick();  // 10 s since the last batch
  EXPECT_NEAR((*record_->Workers())[0]["last_seen"].get<double>(), heard_at, 1e-3);
}

}  // namespace
}  // namespace avctl
