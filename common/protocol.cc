#include "common/protocol.h"

#include <algorithm>
#include <array>
#include <utility>

#include <fmt/format.h>

namespace avctl {

namespace {

constexpr std::array<std::pair<MsgType, const char*>, 14> kTypeNames = {{
    {MsgType::kHello, "hello"},
    {MsgType::kWelcome, "welcome"},
    {MsgType::kRefused, "refused"},
    {MsgType::kReady, "ready"},
    {MsgType::kJob, "job"},
    {MsgType::kProgress, "progress"},
    {MsgType::kResult, "result"},
    {MsgType::kFailure, "failure"},
    {MsgType::kAck, "ack"},
    {MsgType::kHeartbeat, "heartbeat"},
    {MsgType::kCancel, "cancel"},
    {MsgType::kDrain, "drain"},
    {MsgType::kReconnect, "reconnect"},
    {MsgType::kBye, "bye"},
}};

Status RequireAttemptId(const Json& body, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(int64_t id, GetInt(body, "attempt_id", path));
  if (id <= 0) return Status::InvalidArgument(fmt::format("expected a positive attempt id, got {}", id))
                    .WithField(JoinJsonPath(path, "attempt_id"));
  return Status::OK();
}

Status RequireObject(const Json& body, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(const Json* member, GetMember(body, key, path));
  if (!member->is_object()) {
    return Status::InvalidArgument(fmt::format("expected an object, got {}", DescribeJson(*member)))
        .WithField(JoinJsonPath(path, key));
  }
  return Status::OK();
}

Status RequireNonEmptyString(const Json& body, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string value, GetString(body, key, path));
  if (value.empty()) return Status::InvalidArgument("expected a non-empty string").WithField(JoinJsonPath(path, key));
  return Status::OK();
}

}  // namespace

const char* MsgTypeName(MsgType type) {
  for (const auto& [t, name] : kTypeNames) {
    if (t == type) return name;
  }
  return "?";
}

Result<MsgType> ParseMsgType(const std::string& name) {
  for (const auto& [t, n] : kTypeNames) {
    if (name == n) return t;
  }
  std::string shown = name.size() > 40 ? name.substr(0, 40) + "..." : name;
  return Status::NotFound(fmt::format("unknown message type \"{}\"", shown));
}

const char* FailureKindName(FailureKind kind) {
  switch (kind) {
    case FailureKind::kJob: return "job";
    case FailureKind::kCrash: return "crash";
    case FailureKind::kWorker: return "worker";
    case FailureKind::kPreempted: return "preempted";
  }
  return "?";
}

Result<FailureKind> ParseFailureKind(const std::string& name, const std::string& field) {
  if (name == "job") return FailureKind::kJob;
  if (name == "crash") return FailureKind::kCrash;
  if (name == "worker") return FailureKind::kWorker;
  if (name == "preempted") return FailureKind::kPreempted;
  return Status::InvalidArgument(
             fmt::format("expected \"job\", \"crash\", \"worker\" or \"preempted\", got \"{}\"", name))
      .WithField(field);
}

std::vector<std::string> EncodeWorkerMessage(const WireMessage& message) {
  return {kWorkerSignature, MsgTypeName(message.type), DumpJson(message.body)};
}

std::vector<std::string> EncodeWorkerMessageRaw(MsgType type, std::string body_json) {
  return {kWorkerSignature, MsgTypeName(type), std::move(body_json)};
}

