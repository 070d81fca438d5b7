#include "common/protocol.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(Protocol, RoundTripsEveryMessageType) {
  const std::vector<WireMessage> messages = {
      {MsgType::kHello, {{"protocol", 1}, {"worker_id", "w1"}, {"device", "cpu"}, {"slots", 2}, {"running", {3, 4}}}},
      {MsgType::kWelcome, {{"protocol", 1}, {"heartbeat_ms", 1000}, {"liveness", 3}}},
      {MsgType::kRefused, {{"reason", "protocol 2 is not 1"}}},
      {MsgType::kReady, Json::object()},
      {MsgType::kJob, {{"attempt_id", 7}, {"job_key", "s/v/-/seed=0/partition=1"}, {"kind", "train"},
                       {"job", {{"variant", "backbone"}}}, {"dataset", {{"store", "/data"}}}}},
      {MsgType::kProgress, {{"attempt_id", 7}, {"epoch", 2}}},
      {MsgType::kResult, {{"attempt_id", 7}, {"result", {{"status", "ok"}}}}},
      {MsgType::kFailure, {{"attempt_id", 7}, {"reason", "NaN loss"}, {"kind", "job"}}},
      {MsgType::kAck, {{"attempt_id", 7}}},
      {MsgType::kHeartbeat, Json::object()},
      {MsgType::kCancel, {{"attempt_id", 7}}},
      {MsgType::kDrain, Json::object()},
      {MsgType::kReconnect, {{"reason", "unknown worker"}}},
      {MsgType::kBye, Json::object()},
  };
  for (const auto& m : messages) {
    auto frames = EncodeWorkerMessage(m);
    ASSERT_EQ(frames.size(), 3u);
    EXPECT_EQ(frames[0], kWorkerSignature);
    auto back = DecodeWorkerMessage(frames);
    ASSERT_TRUE(back.ok()) << MsgTypeName(m.type) << ": " << back.status().ToString();
    EXPECT_EQ(back->type, m.type);
    EXPECT_EQ(back->body, m.body);
  }
}

std::string DecodeError(const std::vector<std::string>& frames) {
  auto r = DecodeWorkerMessage(frames);
  return r.ok() ? "" : r.status().ToString();
}

TEST(Protocol, BadFramesNameWhatIsWrong) {
  EXPECT_NE(DecodeError({"AVCTL-W1", "hello"}).find("expected 3 frames"), std::string::npos);
  EXPECT_NE(DecodeError({"MDPW01", "hello", "{}"}).find("frame 0"), std::string::npos);
  EXPECT_NE(DecodeError({"AVCTL-W1", "explode", "{}"}).find("unknown message type \"explode\""), std::string::npos);
  EXPECT_NE(DecodeError({"AVCTL-W1", "heartbeat", "{not json"}).find("heartbeat body"), std::string::npos);
  EXPECT_NE(DecodeError({"AVCTL-W1", "heartbeat", "[1]"}).find("expected a JSON object"), std::string::npos);
  std::string big(kMaxMessageBytes, 'x');
  EXPECT_NE(DecodeError({"AVCTL-W1", "heartbeat", big}).find("exceeds the limit"), std::string::npos);
}

TEST(Protocol, BodiesAreValidatedPerType) {
  auto err = [](const std::string& type, const std::string& body) {
    return DecodeError({kWorkerSignature, type, body});
  };
  EXPECT_NE(err("hello", R"({"protocol":1,"worker_id":"w","device":"cpu","slots":0})").find("hello.slots"),
            std::string::npos);
  EXPECT_NE(err("hello", R"({"protocol":1,"device":"cpu","slots":1})").find("hello.worker_id"), std::string::npos);
  EXPECT_NE(err("hello", R"({"protocol":1,"worker_id":"w","device":"cpu","slots":1,"running":[1,"x"]})")
                .find("hello.running[1]"), std::string::npos);
  EXPECT_NE(err("result", R"({"attempt_id":"7","result":{}})").find("result.attempt_id"), std::string::npos);
  EXPECT_NE(err("result", R"({"attempt_id":-1,"result":{}})").find("positive attempt id"), std::string::npos);
  EXPECT_NE(err("failure", R"({"attempt_id":1,"reason":"x","kind":"cosmic"})").find("failure.kind"),
            std::string::npos);
  EXPECT_NE(err("job", R"({"attempt_id":1,"job_key":"k","kind":"train","job":[],"dataset":{}})").find("job.job"),
            std::string::npos);
}

TEST(Protocol, ControlChannel) {
  auto ok = DecodeControl({kControlSignature, EncodeControl({{"op", "list"}})});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ((*ok)["op"], "list");
  EXPECT_FALSE(DecodeControl({"AVCTL-W1", "{}"}).ok());
  EXPECT_FALSE(DecodeControl({kControlSignature, "3"}).ok());
  EXPECT_FALSE(DecodeControl({kControlSignature}).ok());
  Json e = ControlError(Status::NotFound("no sweep \"x\""));
  EXPECT_EQ(e["ok"], false);
  EXPECT_NE(e["error"].get<std::string>().find("no sweep"), std::string::npos);
  EXPECT_EQ(ControlOk({{"id", 3}})["ok"], true);
}

