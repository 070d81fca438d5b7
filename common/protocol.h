// The wire protocol between the coordinator, its worker daemons and avctl
// (docs/PROTOCOL.md is the reference). Pure code: framing and validation of
// messages, no sockets.
//
// Worker channel (coordinator ROUTER <-> worker DEALER), three frames after
// the ROUTER's identity frame:
//   [signature "AVCTL-W1"] [message type, e.g. "hello"] [JSON object body]
// Control channel (coordinator ROUTER <-> avctl REQ), after identity and the
// empty delimiter:
//   [signature "AVCTL-C1"] [JSON object: {"op": ..., ...} or the reply]
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

inline constexpr const char* kWorkerSignature = "AVCTL-W1";
inline constexpr const char* kControlSignature = "AVCTL-C1";
// The version this build speaks, checked at hello. The coordinator also
// serves workers of every version from kOldestProtocolVersion on (what each
// changed: docs/PROTOCOL.md, "Versions") and refuses any other, naming both.
// 2: a result's compute_seconds became required.
// 3: jobs may be of kind "command" (a researcher's program, docs/JOBS.md),
//    whose dataset is null; only workers of version 3 on are sent them.
inline constexpr int kProtocolVersion = 3;
inline constexpr int kOldestProtocolVersion = 1;
inline constexpr int kCommandJobsProtocolVersion = 3;
// Largest message accepted (all frames together); also set as ZMQ_MAXMSGSIZE.
inline constexpr size_t kMaxMessageBytes = size_t{16} << 20;

enum class MsgType {
  kHello,      // W->C: identity, protocol version, device, slots, running and unacknowledged attempts
  kWelcome,    // C->W: accepted; heartbeat interval and liveness
  kRefused,    // C->W: not accepted (protocol version, bad hello); the worker exits
  kReady,      // W->C: accepting jobs (after welcome, or after a drain is lifted)
  kJob,        // C->W: run this attempt
  kProgress,   // W->C: an epoch finished
  kResult,     // W->C: an attempt's result (kept by the worker until acked)
  kFailure,    // W->C: an attempt failed; kind "job" (not retried), "crash" or "worker" (retried)
  kAck,        // C->W: result or failure of an attempt recorded; the worker may forget it
  kHeartbeat,  // both ways
  kCancel,     // C->W: kill this attempt's process
  kDrain,      // C->W: finish running attempts, take no more, then exit; W->C: I am draining
  kReconnect,  // C->W: I do not know you (e.g. I restarted and you were declared dead): hello again
  kBye,        // W->C: leaving now
};

const char* MsgTypeName(MsgType type);
// NotFound naming the unknown type.
Result<MsgType> ParseMsgType(const std::string& name);

struct WireMessage {
  MsgType type = MsgType::kHeartbeat;
  Json body = Json::object();
};

// How a failed attempt failed, which decides whether it is retried.
enum class FailureKind {
  kJob,     // the job itself is bad (invalid config, NaN loss): retrying gives the same
  kCrash,   // the job's process died (signal, OOM kill) or the worker was lost
  kWorker,  // this worker cannot run it (store missing here, no CUDA): try another
  kPreempted,  // stopped on request (SIGTERM: Slurm, spot reclaim) after a checkpoint: requeued at once,
               // not counted against max_attempts
};
const char* FailureKindName(FailureKind kind);
Result<FailureKind> ParseFailureKind(const std::string& name, const std::string& field);

// What a worker does with a job: train a built-in model, run a
// researcher's program (docs/JOBS.md), or (benchmarks of the scheduling
// overhead) sleep and train nothing.
enum class JobKind { kTrain, kSleep, kCommand };
const char* JobKindName(JobKind kind);  // "train", "sleep", "command"
Result<JobKind> ParseJobKind(const std::string& name, const std::string& field);

// A hello's device: "cpu", "cuda" or "cuda:N" (anything else is refused).
bool IsWorkerDevice(const std::string& device);

// The body of a "hello" (W->C); docs/PROTOCOL.md lists its fields.
struct HelloMessage {
  int64_t protocol = kProtocolVersion;
  std::string worker_id;
  std::string device;  // "cpu", "cuda" or "cuda:N" (IsWorkerDevice)
  int slots = 1;
  std::string hostname, gpu_name, version, mode;
  int64_t pid = 0;
  int64_t gpu_memory_mb = 0;  // total
  int64_t gpu_free_mb = 0;    // free when the daemon started
  Json labels = Json::object();
  std::vector<int64_t> running;   // attempts still running on the worker
  std::vector<int64_t> finished;  // attempts whose report awaits an ack
};
Json HelloToJson(const HelloMessage& m);
// From a decoded hello body; optional fields of the wrong type are errors naming them.
Result<HelloMessage> ReadHello(const Json& body);

