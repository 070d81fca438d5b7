// The worker daemon's rooms on their own: the coordinator link against an
// in-process ROUTER standing in for the coordinator, and the runners of the
// sleep and no-op kinds (train is covered with real processes by the
// cluster and chaos tests).
#include <gtest/gtest.h>

#include <thread>
#include <tuple>

#include "common/clock.h"
#include "net/zmq_util.h"
#include "worker/coordinator_link.h"
#include "worker/job_runners.h"

namespace avctl {
namespace {

struct FakeCoordinator {
  zmq::context_t ctx{1};
  zmq::socket_t router{ctx, zmq::socket_type::router};
  std::string endpoint;
  FakeCoordinator() {
    router.set(zmq::sockopt::rcvtimeo, 3000);
    router.bind("tcp://127.0.0.1:*");
    endpoint = LastEndpoint(router);
  }
  // The next message: routing id and decoded message.
  std::pair<std::string, WireMessage> Recv() {
    auto frames = RecvFrames(router, true);
    EXPECT_TRUE(frames.has_value());
    if (!frames) return {};
    auto m = DecodeWorkerMessage(std::vector<std::string>(frames->begin() + 1, frames->end()));
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    return {(*frames)[0], m.ok() ? *m : WireMessage{}};
  }
  void Send(const std::string& id, MsgType type, Json body) {
    auto frames = EncodeWorkerMessage({type, std::move(body)});
    frames.insert(frames.begin(), id);
    ASSERT_TRUE(SendFrames(router, frames, true).ok());
  }
};

// Drives the link until `done` or a deadline.
template <typename F>
bool Pump(CoordinatorLink& link, F done, int ms = 3000) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
  while (std::chrono::steady_clock::now() < until) {
    link.Tick();
    if (link.socket() != nullptr) {
      zmq::pollitem_t item{link.socket()->handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(10));
      if (item.revents & ZMQ_POLLIN) link.OnReadable();
    }
    if (done()) return true;
  }
  return false;
}

TEST(CoordinatorLinkTest, HelloWelcomeReportsResentUntilAcked) {
  FakeCoordinator coord;
  Logger log(stderr, LogLevel::kError);
  zmq::context_t ctx(1);
  LinkOptions o;
  o.endpoint = coord.endpoint;
  int welcomed = 0;
  std::vector<std::tuple<int64_t, bool, bool>> acked;
  std::vector<MsgType> passed_on;
  CoordinatorLink::Handlers on;
  on.hello = [] { return Json{{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}}; };
  on.welcomed = [&] { ++welcomed; };
  on.message = [&](const WireMessage& m) { passed_on.push_back(m.type); };
  on.acked = [&](int64_t a, bool spooled, bool stored) { acked.emplace_back(a, spooled, stored); };
  CoordinatorLink link(o, ctx, &log, on);
  // A report made before any connection waits for the welcome.
  link.Report(7, MsgType::kResult, {{"attempt_id", 7}, {"result", Json::object()}}, true);
  link.Tick();  // connects and says hello
  auto [id, hello] = coord.Recv();
  EXPECT_EQ(hello.type, MsgType::kHello);
  coord.Send(id, MsgType::kWelcome, {{"protocol", kProtocolVersion}, {"heartbeat_ms", 20}, {"liveness", 50}});
  ASSERT_TRUE(Pump(link, [&] { return welcomed == 1; }));
  EXPECT_TRUE(link.connected());
  auto [id2, resent] = coord.Recv();
  EXPECT_EQ(resent.type, MsgType::kResult);
  // No ack: after 10 heartbeat intervals (200 ms) it comes again.
  Pump(link, [] { return false; }, 300);  // 300 ms of ticks
  bool again = false;
  for (int i = 0; i < 20 && !again; ++i) again = coord.Recv().second.type == MsgType::kResult;
  EXPECT_TRUE(again);
  coord.Send(id, MsgType::kAck, AckToJson({7, true}));
  coord.Send(id, MsgType::kCancel, {{"attempt_id", 9}});
  ASSERT_TRUE(Pump(link, [&] { return !acked.empty() && !passed_on.empty(); }));
  EXPECT_EQ(acked[0], std::make_tuple(int64_t{7}, true, true));  // the ack's result_stored is passed on
  EXPECT_EQ(passed_on[0], MsgType::kCancel);
  EXPECT_EQ(link.unacknowledged(), 0u);
  // Refused: the link stops and says why.
  coord.Send(id, MsgType::kRefused, {{"reason", "hello.device: expected cpu"}});
  ASSERT_TRUE(Pump(link, [&] { return !link.refused().ok(); }));
  EXPECT_NE(link.refused().ToString().find("hello.device"), std::string::npos);
}

// Heartbeats, liveness and backoff with a clock moved by hand: the fake
// coordinator's receive waits for the message each step means, and no step
// sleeps.
TEST(CoordinatorLinkTest, HeartbeatsLivenessAndBackoffFollowTheClock) {
  FakeCoordinator coord;
  Logger log(stderr, LogLevel::kError);
  zmq::context_t ctx(1);
  ManualClock clock;
  LinkOptions o;
  o.endpoint = coord.endpoint;
  o.heartbeat_ms = 1000;
  o.liveness = 3;
  o.max_backoff_ms = 4000;
  o.clock = &clock;
  int welcomed = 0;
  CoordinatorLink::Handlers on;
  on.hello = [] { return Json{{"protocol", kProtocolVersion}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 1}}; };
  on.welcomed = [&] { ++welcomed; };
  on.message = [](const WireMessage&) {};
  on.acked = [](int64_t, bool, bool) {};
  CoordinatorLink link(o, ctx, &log, on);
  // A marker sent after a step: the fake coordinator receives in order, so
  // finding the marker next shows the step sent nothing.
  auto nothing_sent = [&] {
    link.Send(MsgType::kProgress, {{"attempt_id", 1}, {"epoch", 99}});
    return coord.Recv().second.type == MsgType::kProgress;
  };