TEST(Protocol, RawBodiesDecodeLikeBuiltOnes) {
  auto frames = EncodeWorkerMessageRaw(MsgType::kJob, R"({"attempt_id":3,"job_key":"k","kind":"train",)"
                                                      R"("job":{"variant":"backbone"},"dataset":{"store":"/s"}})");
  auto m = DecodeWorkerMessage(frames);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->type, MsgType::kJob);
  EXPECT_EQ(m->body["job"]["variant"], "backbone");
}

TEST(Protocol, FailureKinds) {
  for (FailureKind k : {FailureKind::kJob, FailureKind::kCrash, FailureKind::kWorker}) {
    auto back = ParseFailureKind(FailureKindName(k), "kind");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, k);
  }
}

}  // namespace
TEST(Protocol, JobMessagesCarryStoredJsonAsIs) {
  JobMessage m;
  m.attempt_id = 7;
  m.job_key = "demo/ladder_av/-/seed=1/partition=1";
  m.job = R"({"key":"demo/ladder_av/-/seed=1/partition=1","seed":1})";
  m.dataset = R"({"synth":{"profile":"tiny"}})";
  auto decoded = DecodeWorkerMessage(EncodeJobMessage(m));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->type, MsgType::kJob);
  EXPECT_FALSE(decoded->body.contains("sleep_seconds"));
  auto back = ReadJobMessage(decoded->body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->attempt_id, 7);
  EXPECT_EQ(back->kind, JobKind::kTrain);
  EXPECT_EQ(Json::parse(back->job), Json::parse(m.job));
  EXPECT_EQ(Json::parse(back->dataset), Json::parse(m.dataset));
  m.kind = JobKind::kSleep;
  m.sleep_seconds = 0.25;
  back = ReadJobMessage(DecodeWorkerMessage(EncodeJobMessage(m))->body);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->kind, JobKind::kSleep);
  EXPECT_DOUBLE_EQ(back->sleep_seconds, 0.25);
  // An unknown kind decodes (the worker answers it with a job failure) but is not read.
  Json body = decoded->body;
  body["kind"] = "render";
  auto bad = ReadJobMessage(body);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("job.kind"), std::string::npos);
}

TEST(Protocol, WorkerDevices) {
  for (const char* ok : {"cpu", "cuda", "cuda:0", "cuda:12"}) EXPECT_TRUE(IsWorkerDevice(ok)) << ok;
  for (const char* bad : {"tpu", "", "cuda:", "cuda:x", "CPU", "cuda0", "mps"}) EXPECT_FALSE(IsWorkerDevice(bad)) << bad;
  EXPECT_EQ(*ParseJobKind("sleep", "kind"), JobKind::kSleep);
  EXPECT_FALSE(ParseJobKind("xyz", "kind").ok());
}

TEST(Protocol, TypedBodiesRoundTripAndNameBadFields) {
  HelloMessage h;
  h.worker_id = "gpu7-0";
  h.device = "cuda:0";
  h.slots = 2;
  h.gpu_free_mb = 70000;
  h.labels = {{"slurm_job_id", "123"}};
  h.running = {4, 5};
  h.finished = {3};
  auto decoded = DecodeWorkerMessage(EncodeWorkerMessage({MsgType::kHello, HelloToJson(h)}));
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  auto back = ReadHello(decoded->body);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->worker_id, "gpu7-0");
  EXPECT_EQ(back->gpu_free_mb, 70000);
  EXPECT_EQ(back->running, (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(back->finished, (std::vector<int64_t>{3}));
  EXPECT_EQ(back->labels["slurm_job_id"], "123");
  Json bad = HelloToJson(h);
  bad["gpu_free_mb"] = "lots";
  EXPECT_NE(ReadHello(bad).status().ToString().find("hello.gpu_free_mb"), std::string::npos);
  bad = HelloToJson(h);
  bad["finished"] = Json::array({3, -1});
  EXPECT_NE(ReadHello(bad).status().ToString().find("hello.finished[1]"), std::string::npos);

  WelcomeMessage w;
  w.heartbeat_ms = 250;
  w.liveness = 4;
  auto wb = ReadWelcome(WelcomeToJson(w));
  ASSERT_TRUE(wb.ok());
  EXPECT_EQ(wb->heartbeat_ms, 250);
  EXPECT_EQ(wb->liveness, 4);

  auto fb = ReadFailure(FailureToJson({9, FailureKind::kWorker, "store missing"}));
  ASSERT_TRUE(fb.ok());
  EXPECT_EQ(fb->kind, FailureKind::kWorker);
  EXPECT_EQ(fb->reason, "store missing");
  EXPECT_FALSE(ReadFailure({{"attempt_id", 9}, {"kind", "cosmic"}, {"reason", "x"}}).ok());
}

TEST(Protocol, ResultAndAttemptBodies) {
  auto r = DecodeWorkerMessage(EncodeWorkerMessage({MsgType::kResult, ResultToJson({12, {{"status", "ok"}}})}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(ReadAttemptId(r->body), 12);
  EXPECT_EQ(r->body["result"]["status"], "ok");
  EXPECT_FALSE(ValidateBody(MsgType::kResult, {{"attempt_id", 12}}).ok());
  EXPECT_EQ(ReadAttemptId(AttemptRefToJson({44})), 44);
  EXPECT_EQ(ReasonToJson("why")["reason"], "why");
}

}  // namespace avctl
