// Integration tests with real processes on loopback: avcoord, avworker serve
// daemons running real (tiny) training jobs, and avctl; workers and the
// coordinator are killed with SIGKILL and restarted mid-sweep.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zmq.hpp>

#include "cli/control_client.h"
#include "common/json_util.h"
#include "common/protocol.h"
#include "db/database.h"
#include "net/zmq_util.h"
#include "tests/child_process.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::ChildProcess;
using testutil::ClusterTest;
using testutil::kBin;
using testutil::kQuickSpec;
using testutil::WaitUntil;

TEST_F(ClusterTest, SweepSurvivesKilledWorkerAndRestartedCoordinatorWithEveryResultStoredOnce) {
  StartCoordinator();
  for (int i = 1; i <= 3; ++i) StartWorker(i);
  auto spec = ReadJsonFile(kQuickSpec);
  ASSERT_TRUE(spec.ok());
  Json submitted = Call({{"op", "submit"}, {"spec", *spec}, {"source", kQuickSpec}});
  ASSERT_EQ(submitted.value("jobs", 0), 30);

  // SIGKILL worker 1 while it runs a job; its job comes back to the queue.
  ASSERT_TRUE(WaitUntil([&] {
    return Count("SELECT COUNT(*) FROM attempts WHERE worker_id = 'w1' AND state = 'running'") > 0 &&
           Count("SELECT COUNT(*) FROM results") >= 2;
  }, 180)) << coord_->Log();
  workers_[0]->Kill(SIGKILL);
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT COUNT(*) FROM events WHERE kind = 'lost'") > 0; }, 30))
      << coord_->Log();
  StartWorker(1);

  // SIGKILL the coordinator mid-sweep and start it again on the same record.
  ASSERT_TRUE(WaitUntil([&] { return Count("SELECT COUNT(*) FROM results") >= 10; }, 240)) << coord_->Log();
  coord_->Kill(SIGKILL);
  EXPECT_EQ(Text("PRAGMA integrity_check"), "ok");
  // Each worker notices the silence and goes on trying to reconnect.
  for (auto& w : workers_) {
    const size_t mark = w->Log().size();
    ASSERT_TRUE(WaitUntil([&] { return w->Log().find("reconnecting to", mark) != std::string::npos; }, 30)) << w->Log();
  }
  StartCoordinator();

  ASSERT_TRUE(WaitUntil([&] { return Status("quick").value("finished", false); }, 420)) << coord_->Log();
  Json st = Status("quick");
  EXPECT_EQ(st["states"]["done"], 30) << st.dump(2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 30);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) FROM results"), 30);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results r JOIN attempts a ON a.id = r.attempt_id "
                  "WHERE a.state = 'succeeded' AND a.job_id = r.job_id"), 30);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM results r WHERE r.job_id = j.id)"), 0);
  // The killed worker's attempt was declared lost; it stays lost, or became
  // succeeded when its job had written its result just before the kill and
  // the restarted daemon reported it late.
  EXPECT_GE(Count("SELECT COUNT(*) FROM events WHERE kind = 'lost'"), 1);

  // Each daemon prepared the store once for all its jobs (w1 was restarted:
  // a new daemon, which prepares it again).
  for (const char* w : {"w2", "w3"}) {
    const std::string log = testutil::RunCommand(fmt::format("cat {}", (dir_ / (std::string(w) + ".log")).string())).output;
    size_t n = 0;
    for (size_t at = log.find("opened and verified"); at != std::string::npos; at = log.find("opened and verified", at + 1)) ++n;
    EXPECT_EQ(n, 1u) << w << ":\n" << log;
  }

  // avctl against the live coordinator.
  int code = 0;
  std::string out = Avctl("sweep status quick", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("30/30 finished"), std::string::npos) << out;
  // The comparison's power so far, from the results the control API returns.
  EXPECT_NE(out.find("power so far"), std::string::npos) << out;
  EXPECT_NE(out.find("ladder_av vs backbone: 15 pairs"), std::string::npos) << out;
  out = Avctl("sweep status quick --json", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("\"power_holm\""), std::string::npos) << out;
  out = Avctl("results quick --format csv", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 31) << out;
  EXPECT_NE(out.find("macro_f1"), std::string::npos);
  out = Avctl("jobs quick --state failed --json", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_EQ(out, "[]\n");
  out = Avctl("workers", &code);
  EXPECT_EQ(code, 0) << out;
  for (const char* w : {"w1", "w2", "w3"}) EXPECT_NE(out.find(w), std::string::npos) << out;
  out = Avctl("sweep status nosuch", &code);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("no sweep \"nosuch\""), std::string::npos) << out;

  // Resubmitting finds every job already done.
  Json again = Call({{"op", "submit"}, {"spec", *spec}, {"source", kQuickSpec}});
  EXPECT_EQ(again.value("added", -1), 0);
  EXPECT_EQ(again.value("existing", -1), 30);

  // A sweep is named by its name or its id, the id as a number too.
  Json by_id = Call({{"op", "status"}, {"sweep", again.value("sweep_id", 0)}});
  EXPECT_EQ(by_id["status"].value("name", ""), "quick") << by_id.dump();

  // SIGTERM drains the workers and stops the coordinator, all exiting 0.
  const int64_t events_before = Count("SELECT COALESCE(MAX(id), 0) FROM events");  // w1 was killed above: lost
  for (auto& w : workers_) w->Signal(SIGTERM);
  for (auto& w : workers_) EXPECT_EQ(w->Wait(20000), 0) << w->Log();
  // Drained workers said bye: recorded as gone, not as lost.
  EXPECT_TRUE(WaitUntil([&] { return Count("SELECT COUNT(*) FROM workers WHERE state = 'gone'") == 3; }, 10))
      << coord_->Log();
  EXPECT_EQ(Count(fmt::format("SELECT COUNT(*) FROM events WHERE id > {} AND kind = 'worker' AND message LIKE '% lost'",
                              events_before)), 0);
  coord_->Signal(SIGTERM);
  EXPECT_EQ(coord_->Wait(20000), 0) << coord_->Log();
}

