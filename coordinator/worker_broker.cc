#include "coordinator/worker_broker.h"

#include <algorithm>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/version.h"
#include "net/zmq_util.h"

namespace avctl {

namespace {

int64_t Millis(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

}  // namespace

WorkerBroker::WorkerBroker(BrokerOptions options, Record* record, CoordinatorCounters* counters, Logger* log,
                           SendFn send, const Clock* clock)
    : opt_(options), clock_(clock), record_(record), counters_(counters), log_(log), send_(std::move(send)) {}

Status WorkerBroker::Recover() {
  AVCTL_ASSIGN_OR_RETURN(auto queued, record_->QueuedJobs());
  for (const auto& j : queued) queue.Push(j);
  AVCTL_ASSIGN_OR_RETURN(auto running, record_->RunningAttempts());
  const auto deadline = clock_->Now() + std::chrono::milliseconds(opt_.restart_grace_ms);
  for (const auto& a : running) {
    orphans[a.attempt_id] = deadline;
    attempt_worker[a.attempt_id] = a.worker_id;
  }
  log_->Info("{} queued job(s), {} running attempt(s) waiting up to {} ms for their workers", queued.size(),
             running.size(), opt_.restart_grace_ms);
  if (!running.empty()) {
    AVCTL_RETURN_IF_ERROR(record_->AddEvent(
        "restart", fmt::format("coordinator restarted with {} running attempt(s)", running.size()), clock_->Unix()));
  }
  return Status::OK();
}

Status WorkerBroker::Resync() {
  AVCTL_ASSIGN_OR_RETURN(auto queued, record_->QueuedJobs());
  AVCTL_ASSIGN_OR_RETURN(auto running, record_->RunningAttempts());
  queue.Clear();
  for (const auto& j : queued) queue.Push(j);
  attempt_worker.clear();
  orphans.clear();
  for (auto& [id, w] : sessions) w.running.clear();
  const auto deadline = clock_->Now() + std::chrono::milliseconds(opt_.restart_grace_ms);
  for (const auto& a : running) {
    attempt_worker[a.attempt_id] = a.worker_id;
    auto s = sessions.find(a.worker_id);
    if (s != sessions.end()) {
      s->second.running[a.attempt_id] = a.memory_mb;
    } else {
      orphans[a.attempt_id] = deadline;
    }
  }
  return Status::OK();
}

void WorkerBroker::Enqueue(const std::vector<QueuedJob>& jobs) {
  for (const auto& j : jobs) queue.Push(j);
}

Status WorkerBroker::DrainWorker(const std::string& worker_id) {
  auto s = sessions.find(worker_id);
  if (s == sessions.end()) return Status::NotFound(fmt::format("worker {} is not connected", worker_id));
  s->second.accepting = false;
  Send(s->second, MsgType::kDrain, Json::object());
  return Status::OK();
}

std::vector<std::string> WorkerBroker::DrainSlurmJob(const std::string& slurm_job_id) {
  std::vector<std::string> drained;
  for (auto& [id, w] : sessions) {
    if (w.slurm_job_id != slurm_job_id) continue;
    w.accepting = false;
    Send(w, MsgType::kDrain, Json::object());
    drained.push_back(id);
  }
  return drained;
}

const WorkerSession* WorkerBroker::Session(const std::string& worker_id) const {
  auto it = sessions.find(worker_id);
  return it == sessions.end() ? nullptr : &it->second;
}

std::map<int64_t, Json> WorkerBroker::UnrunnableBySweep() const {
  // The fleet as it would be with every slot and all device memory free.
  std::vector<WorkerCapacity> fleet;
  const int ready = ReadyWorkers();
  for (const auto& [id, w] : sessions) {
    WorkerCapacity c;
    c.id = id;
    c.device = w.device;
    c.accepting = w.accepting;
    c.free_slots = w.slots;
    c.free_memory_mb = w.gpu_budget_mb > 0 ? w.gpu_budget_mb : -1;
    c.runs_commands = w.protocol >= kCommandJobsProtocolVersion;
    fleet.push_back(c);
  }
  // By what decides it (device, memory, kind, workers to avoid): few distinct per sweep.
  std::map<std::tuple<std::string, int64_t, bool, std::vector<std::string>>, std::string> why;
  std::map<int64_t, std::map<std::string, int64_t>> counts;
  queue.ForEach([&](const QueuedJob& j) {
    const auto key = std::make_tuple(j.resources.device, j.resources.memory_mb, j.command, j.avoid_workers);
    auto it = why.find(key);
    if (it == why.end()) it = why.emplace(key, WhyNoWorkerCanRun(j, fleet)).first;
    if (!it->second.empty()) ++counts[j.sweep_id][it->second];
    return true;
  });
  std::map<int64_t, Json> out;
  for (const auto& [sweep, reasons] : counts) {
    Json r = Json::array();
    int64_t total = 0;
    for (const auto& [reason, n] : reasons) {
      r.push_back({{"reason", reason}, {"jobs", n}});
      total += n;
    }
    out[sweep] = {{"jobs", total}, {"reasons", std::move(r)}, {"workers_ready", ready}};
  }
  return out;
}

Json WorkerBroker::Unrunnable(int64_t sweep_id) const {
  auto all = UnrunnableBySweep();
  auto it = all.find(sweep_id);
  if (it != all.end()) return it->second;
  return {{"jobs", 0}, {"reasons", Json::array()}, {"workers_ready", ReadyWorkers()}};
}

int WorkerBroker::ReadyWorkers() const {
  int ready = 0;
  for (const auto& [id, w] : sessions) ready += w.accepting ? 1 : 0;
  return ready;
}

int64_t WorkerBroker::slots_total() const {
  int64_t n = 0;
  for (const auto& [id, w] : sessions) n += w.slots;
  return n;
}

int64_t WorkerBroker::slots_busy() const {
  int64_t n = 0;
  for (const auto& [id, w] : sessions) n += static_cast<int64_t>(w.running.size());
  return n;
}

WorkerSession* WorkerBroker::SessionByIdentity(const std::string& identity) {
  auto it = by_identity.find(identity);
  if (it == by_identity.end()) return nullptr;
  auto s = sessions.find(it->second);
  return s == sessions.end() ? nullptr : &s->second;
}

void WorkerBroker::SendToIdentity(const std::string& identity, MsgType type, Json body) {
  std::vector<std::string> frames = EncodeWorkerMessage({type, std::move(body)});
  frames.insert(frames.begin(), identity);
  send_(std::move(frames));
}

void WorkerBroker::Send(WorkerSession& w, MsgType type, Json body) {
  SendToIdentity(w.identity, type, std::move(body));
  w.last_sent = clock_->Now();
}

void WorkerBroker::ForgetAttempt(int64_t attempt_id) {
  orphans.erase(attempt_id);
  auto it = attempt_worker.find(attempt_id);
  if (it == attempt_worker.end()) return;
  auto s = sessions.find(it->second);
  if (s != sessions.end()) s->second.running.erase(attempt_id);
  attempt_worker.erase(it);
}

void WorkerBroker::LoseAttempt(int64_t attempt, const std::string& reason, double now, bool never_started) {
  auto f = record_->RecordLost(attempt, reason, now, never_started);
  if (f.ok()) {
    ++counters_->lost_attempts;
    ApplyFollowup(*f);
  } else {
    log_->Error("recording attempt {} lost: {}", attempt, f.status().ToString());
  }
  ForgetAttempt(attempt);
}

void WorkerBroker::ApplyFollowup(const Followup& f) {
  if (job_ended_ && f.sweep_id != 0 &&
      (f.transition.job == JobState::kDone || f.transition.job == JobState::kFailed)) {
    job_ended_(f.sweep_id);
  }
  if (f.requeue) queue.Push(*f.requeue);
  if (f.transition.job != JobState::kQueued) queue.Erase(f.job_id);
  if (f.cancel_attempt != 0) {
    auto s = sessions.find(f.cancel_worker);
    if (s != sessions.end()) Send(s->second, MsgType::kCancel, AttemptRefToJson({f.cancel_attempt}));
    ForgetAttempt(f.cancel_attempt);
  }
}

void WorkerBroker::OnHello(const std::string& identity, const Json& body) {
  auto hello = ReadHello(body);
  if (!hello.ok()) {
    log_->Warn("a hello from {} refused: {}", PrintableIdentity(identity), hello.status().ToString());
    SendToIdentity(identity, MsgType::kRefused, ReasonToJson(hello.status().message()));
    return;
  }
  const int64_t protocol = hello->protocol;
  const std::string& id = hello->worker_id;
  if (protocol < kOldestProtocolVersion || protocol > kProtocolVersion) {
    const std::string reason = fmt::format(
        "protocol version {} is not supported: this coordinator speaks version {} and serves versions {} to {} "
        "(docs/PROTOCOL.md, Versions)",
        protocol, kProtocolVersion, kOldestProtocolVersion, kProtocolVersion);
    log_->Warn("worker {}: {}: refused", id, reason);
    SendToIdentity(identity, MsgType::kRefused, ReasonToJson(reason));
    return;
  }
  const std::string& device = hello->device;
  if (!IsWorkerDevice(device)) {
    log_->Warn("worker {} announces device \"{}\": refused", id, device);
    SendToIdentity(identity, MsgType::kRefused,
                   ReasonToJson(fmt::format("hello.device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"{}\"",
                                            device)));
    return;
  }
  const double now = clock_->Unix();
  auto existing = sessions.find(id);
  if (existing != sessions.end() && existing->second.identity != identity) {
    by_identity.erase(existing->second.identity);  // the old connection is gone
  }
  WorkerSession& w = sessions[id];
  w.id = id;
  w.identity = identity;
  w.device = device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
  w.protocol = protocol;
  w.slots = hello->slots;
  w.gpu_memory_mb = hello->gpu_memory_mb;
  w.gpu_budget_mb = GpuBudgetMb(w.gpu_memory_mb, hello->gpu_free_mb);
  w.last_heard = w.last_sent = clock_->Now();
  w.accepting = false;
  // The same daemon process (not a restart): what it does not hold, it never
  // got; a restarted one may have died of the job.
  const bool same_process = w.pid != 0 && w.pid == hello->pid;
  if (w.pid != hello->pid) {
    if (!w.held.empty()) log_->Info("worker {} restarted: no longer held", id);
    w.held.clear();
    w.streak.OnSuccess();
    w.pid = hello->pid;
  }
  w.slurm_job_id.clear();
  if (hello->labels.contains("slurm_job_id") && hello->labels["slurm_job_id"].is_string()) {
    w.slurm_job_id = hello->labels["slurm_job_id"].get<std::string>();
  }
  by_identity[identity] = id;

  const std::set<int64_t> claimed(hello->running.begin(), hello->running.end());
  const std::set<int64_t> finished(hello->finished.begin(), hello->finished.end());
  // Attempts the record gives this worker that it no longer has: lost.
  std::vector<int64_t> mine;
  for (const auto& [attempt, worker] : attempt_worker) {
    if (worker == id) mine.push_back(attempt);
  }
  for (int64_t attempt : mine) {
    if (claimed.count(attempt) || finished.count(attempt)) continue;
    LoseAttempt(attempt,
                same_process ? fmt::format("its dispatch never reached worker {} (it reconnected without it)", id)
                             : fmt::format("worker {} reconnected without it", id),
                now, same_process);
  }
  w.running.clear();
  for (int64_t attempt : claimed) {
    auto row = record_->GetAttempt(attempt);
    if (!row.ok()) {
      log_->Warn("worker {} runs attempt {} unknown to the record: cancelling it", id, attempt);
      Send(w, MsgType::kCancel, AttemptRefToJson({attempt}));
      continue;
    }
    const bool wanted = row->state == AttemptState::kRunning ||
                        (row->state == AttemptState::kLost && row->job_state != JobState::kDone &&
                         row->job_state != JobState::kCancelled);
    if (!wanted) {
      Send(w, MsgType::kCancel, AttemptRefToJson({attempt}));
      continue;
    }
    orphans.erase(attempt);
    w.running[attempt] = row->memory_mb;
    attempt_worker[attempt] = id;
  }
  for (int64_t attempt : finished) orphans.erase(attempt);

  WorkerRecord rec;
  rec.id = id;
  rec.hostname = hello->hostname;
  rec.pid = hello->pid;
  rec.device = device;
  rec.gpu_name = hello->gpu_name;
  rec.gpu_memory_mb = w.gpu_memory_mb;
  rec.slots = w.slots;
  rec.info = body;
  if (Status s = record_->UpsertWorker(rec, now); !s.ok()) log_->Error("recording worker {}: {}", id, s.ToString());
  log_->Info("worker {} connected: {} {}, {} slot(s), {} running, {} finished unacknowledged{}", id, rec.hostname,
            rec.device, w.slots, w.running.size(), finished.size(),
            protocol < kProtocolVersion ? fmt::format(" (protocol {}: served as such)", protocol) : "");
  WelcomeMessage welcome;
  welcome.heartbeat_ms = opt_.heartbeat_ms;
  welcome.liveness = opt_.liveness;
  welcome.coordinator_version = CodeVersion();
  Send(w, MsgType::kWelcome, WelcomeToJson(welcome));
}

void WorkerBroker::OnMessage(const std::vector<std::string>& frames) {
  if (frames.size() < 2) return;
  const std::string& identity = frames[0];
  auto decoded = DecodeWorkerMessage(std::vector<std::string>(frames.begin() + 1, frames.end()));
  if (!decoded.ok()) {
    ++counters_->bad_messages;
    log_->Warn("bad message from {}: {}", PrintableIdentity(identity), decoded.status().ToString());
    return;
  }
  const WireMessage& m = *decoded;
  ++counters_->messages_in[MsgTypeName(m.type)];
  if (m.type == MsgType::kHello) {
    OnHello(identity, m.body);
    return;
  }
  WorkerSession* w = SessionByIdentity(identity);
  if (w == nullptr) {
    if (m.type != MsgType::kBye) {
      SendToIdentity(identity, MsgType::kReconnect, ReasonToJson("unknown connection: send hello first"));
    }
    return;
  }
  w->last_heard = clock_->Now();
  const double now = clock_->Unix();
  switch (m.type) {
    case MsgType::kReady:
      w->accepting = !stopping && w->held.empty();
      break;
    case MsgType::kHeartbeat:
      break;
    case MsgType::kDrain:
      w->accepting = false;
      if (Status s = record_->SetWorkerState(w->id, WorkerState::kDraining, now); !s.ok()) log_->Error("{}", s.ToString());
      break;
    case MsgType::kProgress: {
      if (!paused_.empty()) break;  // not kept while the record cannot be written (progress is not resent)
      const int64_t attempt = ReadAttemptId(m.body);
      if (Status s = record_->RecordProgress(attempt, m.body, now); !s.ok()) {
        log_->Debug("progress of attempt {}: {}", attempt, s.ToString());
      }
      break;
    }
    case MsgType::kResult:
    case MsgType::kFailure: {
      const int64_t attempt = ReadAttemptId(m.body);
      if (!paused_.empty()) {
        // Not recorded, not acknowledged: the worker keeps it and sends it
        // again once the record can be written.
        ++counters_->deferred_reports;
        log_->Debug("{} of attempt {} from {} deferred: {}", MsgTypeName(m.type), attempt, w->id, paused_);
        break;
      }
      Result<Followup> f = Status::Internal("unset");
      if (m.type == MsgType::kResult) {
        ++counters_->results;
        f = record_->RecordResult(attempt, m.body.at("result"), w->id, now, w->protocol);
      } else {
        ++counters_->failures;
        auto failure = ReadFailure(m.body);  // DecodeWorkerMessage checked its fields
        if (!failure.ok()) {
          log_->Warn("failure from {}: {}", w->id, failure.status().ToString());
          break;
        }
        f = record_->RecordFailure(attempt, failure->kind, failure->reason, w->id, now, failure->out_of_memory);
      }
      if (f.ok()) {
        if (f->transition.duplicate) ++counters_->duplicate_results;
        ApplyFollowup(*f);
        if (m.type == MsgType::kResult && f->result_stored) {
          w->streak.OnSuccess();
        } else if (m.type == MsgType::kFailure) {
          NoteFailure(*w, f->job_id, m.body);
        }
        if (m.type == MsgType::kFailure || !f->transition.note.empty()) {
          log_->Info("attempt {} on {}: {}{}", attempt, w->id, MsgTypeName(m.type),
                    f->transition.note.empty() ? "" : " (" + f->transition.note + ")");
        } else {
          log_->Debug("attempt {} on {}: result stored", attempt, w->id);
        }
      } else if (f.status().code() == StatusCode::kNotFound) {
        log_->Warn("{} from worker {} for an attempt unknown to the record: {}", MsgTypeName(m.type), w->id,
                  f.status().ToString());
      } else {
        log_->Error("recording the {} of attempt {}: {}", MsgTypeName(m.type), attempt, f.status().ToString());
        break;  // not acknowledged: the worker keeps it and sends it again
      }
      ForgetAttempt(attempt);
      // result_stored: this attempt's result is the job's, so the job's
      // checkpoints may go. A stale attempt whose result was not stored
      // leaves them to the attempt that runs now.
      Send(*w, MsgType::kAck, AckToJson({attempt, f.ok() && f->result_stored}));
      break;
    }
    case MsgType::kBye: {
      log_->Info("worker {} left{}", w->id, w->running.empty() ? "" : " with attempts running");
      EndSession(w->id, WorkerState::kGone, fmt::format("worker {} left", w->id));
      return;
    }
    default:
      ++counters_->bad_messages;
      log_->Warn("worker {} sent {}, which only the coordinator sends", w->id, MsgTypeName(m.type));
  }
}

void WorkerBroker::NoteFailure(WorkerSession& w, int64_t job_id, const Json& failure_body) {
  auto failure = ReadFailure(failure_body);
  if (!failure.ok() || failure->out_of_memory) return;  // too large a job is not a broken node
  if (failure->kind != FailureKind::kCrash && failure->kind != FailureKind::kWorker) return;
  if (!w.streak.OnFailure(job_id, failure->reason) || !w.held.empty()) return;
  // The last worker still taking jobs is never held: when every node fails
  // alike the program is at fault, and its jobs end with their reasons.
  const bool another = std::any_of(sessions.begin(), sessions.end(), [&](const auto& s) {
    return s.first != w.id && s.second.accepting;
  });
  if (!another) return;
  w.held = w.streak.Why();
  w.accepting = false;
  const double now = clock_->Unix();
  log_->Warn("worker {} is held (fed no more jobs until its daemon restarts): {}", w.id, w.held);
  if (Status s = record_->SetWorkerState(w.id, WorkerState::kDraining, now); !s.ok()) log_->Error("{}", s.ToString());
  if (Status s = record_->AddEvent("worker_held", fmt::format("worker {} held: {}", w.id, w.held), now); !s.ok()) {
    log_->Error("{}", s.ToString());
  }
}

void WorkerBroker::DeclareDead(const std::string& worker_id, const std::string& reason) {
  EndSession(worker_id, WorkerState::kLost, reason);
}

void WorkerBroker::EndSession(const std::string& worker_id, WorkerState state, const std::string& reason) {
  auto it = sessions.find(worker_id);
  if (it == sessions.end()) return;
  const double now = clock_->Unix();
  std::vector<int64_t> attempts;
  for (const auto& [a, mem] : it->second.running) attempts.push_back(a);
  for (int64_t a : attempts) {
    LoseAttempt(a, reason, now);
  }
  if (Status s = record_->SetWorkerState(worker_id, state, now); !s.ok()) log_->Error("{}", s.ToString());
  by_identity.erase(it->second.identity);
  sessions.erase(it);
}

void WorkerBroker::Schedule() {
  if (stopping || !paused_.empty() || queue.empty()) return;
  std::vector<WorkerCapacity> caps;
  for (const auto& [id, w] : sessions) {
    WorkerCapacity c;
    c.id = id;
    c.device = w.device;
    c.accepting = w.accepting;
    c.runs_commands = w.protocol >= kCommandJobsProtocolVersion;
    c.free_slots = w.slots - static_cast<int>(w.running.size());
    if (w.gpu_budget_mb > 0) {
      int64_t used = 0;
      for (const auto& [a, mem] : w.running) used += mem;
      c.free_memory_mb = w.gpu_budget_mb - used;
    } else {
      c.free_memory_mb = -1;
    }
    caps.push_back(c);
  }
  const double now = clock_->Unix();
  for (const Assignment& a : avctl::Schedule(queue, caps)) {
    const QueuedJob* queued = queue.Find(a.job_id);
    const int64_t memory_mb = queued != nullptr ? queued->resources.memory_mb : 0;
    queue.Erase(a.job_id);
    auto d = record_->Dispatch(a.job_id, a.worker_id, now);
    if (!d.ok()) {
      log_->Error("dispatching job {}: {}", a.job_id, d.status().ToString());
      continue;
    }
    WorkerSession& w = sessions.at(a.worker_id);
    w.running[d->attempt_id] = memory_mb;
    attempt_worker[d->attempt_id] = a.worker_id;
    ++counters_->dispatched;
    JobMessage job;
    job.attempt_id = d->attempt_id;
    job.job_key = d->job_key;
    job.kind = d->kind;
    job.sleep_seconds = d->sleep_seconds;
    job.job = std::move(d->job_raw);
    job.dataset = std::move(d->dataset_raw);
    job.resume = std::move(d->resume);
    std::vector<std::string> frames = EncodeJobMessage(job);
    frames.insert(frames.begin(), w.identity);
    send_(std::move(frames));
    w.last_sent = clock_->Now();
    log_->Debug("attempt {} ({}) -> {}", d->attempt_id, d->job_key, a.worker_id);
  }
}

void WorkerBroker::Tick() {
  const auto now = clock_->Now();
  const auto silence = std::chrono::milliseconds(static_cast<int64_t>(opt_.heartbeat_ms) * opt_.liveness);
  std::vector<std::string> dead;
  for (auto& [id, w] : sessions) {
    if (now - w.last_heard > silence) {
      dead.push_back(id);
    } else if (now - w.last_sent >= std::chrono::milliseconds(opt_.heartbeat_ms)) {
      Send(w, MsgType::kHeartbeat, Json::object());
    }
  }
  for (const auto& id : dead) {
    const int64_t ms = Millis(now - sessions.at(id).last_heard);
    log_->Warn("worker {} silent for {} ms: declared dead, its attempts requeued", id, ms);
    ++counters_->workers_lost;
    DeclareDead(id, fmt::format("worker {} silent for {} ms", id, ms));
  }
  // workers.last_seen, for every connected worker at once, every
  // last_seen_ms: inside this round's one commit, so a thousand workers'
  // heartbeats cost no commit of their own.
  if (paused_.empty() && now - last_seen_written_ >= std::chrono::milliseconds(opt_.last_seen_ms)) {
    last_seen_written_ = now;
    const double unix_now = clock_->Unix();
    for (const auto& [id, w] : sessions) {
      const double heard = unix_now - std::chrono::duration<double>(now - w.last_heard).count();
      if (Status st = record_->TouchWorker(id, heard); !st.ok()) log_->Error("workers.last_seen of {}: {}", id, st.ToString());
    }
  }
  std::vector<int64_t> expired;
  for (const auto& [attempt, deadline] : orphans) {
    if (now >= deadline) expired.push_back(attempt);
  }
  for (int64_t attempt : expired) {
    LoseAttempt(attempt, "its worker did not come back within the restart grace period", clock_->Unix());
  }
}

}  // namespace avctl