  link.Tick();
  ASSERT_NE(link.socket(), nullptr);
  auto [id, first] = coord.Recv();
  EXPECT_EQ(first.type, MsgType::kHello);
  // No welcome within liveness x heartbeat: the connection is dropped, and
  // the next one waits out the backoff (1 s, then 2 s, then 4 s: the cap).
  for (int backoff : {1000, 2000, 4000, 4000}) {
    clock.Advance(std::chrono::milliseconds(3000));
    link.Tick();
    EXPECT_NE(link.socket(), nullptr) << "dropped at exactly liveness x heartbeat";
    clock.Advance(std::chrono::milliseconds(1));
    link.Tick();
    ASSERT_EQ(link.socket(), nullptr) << "kept a connection that got no welcome";
    clock.Advance(std::chrono::milliseconds(backoff - 1));
    link.Tick();
    EXPECT_EQ(link.socket(), nullptr) << "reconnected before the backoff of " << backoff << " ms";
    clock.Advance(std::chrono::milliseconds(1));
    link.Tick();
    ASSERT_NE(link.socket(), nullptr) << "no reconnection after the backoff of " << backoff << " ms";
    auto [next_id, hello] = coord.Recv();
    EXPECT_EQ(hello.type, MsgType::kHello);
    id = next_id;
  }
  // Welcomed: a quiet link sends a heartbeat each interval, not before.
  coord.Send(id, MsgType::kWelcome, {{"protocol", kProtocolVersion}, {"heartbeat_ms", 1000}, {"liveness", 3}});
  ASSERT_TRUE(Pump(link, [&] { return welcomed == 1; }));  // waits for the welcome; the clock stands still
  EXPECT_TRUE(nothing_sent());
  clock.Advance(std::chrono::milliseconds(999));
  link.Tick();
  EXPECT_TRUE(nothing_sent()) << "a heartbeat before the interval";
  clock.Advance(std::chrono::milliseconds(1000));
  link.Tick();
  EXPECT_EQ(coord.Recv().second.type, MsgType::kHeartbeat);
  // The coordinator goes silent: dropped after liveness x heartbeat, and the
  // backoff started over at 1 s with the welcome.
  clock.Advance(std::chrono::milliseconds(1001));  // 3000 ms since the welcome, the last it heard
  link.Tick();
  EXPECT_TRUE(link.connected());
  clock.Advance(std::chrono::milliseconds(1));
  link.Tick();
  EXPECT_FALSE(link.connected());
  ASSERT_EQ(link.socket(), nullptr);
  clock.Advance(std::chrono::milliseconds(1000));
  link.Tick();
  ASSERT_NE(link.socket(), nullptr);
  // The old connection's last heartbeat (sent at 3000 ms) may come first.
  MsgType next = coord.Recv().second.type;
  if (next == MsgType::kHeartbeat) next = coord.Recv().second.type;
  EXPECT_EQ(next, MsgType::kHello);
}

TEST(JobRunnersTest, AProgressLineThatDoesNotParseIsAnErrorNamingWhere) {
  auto ok = ReadProgressLine(R"({"epoch": 3, "train_loss": 0.5})", "p.jsonl at byte 0");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["epoch"], 3);
  for (const char* bad : {"{\"epoch\": 3", "[1, 2]", "{\"train_loss\": 1}", "{\"epoch\": \"3\"}"}) {
    auto r = ReadProgressLine(bad, "p.jsonl at byte 40");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().ToString().find("p.jsonl at byte 40"), std::string::npos) << r.status().ToString();
  }
}

TEST(JobRunnersTest, SleepReportsItsMeasuredTimeAndNoopAnswersAtOnce) {
  SleepRunner sleep;
  JobMessage m;
  m.attempt_id = 3;
  m.kind = JobKind::kSleep;
  m.sleep_seconds = 0.05;
  EXPECT_FALSE(sleep.Start(m).has_value());
  EXPECT_EQ(sleep.Holding(), std::vector<int64_t>{3});
  ASSERT_TRUE(sleep.NextDue().has_value());
  std::vector<AttemptReport> out;
  const auto none = [](Json) {};
  for (int i = 0; i < 100 && out.empty(); ++i) {
    out = sleep.Poll(none);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, MsgType::kResult);
  EXPECT_GE(out[0].body["result"]["compute_seconds"].get<double>(), 0.05);
  EXPECT_FALSE(out[0].spooled);
  EXPECT_TRUE(sleep.Holding().empty());
  EXPECT_FALSE(sleep.Start(m).has_value());
  EXPECT_TRUE(sleep.Cancel(3));
  EXPECT_FALSE(sleep.Cancel(3));

  NoopRunner noop;
  auto r = noop.Start(m);
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->body["attempt_id"], 3);
  EXPECT_EQ(r->body["result"]["status"], "ok");
}

}  // namespace
}  // namespace avctl