TEST_F(ClusterTest, CancelKillsTheRunningJobProcessAndRetryRequeues) {
  StartCoordinator();
  ChildProcess* w = StartWorker(1);
  auto spec = ReadJsonFile(kQuickSpec);
  ASSERT_TRUE(spec.ok());
  Json slow = *spec;
  slow["name"] = "slow";
  slow["seeds"] = 1;
  slow["base"]["train"] = {{"epochs", 200}};  // minutes: it must be killed, not finish
  Call({{"op", "submit"}, {"spec", slow}, {"source", "slow.json"}});
  // The worker logs "attempt N (...) started as pid P".
  pid_t child = 0;
  ASSERT_TRUE(WaitUntil([&] {
    const std::string log = w->Log();
    const size_t at = log.find("started as pid ");
    if (at == std::string::npos) return false;
    child = static_cast<pid_t>(std::atoi(log.c_str() + at + 15));
    return child > 0;
  }, 60)) << w->Log();
  ASSERT_EQ(::kill(child, 0), 0) << "the job's process runs";
  Json cancelled = Call({{"op", "cancel"}, {"sweep", "slow"}});
  EXPECT_EQ(cancelled.value("cancelled", 0), 2);
  EXPECT_TRUE(WaitUntil([&] { return ::kill(child, 0) != 0; }, 20)) << "the job's process was not killed";
  EXPECT_TRUE(WaitUntil([&] { return w->Log().find("cancelled by the coordinator") != std::string::npos; }, 5));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE state = 'cancelled'"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'cancelled'"), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 0);
  EXPECT_TRUE(w->running()) << "the daemon survives its job being killed";
  // Retry puts both back in the queue with a fresh budget.
  Json retried = Call({{"op", "retry"}, {"sweep", "slow"}});
  EXPECT_EQ(retried.value("requeued", 0), 2);
  Call({{"op", "cancel"}, {"sweep", "slow"}});
  w->Signal(SIGTERM);
  EXPECT_EQ(w->Wait(30000), 0) << w->Log();
}