// The body of a "welcome" (C->W).
struct WelcomeMessage {
  int64_t protocol = kProtocolVersion;
  int heartbeat_ms = 1000;
  int liveness = 3;
  std::string coordinator_version;
};
Json WelcomeToJson(const WelcomeMessage& m);
Result<WelcomeMessage> ReadWelcome(const Json& body);

// The body of a "failure" (W->C).
struct FailureMessage {
  int64_t attempt_id = 0;
  FailureKind kind = FailureKind::kCrash;
  std::string reason;
  bool out_of_memory = false;  // the device ran out of memory: retried once on another worker
};
Json FailureToJson(const FailureMessage& m);
Result<FailureMessage> ReadFailure(const Json& body);

// The body of "ack" and "cancel" (C->W): one attempt.
struct AttemptRef {
  int64_t attempt_id = 0;
};
Json AttemptRefToJson(const AttemptRef& m);

// ack: the attempt's report is durable. `result_stored` (optional, false when
// absent): the report was a result and it is now the job's stored result,
// so the job's checkpoints may be removed (docs/PROTOCOL.md, Checkpoints).
struct AckMessage {
  int64_t attempt_id = 0;
  bool result_stored = false;
};
Json AckToJson(const AckMessage& m);
AckMessage ReadAck(const Json& body);  // REQUIRES: DecodeWorkerMessage accepted it
int64_t ReadAttemptId(const Json& body);  // of a decoded ack, cancel, progress, result or failure

// The body of "refused" and "reconnect" (C->W).
Json ReasonToJson(const std::string& reason);

// The body of a "result" (W->C): the result itself is common/job_result.h's.
// The coordinator reads it in place (ReadAttemptId, body["result"]) rather
// than copying a result of several hundred kB into a struct.
struct ResultMessage {
  int64_t attempt_id = 0;
  Json result = Json::object();
};
Json ResultToJson(ResultMessage m);

// The body of a "job" message (C->W).
// Where a job's last checkpoint is, as the attempts before this one reported it.
struct ResumeHint {
  std::string path;
  int64_t attempt_id = 0;  // the attempt that wrote it
  int epochs = 0, batches = 0;
};

struct JobMessage {
  int64_t attempt_id = 0;
  std::string job_key;
  JobKind kind = JobKind::kTrain;
  double sleep_seconds = 0;  // kind sleep only
  // JSON object texts as the record stores them, passed on without being
  // parsed again per dispatch: the job for `avworker train` (its "key" is
  // job_key) and the sweep's dataset ({"store": DIR} or {"synth": {...}}).
  std::string job, dataset;
  std::optional<ResumeHint> resume;  // train jobs whose earlier attempts left a checkpoint
};
// Worker-channel frames (signature, type, body) of a job message.
std::vector<std::string> EncodeJobMessage(const JobMessage& m);
// From the body of a decoded job message (DecodeWorkerMessage checked its fields).
Result<JobMessage> ReadJobMessage(const Json& body);

// Frames of a worker-channel message: signature, type, compact JSON body.
std::vector<std::string> EncodeWorkerMessage(const WireMessage& message);
// The same with a body already serialised as a JSON object (the caller
// vouches for it: the coordinator's job messages carry stored JSON as is).
std::vector<std::string> EncodeWorkerMessageRaw(MsgType type, std::string body_json);
// Decodes the frames after the identity (ROUTER side) or all frames (DEALER
// side): checks the count, signature, size, type and JSON, then the body's
// required fields (ValidateBody). Errors name the frame or field at fault.
Result<WireMessage> DecodeWorkerMessage(const std::vector<std::string>& frames);
// The required fields and their types per message type; errors are
// "<type>.<field>: expected ...".
Status ValidateBody(MsgType type, const Json& body);

// Control channel: one frame after the delimiter.
std::string EncodeControl(const Json& body);
Result<Json> DecodeControl(const std::vector<std::string>& frames);
// Replies: {"ok": true, ...fields} or {"ok": false, "error": message}.
Json ControlOk(Json fields = Json::object());
Json ControlError(const Status& status);

}  // namespace avctl