Status ValidateBody(MsgType type, const Json& body) {
  const std::string path = MsgTypeName(type);
  if (!body.is_object()) {
    return Status::InvalidArgument(fmt::format("expected a JSON object body, got {}", DescribeJson(body)))
        .WithField(path);
  }
  switch (type) {
    case MsgType::kHello: {
      AVCTL_ASSIGN_OR_RETURN(int64_t protocol, GetInt(body, "protocol", path));
      (void)protocol;  // a mismatch is answered with "refused", not a decode error
      AVCTL_RETURN_IF_ERROR(RequireNonEmptyString(body, "worker_id", path));
      AVCTL_RETURN_IF_ERROR(RequireNonEmptyString(body, "device", path));
      AVCTL_ASSIGN_OR_RETURN(int64_t slots, GetInt(body, "slots", path));
      if (slots < 1 || slots > 1024) {
        return Status::InvalidArgument(fmt::format("expected 1 to 1024 slots, got {}", slots))
            .WithField(path + ".slots");
      }
      if (body.contains("running")) {
        const Json& running = body["running"];
        if (!running.is_array()) {
          return Status::InvalidArgument(fmt::format("expected an array of attempt ids, got {}", DescribeJson(running)))
              .WithField(path + ".running");
        }
        for (size_t i = 0; i < running.size(); ++i) {
          if (!running[i].is_number_integer() || running[i].get<int64_t>() <= 0) {
            return Status::InvalidArgument(fmt::format("expected a positive attempt id, got {}", DescribeJson(running[i])))
                .WithField(JoinJsonPath(path + ".running", i));
          }
        }
      }
      return Status::OK();
    }
    case MsgType::kWelcome: {
      AVCTL_ASSIGN_OR_RETURN(int64_t protocol, GetInt(body, "protocol", path));
      (void)protocol;
      AVCTL_ASSIGN_OR_RETURN(int64_t hb, GetInt(body, "heartbeat_ms", path));
      AVCTL_ASSIGN_OR_RETURN(int64_t liveness, GetInt(body, "liveness", path));
      if (hb <= 0 || liveness <= 0) {
        return Status::InvalidArgument("heartbeat_ms and liveness must be positive").WithField(path);
      }
      return Status::OK();
    }
    case MsgType::kRefused:
    case MsgType::kReconnect:
      return GetString(body, "reason", path).status();
    case MsgType::kJob: {
      AVCTL_RETURN_IF_ERROR(RequireAttemptId(body, path));
      AVCTL_RETURN_IF_ERROR(RequireNonEmptyString(body, "job_key", path));
      AVCTL_RETURN_IF_ERROR(RequireNonEmptyString(body, "kind", path));
      AVCTL_RETURN_IF_ERROR(RequireObject(body, "job", path));
      // A command job brings its own data: its dataset is null.
      if (body.contains("dataset") && body["dataset"].is_null() && body["kind"] == "command") return Status::OK();
      return RequireObject(body, "dataset", path);
    }
    case MsgType::kProgress: {
      AVCTL_RETURN_IF_ERROR(RequireAttemptId(body, path));
      return GetInt(body, "epoch", path).status();
    }
    case MsgType::kResult:
      AVCTL_RETURN_IF_ERROR(RequireAttemptId(body, path));
      return RequireObject(body, "result", path);
    case MsgType::kFailure: {
      AVCTL_RETURN_IF_ERROR(RequireAttemptId(body, path));
      AVCTL_RETURN_IF_ERROR(GetString(body, "reason", path).status());
      AVCTL_ASSIGN_OR_RETURN(std::string kind, GetString(body, "kind", path));
      return ParseFailureKind(kind, path + ".kind").status();
    }
    case MsgType::kAck:
    case MsgType::kCancel:
      return RequireAttemptId(body, path);
    case MsgType::kReady:
    case MsgType::kHeartbeat:
    case MsgType::kDrain:
    case MsgType::kBye:
      return Status::OK();
  }
  return Status::Internal("unhandled message type");
}

Result<WireMessage> DecodeWorkerMessage(const std::vector<std::string>& frames) {
  if (frames.size() != 3) {
    return Status::InvalidArgument(
        fmt::format("expected 3 frames (signature, type, body), got {}", frames.size())).WithField("message");
  }
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  if (total > kMaxMessageBytes) {
    return Status::InvalidArgument(fmt::format("message of {} bytes exceeds the limit of {} bytes", total,
                                               kMaxMessageBytes)).WithField("message");
  }
  if (frames[0] != kWorkerSignature) {
    std::string shown = frames[0].size() > 16 ? frames[0].substr(0, 16) + "..." : frames[0];
    return Status::InvalidArgument(fmt::format("expected signature \"{}\", got \"{}\" (another protocol or version)",
                                               kWorkerSignature, shown)).WithField("frame 0");
  }
  WireMessage m;
  {
    auto type = ParseMsgType(frames[1]);
    if (!type.ok()) return Status::InvalidArgument(type.status().message()).WithField("frame 1");
    m.type = *type;
  }
  auto body = ParseJson(frames[2], std::string(MsgTypeName(m.type)) + " body");
  if (!body.ok()) return body.status();
  m.body = std::move(*body);
  AVCTL_RETURN_IF_ERROR(ValidateBody(m.type, m.body));
  return m;
}

std::string EncodeControl(const Json& body) { return DumpJson(body); }

Result<Json> DecodeControl(const std::vector<std::string>& frames) {
  if (frames.size() != 2) {
    return Status::InvalidArgument(fmt::format("expected 2 frames (signature, body), got {}", frames.size()))
        .WithField("control message");
  }
  if (frames[0].size() + frames[1].size() > kMaxMessageBytes) {
    return Status::InvalidArgument(fmt::format("control message exceeds the limit of {} bytes", kMaxMessageBytes))
        .WithField("control message");
  }
  if (frames[0] != kControlSignature) {
    std::string shown = frames[0].size() > 16 ? frames[0].substr(0, 16) + "..." : frames[0];
    return Status::InvalidArgument(fmt::format("expected signature \"{}\", got \"{}\"", kControlSignature, shown))
        .WithField("frame 0");
  }
  AVCTL_ASSIGN_OR_RETURN(Json body, ParseJson(frames[1], "control body"));
  if (!body.is_object()) {
    return Status::InvalidArgument(fmt::format("expected a JSON object, got {}", DescribeJson(body)))
        .WithField("control body");
  }
  return body;
}

