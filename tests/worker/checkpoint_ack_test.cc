// A job's checkpoints go when the coordinator has stored its result, never
// when a stale attempt finishes: a real `avworker serve` against an
// in-process ROUTER standing in for the coordinator. Attempt 1 of a job
// trains with checkpoints and reports a result that the coordinator does not
// keep (a stale attempt: its ack says result_stored false); the job's
// checkpoints stay for the retry. Attempt 2 of the same job resumes from them,
// and its acknowledged, stored result removes them.
#include <chrono>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/json_util.h"
#include "common/protocol.h"
#include "net/zmq_util.h"
#include "tests/child_process.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"
#include "tests/wait.h"
#include "worker/job_runners.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

const std::string kBin = std::string(AVCTL_BINARY_DIR) + "/bin/";

class CheckpointAckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("checkpoint_ack");
    router_.set(zmq::sockopt::rcvtimeo, 200);
    router_.bind("tcp://127.0.0.1:*");
  }
  void TearDown() override {
    worker_.Kill(SIGKILL);
    if (!HasFailure()) fs::remove_all(dir_);
  }

  // The next message of `type` within `seconds`, answering heartbeats.
  std::optional<WireMessage> Await(MsgType type, int seconds) {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    while (std::chrono::steady_clock::now() < until) {
      auto frames = RecvFrames(router_, true);
      if (!frames) continue;
      identity_ = (*frames)[0];
      auto m = DecodeWorkerMessage(std::vector<std::string>(frames->begin() + 1, frames->end()));
      if (!m.ok()) continue;
      if (m->type == MsgType::kHeartbeat) Send(MsgType::kHeartbeat, Json::object());
      if (m->type == type) return *m;
    }
    return std::nullopt;
  }
  void Send(MsgType type, Json body) {
    auto frames = EncodeWorkerMessage({type, std::move(body)});
    frames.insert(frames.begin(), identity_);
    ASSERT_TRUE(SendFrames(router_, frames, true).ok());
  }
  void SendFramesToWorker(std::vector<std::string> frames) {
    frames.insert(frames.begin(), identity_);
    ASSERT_TRUE(SendFrames(router_, frames, true).ok());
  }
  std::vector<std::string> Checkpoints() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& dir : fs::directory_iterator(dir_ / "checkpoints", ec)) {
      for (const auto& f : fs::directory_iterator(dir.path(), ec)) out.push_back(f.path().filename().string());
    }
    return out;
  }

  fs::path dir_;
  zmq::context_t ctx_{1};
  zmq::socket_t router_{ctx_, zmq::socket_type::router};
  std::string identity_;
  testutil::ChildProcess worker_;
};

TEST_F(CheckpointAckTest, AStaleAttemptsResultLeavesTheRetrysCheckpoints) {
  const std::string endpoint = LastEndpoint(router_);
  ASSERT_TRUE(worker_.Start({kBin + "avworker", "serve", "--coordinator", endpoint, "--id", "w1", "--work-dir",
                             (dir_ / "work").string(), "--cache", (dir_ / "stores").string(), "--checkpoint-dir",
                             (dir_ / "checkpoints").string(), "--threads", "1", "--device", "cpu"},
                            (dir_ / "worker.log").string()));
  ASSERT_TRUE(Await(MsgType::kHello, 30).has_value()) << worker_.Log();
  Send(MsgType::kWelcome, {{"protocol", kProtocolVersion}, {"heartbeat_ms", 200}, {"liveness", 50}});
  ASSERT_TRUE(Await(MsgType::kReady, 10).has_value()) << worker_.Log();

  const std::string key = "ck/backbone/-/seed=1/partition=1";
  const Json job = {{"key", key}, {"variant", "backbone"}, {"seed", 1}, {"threads", 1},
                    {"model", {{"heads", 2}, {"cross_layers", 1}, {"self_layers", 1}, {"aux_repeats", 1},
                               {"pooling", "mean"}}},
                    {"train", {{"epochs", 2}, {"max_train_batches", 2}}}};
  auto dispatch = [&](int64_t attempt, std::optional<ResumeHint> resume) {
    JobMessage m;
    m.attempt_id = attempt;
    m.job_key = key;
    m.kind = JobKind::kTrain;
    m.job = job.dump();
    m.dataset = Json{{"synth", {{"profile", "tiny"}, {"seed", 1}}}}.dump();
    m.resume = std::move(resume);
    SendFramesToWorker(EncodeJobMessage(m));
  };

  // Attempt 1: a result, acknowledged but not stored (a stale attempt's).
  dispatch(1, std::nullopt);
  auto r1 = Await(MsgType::kResult, 240);
  ASSERT_TRUE(r1.has_value()) << worker_.Log();
  const auto kept = Checkpoints();
  ASSERT_FALSE(kept.empty()) << "the trainer wrote no checkpoint, or removed them with its result";
  Send(MsgType::kAck, AckToJson({1, false}));
  // The spool of attempt 1 goes with the ack; the checkpoints must not.
  ASSERT_TRUE(testutil::WaitUntil([&] { return !fs::exists(dir_ / "work" / "attempts" / "1"); }, 10)) << worker_.Log();
  EXPECT_EQ(Checkpoints(), kept);

  // Attempt 2, the retry: resumes from them; its stored result removes them.
  dispatch(2, std::nullopt);
  auto r2 = Await(MsgType::kResult, 240);
  ASSERT_TRUE(r2.has_value()) << worker_.Log();
  EXPECT_TRUE(r2->body["result"].value("resume", Json::object()).value("resumed", false))
      << "the retry did not resume from attempt 1's checkpoints: " << r2->body["result"].value("resume", Json()).dump();
  EXPECT_FALSE(Checkpoints().empty()) << "removed before the coordinator stored the result";
  Send(MsgType::kAck, AckToJson({2, true}));
  ASSERT_TRUE(testutil::WaitUntil([&] { return Checkpoints().empty(); }, 10)) << worker_.Log();
}

}  // namespace
}  // namespace avctl