TEST_F(ClusterTest, MisbehavingPeersAreRefusedAndChangeNothing) {
  StartCoordinator();
  auto spec = ReadJsonFile(kQuickSpec);
  ASSERT_TRUE(spec.ok());
  Call({{"op", "submit"}, {"spec", *spec}, {"source", kQuickSpec}});

  zmq::context_t ctx(1);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  ConfigureSocket(dealer, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 3000);
  dealer.connect(ep_["workers"].get<std::string>());
  // Garbage and unknown types: no answer, no change.
  ASSERT_TRUE(SendFrames(dealer, {"GET / HTTP/1.0"}, true).ok());
  ASSERT_TRUE(SendFrames(dealer, {kWorkerSignature, "explode", "{}"}, true).ok());
  // A result before hello: asked to say hello.
  ASSERT_TRUE(SendFrames(dealer, EncodeWorkerMessage({MsgType::kResult, {{"attempt_id", 1}, {"result", {{"status", "ok"}}}}}), true).ok());
  auto reply = RecvFrames(dealer, true);
  ASSERT_TRUE(reply.has_value());
  auto m = DecodeWorkerMessage(*reply);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, MsgType::kReconnect);
  // Another protocol version: refused.
  ASSERT_TRUE(SendFrames(dealer, EncodeWorkerMessage({MsgType::kHello, {{"protocol", 99}, {"worker_id", "x"},
                                                                        {"device", "cpu"}, {"slots", 1}}}), true).ok());
  reply = RecvFrames(dealer, true);
  ASSERT_TRUE(reply.has_value());
  m = DecodeWorkerMessage(*reply);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->type, MsgType::kRefused);
  EXPECT_NE(m->body["reason"].get<std::string>().find("protocol version 99"), std::string::npos);
  // A proper hello, then a result for an attempt nobody dispatched: acked, not stored.
  ASSERT_TRUE(SendFrames(dealer, EncodeWorkerMessage({MsgType::kHello, {{"protocol", kProtocolVersion},
                                                                        {"worker_id", "x"}, {"device", "cpu"},
                                                                        {"slots", 1}}}), true).ok());
  reply = RecvFrames(dealer, true);
  ASSERT_TRUE(reply.has_value());
  EXPECT_EQ(DecodeWorkerMessage(*reply)->type, MsgType::kWelcome);
  ASSERT_TRUE(SendFrames(dealer, EncodeWorkerMessage({MsgType::kResult, {{"attempt_id", 4242},
                                                                         {"result", {{"status", "ok"}}}}}), true).ok());
  bool acked = false;
  for (int i = 0; i < 10 && !acked; ++i) {
    reply = RecvFrames(dealer, true);
    if (!reply) break;
    auto r = DecodeWorkerMessage(*reply);
    acked = r.ok() && r->type == MsgType::kAck && r->body["attempt_id"] == 4242;
  }
  EXPECT_TRUE(acked);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'queued'"), 30);

  // A second coordinator on the same record is refused with a lock error.
  ChildProcess second;
  ASSERT_TRUE(second.Start({kBin + "avcoord", "--db", db_, "--workers", "tcp://127.0.0.1:*", "--control",
                            "tcp://127.0.0.1:*", "--http", "-1"}, (dir_ / "second.log").string()));
  EXPECT_EQ(second.Wait(10000), 1);
  EXPECT_NE(second.Log().find("another avcoord is running on this record"), std::string::npos) << second.Log();

  // A bad spec is refused naming the field, and nothing is added.
  Json bad = *spec;
  bad["name"] = "bad";
  bad["variants"][1]["overrides"] = {{"train", {{"lr", "fast"}}}};
  auto r = cli::CallCoordinator(ep_["control"].get<std::string>(), {{"op", "submit"}, {"spec", bad}, {"source", "bad.json"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().ToString().find("variants[1].overrides.train.lr"), std::string::npos) << r.status().ToString();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sweeps"), 1);

  // The HTTP endpoint serves the status page, the API and metrics.
  const std::string http = ep_["http"].get<std::string>();
  auto page = testutil::RunCommand("curl -sf " + http + "/metrics");
  if (page.exit_code != 127) {  // curl present
    EXPECT_NE(page.output.find("avctl_bad_messages_total 2"), std::string::npos) << page.output;
    EXPECT_NE(page.output.find("avctl_jobs{sweep=\"quick\",state=\"queued\"} 30"), std::string::npos) << page.output;
    auto api = testutil::RunCommand("curl -sf " + http + "/api/sweeps/quick");
    EXPECT_NE(api.output.find("\"name\": \"quick\""), std::string::npos) << api.output;
    auto report = testutil::RunCommand("curl -sfL " + http + "/report/quick");
    EXPECT_EQ(report.exit_code, 0) << report.output;
    EXPECT_NE(report.output.find("<h1>Sweep quick</h1>"), std::string::npos) << report.output.substr(0, 500);
    // The live page: no worker is connected, so the queued jobs are explained.
    auto root = testutil::RunCommand("curl -sf " + http + "/");
    EXPECT_NE(root.output.find("quick: 30 queued job(s) no connected worker can run: no worker is connected"),
              std::string::npos)
        << root.output;
    EXPECT_NE(root.output.find("<h2>Running jobs</h2>"), std::string::npos);
    EXPECT_NE(root.output.find("live report</a>"), std::string::npos);
    auto csv = testutil::RunCommand("curl -sf " + http + "/report/quick/table.csv");
    EXPECT_NE(csv.output.find("architecture,role,runs"), std::string::npos) << csv.output;
  }
  coord_->Signal(SIGTERM);
  EXPECT_EQ(coord_->Wait(10000), 0) << coord_->Log();
}

}  // namespace
}  // namespace avctl