Json ControlOk(Json fields) {
  if (!fields.is_object()) fields = Json::object();
  fields["ok"] = true;
  return fields;
}

Json ControlError(const Status& status) { return Json{{"ok", false}, {"error", status.ToString()}}; }

const char* JobKindName(JobKind kind) {
  switch (kind) {
    case JobKind::kTrain: return "train";
    case JobKind::kSleep: return "sleep";
    case JobKind::kCommand: return "command";
  }
  return "?";
}

Result<JobKind> ParseJobKind(const std::string& name, const std::string& field) {
  if (name == "train") return JobKind::kTrain;
  if (name == "sleep") return JobKind::kSleep;
  if (name == "command") return JobKind::kCommand;
  return Status::InvalidArgument(fmt::format("expected \"train\", \"command\" or \"sleep\", got \"{}\"", name))
      .WithField(field);
}

bool IsWorkerDevice(const std::string& device) {
  if (device == "cpu" || device == "cuda") return true;
  if (device.rfind("cuda:", 0) != 0 || device.size() == 5) return false;
  return std::all_of(device.begin() + 5, device.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> EncodeJobMessage(const JobMessage& m) {
  Json head = {{"attempt_id", m.attempt_id}, {"job_key", m.job_key}, {"kind", JobKindName(m.kind)}};
  if (m.kind == JobKind::kSleep) head["sleep_seconds"] = m.sleep_seconds;
  if (m.resume) {
    head["resume"] = {{"path", m.resume->path}, {"attempt_id", m.resume->attempt_id},
                      {"epochs", m.resume->epochs}, {"batches", m.resume->batches}};
  }
  // The head's text ends with '}': the two stored objects go in before it.
  std::string body = DumpJson(head);
  body.pop_back();
  body.reserve(body.size() + m.job.size() + m.dataset.size() + 24);
  body += ",\"job\":";
  body += m.job;
  body += ",\"dataset\":";
  body += m.dataset;
  body += '}';
  return EncodeWorkerMessageRaw(MsgType::kJob, std::move(body));
}

Result<JobMessage> ReadJobMessage(const Json& body) {
  AVCTL_RETURN_IF_ERROR(ValidateBody(MsgType::kJob, body));
  JobMessage m;
  m.attempt_id = body["attempt_id"].get<int64_t>();
  m.job_key = body["job_key"].get<std::string>();
  AVCTL_ASSIGN_OR_RETURN(m.kind, ParseJobKind(body["kind"].get<std::string>(), "job.kind"));
  if (m.kind == JobKind::kSleep) {
    AVCTL_ASSIGN_OR_RETURN(m.sleep_seconds, GetNumber(body, "sleep_seconds", "job"));
  }
  m.job = body["job"].dump();
  m.dataset = body["dataset"].dump();
  if (body.contains("resume")) {
    const Json& r = body["resume"];
    ResumeHint h;
    AVCTL_ASSIGN_OR_RETURN(h.path, GetString(r, "path", "job.resume"));
    AVCTL_ASSIGN_OR_RETURN(h.attempt_id, GetInt(r, "attempt_id", "job.resume"));
    AVCTL_ASSIGN_OR_RETURN(const int64_t epochs, GetInt(r, "epochs", "job.resume"));
    AVCTL_ASSIGN_OR_RETURN(const int64_t batches, GetInt(r, "batches", "job.resume"));
    h.epochs = static_cast<int>(epochs);
    h.batches = static_cast<int>(batches);
    m.resume = std::move(h);
  }
  return m;
}

Json HelloToJson(const HelloMessage& m) {
  return {{"protocol", m.protocol}, {"worker_id", m.worker_id}, {"device", m.device}, {"slots", m.slots},
          {"hostname", m.hostname}, {"pid", m.pid}, {"gpu_name", m.gpu_name}, {"gpu_memory_mb", m.gpu_memory_mb},
          {"gpu_free_mb", m.gpu_free_mb}, {"version", m.version}, {"mode", m.mode}, {"labels", m.labels},
          {"running", m.running}, {"finished", m.finished}};
}

Result<HelloMessage> ReadHello(const Json& body) {
  AVCTL_RETURN_IF_ERROR(ValidateBody(MsgType::kHello, body));
  HelloMessage m;
  m.protocol = body["protocol"].get<int64_t>();
  m.worker_id = body["worker_id"].get<std::string>();
  m.device = body["device"].get<std::string>();
  m.slots = static_cast<int>(body["slots"].get<int64_t>());
  auto text = [&](const char* key, std::string* out) -> Status {
    if (!body.contains(key)) return Status::OK();
    AVCTL_ASSIGN_OR_RETURN(*out, GetString(body, key, "hello"));
    return Status::OK();
  };
  auto number = [&](const char* key, int64_t* out) -> Status {
    if (!body.contains(key)) return Status::OK();
    AVCTL_ASSIGN_OR_RETURN(*out, GetInt(body, key, "hello"));
    return Status::OK();
  };
  AVCTL_RETURN_IF_ERROR(text("hostname", &m.hostname));
  AVCTL_RETURN_IF_ERROR(text("gpu_name", &m.gpu_name));
  AVCTL_RETURN_IF_ERROR(text("version", &m.version));
  AVCTL_RETURN_IF_ERROR(text("mode", &m.mode));
  AVCTL_RETURN_IF_ERROR(number("pid", &m.pid));
  AVCTL_RETURN_IF_ERROR(number("gpu_memory_mb", &m.gpu_memory_mb));
  AVCTL_RETURN_IF_ERROR(number("gpu_free_mb", &m.gpu_free_mb));
  if (body.contains("labels")) {
    if (!body["labels"].is_object()) {
      return Status::InvalidArgument("expected an object, got " + DescribeJson(body["labels"])).WithField("hello.labels");
    }
    m.labels = body["labels"];
  }
  for (const auto& [key, out] : {std::pair<const char*, std::vector<int64_t>*>{"running", &m.running},
                                 std::pair<const char*, std::vector<int64_t>*>{"finished", &m.finished}}) {
    if (!body.contains(key)) continue;
    const Json& list = body[key];
    const std::string path = std::string("hello.") + key;
    if (!list.is_array()) return Status::InvalidArgument("expected an array of attempt ids").WithField(path);
    for (size_t i = 0; i < list.size(); ++i) {
      if (!list[i].is_number_integer() || list[i].get<int64_t>() <= 0) {
        return Status::InvalidArgument("expected a positive attempt id, got " + DescribeJson(list[i]))
            .WithField(JoinJsonPath(path, i));
      }
      out->push_back(list[i].get<int64_t>());
    }
  }
  return m;
}

Json WelcomeToJson(const WelcomeMessage& m) {
  return {{"protocol", m.protocol}, {"heartbeat_ms", m.heartbeat_ms}, {"liveness", m.liveness},
          {"coordinator_version", m.coordinator_version}};
}

Result<WelcomeMessage> ReadWelcome(const Json& body) {
  AVCTL_RETURN_IF_ERROR(ValidateBody(MsgType::kWelcome, body));
  WelcomeMessage m;
  m.protocol = body["protocol"].get<int64_t>();
  m.heartbeat_ms = static_cast<int>(body["heartbeat_ms"].get<int64_t>());
  m.liveness = static_cast<int>(body["liveness"].get<int64_t>());
  m.coordinator_version = body.value("coordinator_version", "");
  return m;
}

Json FailureToJson(const FailureMessage& m) {
  Json j = {{"attempt_id", m.attempt_id}, {"kind", FailureKindName(m.kind)}, {"reason", m.reason}};
  if (m.out_of_memory) j["out_of_memory"] = true;
  return j;
}

Result<FailureMessage> ReadFailure(const Json& body) {
  AVCTL_RETURN_IF_ERROR(ValidateBody(MsgType::kFailure, body));
  FailureMessage m;
  m.attempt_id = body["attempt_id"].get<int64_t>();
  AVCTL_ASSIGN_OR_RETURN(m.kind, ParseFailureKind(body["kind"].get<std::string>(), "failure.kind"));
  m.reason = body["reason"].get<std::string>();
  if (body.contains("out_of_memory")) {
    AVCTL_ASSIGN_OR_RETURN(m.out_of_memory, GetBool(body, "out_of_memory", "failure"));
  }
  return m;
}

Json AttemptRefToJson(const AttemptRef& m) { return {{"attempt_id", m.attempt_id}}; }

Json AckToJson(const AckMessage& m) {
  Json j = {{"attempt_id", m.attempt_id}};
  if (m.result_stored) j["result_stored"] = true;
  return j;
}

AckMessage ReadAck(const Json& body) {
  AckMessage m;
  m.attempt_id = body["attempt_id"].get<int64_t>();
  auto it = body.find("result_stored");
  m.result_stored = it != body.end() && it->is_boolean() && it->get<bool>();
  return m;
}

int64_t ReadAttemptId(const Json& body) { return body.at("attempt_id").get<int64_t>(); }

Json ReasonToJson(const std::string& reason) { return {{"reason", reason}}; }

Json ResultToJson(ResultMessage m) { return {{"attempt_id", m.attempt_id}, {"result", std::move(m.result)}}; }

}  // namespace avctl
