#include "coordinator/coordinator.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <optional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <fmt/format.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "common/version.h"
#include "coordinator/http_server.h"
#include "coordinator/status_page.h"
#include "net/curve.h"
#include "net/zap_handler.h"
#include "net/zmq_util.h"
#include "web/report_analysis.h"
#include "web/report_loader.h"
#include "web/report_render.h"

namespace avctl {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

namespace {

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

int64_t Millis(Clock::duration d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

struct WorkerSession {
  std::string id;
  std::string identity;  // the ROUTER routing id of its current connection
  std::string device;
  int slots = 1;
  int64_t gpu_memory_mb = 0;
  int64_t gpu_budget_mb = 0;  // what its jobs may use: GpuBudgetMb(total, free at the daemon's start)
  Clock::time_point last_heard, last_sent;
  bool accepting = false;               // after "ready", until "drain"
  std::string slurm_job_id;             // from hello.labels, when Slurm started it
  std::map<int64_t, int64_t> running;   // attempt id -> declared memory
};

// Splits "/api/sweeps/3/jobs?state=done" into path segments and the query.
struct Target {
  std::vector<std::string> parts;
  std::map<std::string, std::string> query;
};

Target ParseTarget(const std::string& target) {
  Target t;
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) t.parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (q != std::string::npos) {
    const std::string query = target.substr(q + 1);
    size_t s = 0;
    while (s < query.size()) {
      size_t e = query.find('&', s);
      if (e == std::string::npos) e = query.size();
      const std::string kv = query.substr(s, e - s);
      const size_t eq = kv.find('=');
      t.query[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
      s = e + 1;
    }
  }
  return t;
}

}  // namespace

struct Coordinator::Impl {
  Impl(CoordinatorOptions o, Logger* l)
      : opt(std::move(o)), log(l), zctx(1), tick(io), signals(io, SIGTERM, SIGINT), reload(io, SIGHUP),
        started(Clock::now()) {}

  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  Status Run();
  Status LockRecord();
  Status Bind();
  Status Recover();
  void Arm(asio::posix::stream_descriptor& fd);
  void ArmZap(asio::posix::stream_descriptor& fd);
  void WaitReload();
  void ProcessSockets();
  void OnWorkerMessage(const std::vector<std::string>& frames);
  void OnControlMessage(const std::vector<std::string>& frames);
  // The control API: a table of operations; `read_only` ones answer before
  // the round commits, the others after (docs/PROTOCOL.md, Control channel).
  struct ControlOp {
    const char* name;
    bool read_only;
    std::function<Result<Json>(Impl&, const Json&)> run;
  };
  static const std::vector<ControlOp>& ControlOps();
  static const ControlOp* FindOp(const std::string& name);
  // A request's reply fields, or the error to answer with.
  Result<Json> Control(const Json& req);
  Result<Json> Submit(const Json& req);
  Result<int64_t> SweepOf(const Json& req);
  void OnHello(const std::string& identity, const Json& body);
  void OnTick();
  void TickRound();
  void ScheduleJobs();
  void Send(WorkerSession& w, MsgType type, Json body);
  void SendToIdentity(const std::string& identity, MsgType type, Json body);
  void ApplyFollowup(const Followup& f);
  void ForgetAttempt(int64_t attempt_id);
  // Records the attempt lost (its job requeued or given up) and forgets it.
  void LoseAttempt(int64_t attempt, const std::string& reason, double now);
  void DeclareDead(const std::string& worker_id, const std::string& reason);
  // Forgets a worker's session: its running attempts are lost (requeued),
  // and the record shows it `state` (lost: silent or replaced; gone: said bye).
  void EndSession(const std::string& worker_id, WorkerState state, const std::string& reason);
  HttpResponse HandleHttp(const std::string& target);
  void Stop();
  // Runs f as one round: one transaction, then the outbox.
  template <typename F>
  void Round(F f);
  void SendOrQueue(zmq::socket_t* socket, std::vector<std::string> frames, const std::string& what);
  void LogSendFailure(const std::vector<std::string>& frames, const Status& st);
  WorkerSession* SessionByIdentity(const std::string& identity);
  Status WriteEndpoints();

  CoordinatorOptions opt;
  Logger* log;
  asio::io_context io;
  zmq::context_t zctx;
  std::optional<zmq::socket_t> workers, control;
  std::optional<asio::posix::stream_descriptor> workers_fd, control_fd;
  asio::steady_timer tick;
  asio::signal_set signals;
  asio::signal_set reload;                           // SIGHUP: reload the allowlist
  std::optional<CurveKeyPair> server_keys;           // set: CURVE on both sockets
  std::unique_ptr<ZapHandler> zap;
  std::vector<std::unique_ptr<asio::posix::stream_descriptor>> zap_fds;
  std::unique_ptr<Record> store;
  std::unique_ptr<HttpServer> http;
  ReadyQueue queue;
  std::map<std::string, WorkerSession> sessions;    // by worker id
  std::map<std::string, std::string> by_identity;   // routing id -> worker id
  std::map<int64_t, Clock::time_point> orphans;     // running attempts waiting for their worker after a restart
  std::map<int64_t, std::string> attempt_worker;    // running attempt -> worker id
  CoordinatorCounters counters;
  Clock::time_point started;
  bool stopping = false;
  // Group commit: the state changes of one round of messages are committed
  // together, and what they send (acks, jobs, replies) goes out only after
  // the commit, so nothing is acknowledged before it is durable.
  std::optional<Transaction> batch;
  std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>> outbox;
  Status fatal;
  int lock_fd = -1;
  std::string worker_bound, control_bound;
};

Status Coordinator::Impl::LockRecord() {
  const std::string lock_path = opt.db_path + ".lock";
  lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Status::FromErrno("cannot open the record's lock file", errno).WithFile(lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    std::string holder(64, '\0');
    ssize_t n = ::pread(lock_fd, holder.data(), holder.size(), 0);
    holder.resize(n > 0 ? static_cast<size_t>(n) : 0);
    return Status::FailedPrecondition(fmt::format(
        "another avcoord is running on this record (lock {} held{}); stop it or use another --db", lock_path,
        holder.empty() ? "" : ", by pid " + holder)).WithFile(opt.db_path);
  }
  const std::string pid = std::to_string(::getpid());
  if (::ftruncate(lock_fd, 0) == 0) {
    ssize_t ignored = ::pwrite(lock_fd, pid.data(), pid.size(), 0);
    (void)ignored;
  }
  return Status::OK();
}

Status CheckExposure(const CoordinatorOptions& o) {
  if (!o.curve_secret_file.empty() && o.allowlist_file.empty()) {
    return Status::InvalidArgument("--curve-secret needs --allow FILE: the public keys admitted").WithField("--allow");
  }
  if (o.curve_secret_file.empty() && !o.allowlist_file.empty()) {
    return Status::InvalidArgument("--allow needs --curve-secret FILE: the coordinator's own key pair")
        .WithField("--curve-secret");
  }
  if (o.insecure) return Status::OK();
  if (o.curve_secret_file.empty()) {
    for (const auto& [field, ep] : {std::pair<const char*, std::string>{"--workers", o.worker_endpoint},
                                    std::pair<const char*, std::string>{"--control", o.control_endpoint}}) {
      if (!IsLoopbackEndpoint(ep)) {
        return Status::InvalidArgument(fmt::format(
                   "{} binds beyond this machine without authentication: give --curve-secret and --allow "
                   "(avctl keys gen; docs/PROTOCOL.md, Authentication), or --insecure on a trusted network",
                   ep))
            .WithField(field);
      }
    }
  }
  if (o.http_port >= 0 && !IsLoopbackHost(o.http_address)) {
    return Status::InvalidArgument(fmt::format(
               "the HTTP status page has no authentication and {} is reachable from other machines: keep it on "
               "127.0.0.1 (use an SSH tunnel) or give --insecure",
               o.http_address))
        .WithField("--http-address");
  }
  return Status::OK();
}

Status Coordinator::Impl::Bind() {
  if (!opt.curve_secret_file.empty()) {
    AVCTL_ASSIGN_OR_RETURN(CurveKeyPair keys, ReadCurveKeyFile(opt.curve_secret_file, true));
    AVCTL_ASSIGN_OR_RETURN(auto allow, ReadCurveAllowlist(opt.allowlist_file));
    server_keys = keys;
    zap = std::make_unique<ZapHandler>(zctx, std::move(allow), log);
    log->Info("CURVE on: coordinator key {}, {} client key(s) allowed by {}", keys.public_key, zap->allowed(),
              opt.allowlist_file);
  }
  try {
    workers.emplace(zctx, zmq::socket_type::router);
    ConfigureSocket(*workers, 1000);
    workers->set(zmq::sockopt::router_mandatory, 1);  // sending to a vanished worker is an error, not a silent drop
    if (server_keys) {
      MakeCurveServer(*workers, *server_keys);
      zap->Monitor(*workers, "workers");
    }
    workers->bind(opt.worker_endpoint);
    worker_bound = LastEndpoint(*workers);
    control.emplace(zctx, zmq::socket_type::router);
    ConfigureSocket(*control, 1000);
    if (server_keys) {
      MakeCurveServer(*control, *server_keys);
      zap->Monitor(*control, "control");
    }
    control->bind(opt.control_endpoint);
    control_bound = LastEndpoint(*control);
  } catch (const zmq::error_t& e) {
    return Status::IOError(fmt::format("cannot bind {} / {}: {}", opt.worker_endpoint, opt.control_endpoint,
                                       e.what()));
  }
  workers_fd.emplace(io, ::dup(workers->get(zmq::sockopt::fd)));
  control_fd.emplace(io, ::dup(control->get(zmq::sockopt::fd)));
  if (zap) {
    for (int fd : zap->fds()) zap_fds.push_back(std::make_unique<asio::posix::stream_descriptor>(io, ::dup(fd)));
  }
  if (opt.http_port >= 0) {
    auto server = HttpServer::Start(io, opt.http_address, opt.http_port,
                                    [this](const std::string& t) { return HandleHttp(t); }, log);
    if (!server.ok()) return server.status();
    http = std::move(*server);
  }
  return Status::OK();
}

Status Coordinator::Impl::WriteEndpoints() {
  if (opt.endpoints_file.empty()) return Status::OK();
  Json j = {{"workers", worker_bound}, {"control", control_bound}, {"pid", ::getpid()}, {"db", opt.db_path}};
  if (http) j["http"] = fmt::format("http://{}:{}", opt.http_address, http->port());
  return WriteJsonFileAtomic(opt.endpoints_file, j);
}

Status Coordinator::Impl::Recover() {
  AVCTL_ASSIGN_OR_RETURN(auto queued, store->QueuedJobs());
  for (const auto& j : queued) queue.Push(j);
  AVCTL_ASSIGN_OR_RETURN(auto running, store->RunningAttempts());
  const auto deadline = Clock::now() + std::chrono::milliseconds(opt.restart_grace_ms);
  for (const auto& a : running) {
    orphans[a.attempt_id] = deadline;
    attempt_worker[a.attempt_id] = a.worker_id;
  }
  log->Info("record {}: {} queued job(s), {} running attempt(s) waiting up to {} ms for their workers", opt.db_path,
            queued.size(), running.size(), opt.restart_grace_ms);
  if (!running.empty()) {
    AVCTL_RETURN_IF_ERROR(store->AddEvent("restart", fmt::format("coordinator restarted with {} running attempt(s)",
                                                                 running.size()), WallNow()));
  }
  return Status::OK();
}

template <typename F>
void Coordinator::Impl::Round(F f) {
  if (stopping) return;
  auto tx = Transaction::Begin(store->db());
  if (!tx.ok()) {
    fatal = tx.status();
    log->Error("cannot begin a transaction on the record: {}", fatal.ToString());
    Stop();
    return;
  }
  batch.emplace(std::move(*tx));
  f();
  Status committed = batch->Commit();
  batch.reset();
  if (!committed.ok()) {
    // Fail-stop: nothing of this round was acknowledged; workers resend, and
    // the next start recovers from the record.
    fatal = committed;
    outbox.clear();
    log->Error("cannot commit to the record, stopping: {}", committed.ToString());
    Stop();
    return;
  }
  std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>> out;
  out.swap(outbox);
  for (auto& [socket, frames] : out) {
    if (Status st = SendFrames(*socket, frames); !st.ok()) LogSendFailure(frames, st);
  }
}

void Coordinator::Impl::SendOrQueue(zmq::socket_t* socket, std::vector<std::string> frames, const std::string& what) {
  if (batch) {
    outbox.emplace_back(socket, std::move(frames));
    return;
  }
  if (Status st = SendFrames(*socket, frames); !st.ok()) LogSendFailure(frames, st);
  (void)what;
}

void Coordinator::Impl::LogSendFailure(const std::vector<std::string>& frames, const Status& st) {
  // A vanished connection refuses every heartbeat until liveness declares
  // the worker dead: those are not worth a warning each.
  const std::string type = frames.size() > 2 && frames[1] == kWorkerSignature ? frames[2] : "control reply";
  if (type == "heartbeat") {
    log->Debug("sending heartbeat to {}: {}", PrintableIdentity(frames[0]), st.ToString());
  } else {
    log->Warn("sending {} to {}: {}", type, PrintableIdentity(frames[0]), st.ToString());
  }
}

void Coordinator::Impl::Arm(asio::posix::stream_descriptor& fd) {
  fd.async_wait(asio::posix::stream_descriptor::wait_read, [this, &fd](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    Round([this] {
      ProcessSockets();
      ScheduleJobs();
    });
    if (!stopping) Arm(fd);
  });
}

void Coordinator::Impl::ArmZap(asio::posix::stream_descriptor& fd) {
  fd.async_wait(asio::posix::stream_descriptor::wait_read, [this, &fd](const boost::system::error_code& ec) {
    if (ec || stopping) return;
    zap->Process();  // no record change: outside the rounds
    ArmZap(fd);
  });
}

void Coordinator::Impl::WaitReload() {
  reload.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec || stopping) return;
    if (zap) {
      auto allow = ReadCurveAllowlist(opt.allowlist_file);
      if (allow.ok()) {
        zap->SetAllowlist(std::move(*allow));
        log->Info("SIGHUP: allowlist reloaded: {} client key(s)", zap->allowed());
      } else {
        log->Error("SIGHUP: keeping the previous allowlist ({} key(s)): {}", zap->allowed(), allow.status().ToString());
      }
    } else {
      log->Info("SIGHUP: no allowlist to reload (CURVE is off)");
    }
    WaitReload();
  });
}

void Coordinator::Impl::ProcessSockets() {
  // ZMQ_FD is edge-triggered: drain both sockets until neither has input.
  for (int round = 0; round < 2000 && !stopping; ++round) {
    bool any = false;
    if (workers->get(zmq::sockopt::events) & ZMQ_POLLIN) {
      if (auto frames = RecvFrames(*workers, false)) {
        OnWorkerMessage(*frames);
        any = true;
      }
    }
    if (control->get(zmq::sockopt::events) & ZMQ_POLLIN) {
      if (auto frames = RecvFrames(*control, false)) {
        OnControlMessage(*frames);
        any = true;
      }
    }
    if (!any) return;
  }
  asio::post(io, [this] {  // a flood: commit, yield to timers and HTTP, then go on
    Round([this] {
      ProcessSockets();
      ScheduleJobs();
    });
  });
}

WorkerSession* Coordinator::Impl::SessionByIdentity(const std::string& identity) {
  auto it = by_identity.find(identity);
  if (it == by_identity.end()) return nullptr;
  auto s = sessions.find(it->second);
  return s == sessions.end() ? nullptr : &s->second;
}

void Coordinator::Impl::SendToIdentity(const std::string& identity, MsgType type, Json body) {
  std::vector<std::string> frames = EncodeWorkerMessage({type, std::move(body)});
  frames.insert(frames.begin(), identity);
  SendOrQueue(&*workers, std::move(frames), MsgTypeName(type));
}

void Coordinator::Impl::Send(WorkerSession& w, MsgType type, Json body) {
  SendToIdentity(w.identity, type, std::move(body));
  w.last_sent = Clock::now();
}

void Coordinator::Impl::ForgetAttempt(int64_t attempt_id) {
  orphans.erase(attempt_id);
  auto it = attempt_worker.find(attempt_id);
  if (it == attempt_worker.end()) return;
  auto s = sessions.find(it->second);
  if (s != sessions.end()) s->second.running.erase(attempt_id);
  attempt_worker.erase(it);
}

void Coordinator::Impl::LoseAttempt(int64_t attempt, const std::string& reason, double now) {
  auto f = store->RecordLost(attempt, reason, now);
  if (f.ok()) {
    ++counters.lost_attempts;
    ApplyFollowup(*f);
  } else {
    log->Error("recording attempt {} lost: {}", attempt, f.status().ToString());
  }
  ForgetAttempt(attempt);
}

void Coordinator::Impl::ApplyFollowup(const Followup& f) {
  if (f.requeue) queue.Push(*f.requeue);
  if (f.transition.job != JobState::kQueued) queue.Erase(f.job_id);
  if (f.cancel_attempt != 0) {
    auto s = sessions.find(f.cancel_worker);
    if (s != sessions.end()) Send(s->second, MsgType::kCancel, {{"attempt_id", f.cancel_attempt}});
    ForgetAttempt(f.cancel_attempt);
  }
}

void Coordinator::Impl::OnHello(const std::string& identity, const Json& body) {
  const int64_t protocol = body["protocol"].get<int64_t>();
  const std::string id = body["worker_id"].get<std::string>();
  if (protocol != kProtocolVersion) {
    log->Warn("worker {} speaks protocol {}, this coordinator {}: refused", id, protocol, kProtocolVersion);
    SendToIdentity(identity, MsgType::kRefused,
                   {{"reason", fmt::format("protocol version {} is not supported (this coordinator speaks {})",
                                           protocol, kProtocolVersion)}});
    return;
  }
  const std::string device = body["device"].get<std::string>();
  if (!IsWorkerDevice(device)) {
    log->Warn("worker {} announces device \"{}\": refused", id, device);
    SendToIdentity(identity, MsgType::kRefused,
                   {{"reason", fmt::format("hello.device: expected \"cpu\", \"cuda\" or \"cuda:N\", got \"{}\"",
                                           device)}});
    return;
  }
  const double now = WallNow();
  auto existing = sessions.find(id);
  if (existing != sessions.end() && existing->second.identity != identity) {
    by_identity.erase(existing->second.identity);  // the old connection is gone
  }
  WorkerSession& w = sessions[id];
  w.id = id;
  w.identity = identity;
  w.device = device.rfind("cuda", 0) == 0 ? "cuda" : "cpu";
  w.slots = static_cast<int>(body["slots"].get<int64_t>());
  w.gpu_memory_mb = body.value("gpu_memory_mb", int64_t{0});
  w.gpu_budget_mb = GpuBudgetMb(w.gpu_memory_mb, body.value("gpu_free_mb", int64_t{0}));
  w.last_heard = w.last_sent = Clock::now();
  w.accepting = false;
  w.slurm_job_id.clear();
  if (body.contains("labels") && body["labels"].is_object() && body["labels"].contains("slurm_job_id") &&
      body["labels"]["slurm_job_id"].is_string()) {
    w.slurm_job_id = body["labels"]["slurm_job_id"].get<std::string>();
  }
  by_identity[identity] = id;

  std::set<int64_t> claimed;
  for (const auto& a : body.value("running", Json::array())) claimed.insert(a.get<int64_t>());
  std::set<int64_t> finished;
  for (const auto& a : body.value("finished", Json::array())) {
    if (a.is_number_integer()) finished.insert(a.get<int64_t>());
  }
  // Attempts the record gives this worker that it no longer has: lost.
  std::vector<int64_t> mine;
  for (const auto& [attempt, worker] : attempt_worker) {
    if (worker == id) mine.push_back(attempt);
  }
  for (int64_t attempt : mine) {
    if (claimed.count(attempt) || finished.count(attempt)) continue;
    LoseAttempt(attempt, fmt::format("worker {} reconnected without it", id), now);
  }
  w.running.clear();
  for (int64_t attempt : claimed) {
    auto row = store->GetAttempt(attempt);
    if (!row.ok()) {
      log->Warn("worker {} runs attempt {} unknown to the record: cancelling it", id, attempt);
      Send(w, MsgType::kCancel, {{"attempt_id", attempt}});
      continue;
    }
    const bool wanted = row->state == AttemptState::kRunning ||
                        (row->state == AttemptState::kLost && row->job_state != JobState::kDone &&
                         row->job_state != JobState::kCancelled);
    if (!wanted) {
      Send(w, MsgType::kCancel, {{"attempt_id", attempt}});
      continue;
    }
    orphans.erase(attempt);
    w.running[attempt] = row->memory_mb;
    attempt_worker[attempt] = id;
  }
  for (int64_t attempt : finished) orphans.erase(attempt);

  WorkerRecord rec;
  rec.id = id;
  rec.hostname = body.value("hostname", "");
  rec.pid = body.value("pid", int64_t{0});
  rec.device = device;
  rec.gpu_name = body.value("gpu_name", "");
  rec.gpu_memory_mb = w.gpu_memory_mb;
  rec.slots = w.slots;
  rec.info = body;
  if (Status s = store->UpsertWorker(rec, now); !s.ok()) log->Error("recording worker {}: {}", id, s.ToString());
  log->Info("worker {} connected: {} {}, {} slot(s), {} running, {} finished unacknowledged", id, rec.hostname,
            rec.device, w.slots, w.running.size(), finished.size());
  Send(w, MsgType::kWelcome, {{"protocol", kProtocolVersion}, {"heartbeat_ms", opt.heartbeat_ms},
                              {"liveness", opt.liveness}, {"coordinator_version", CodeVersion()}});
}

void Coordinator::Impl::OnWorkerMessage(const std::vector<std::string>& frames) {
  if (frames.size() < 2) return;
  const std::string& identity = frames[0];
  auto decoded = DecodeWorkerMessage(std::vector<std::string>(frames.begin() + 1, frames.end()));
  if (!decoded.ok()) {
    ++counters.bad_messages;
    log->Warn("bad message from {}: {}", PrintableIdentity(identity), decoded.status().ToString());
    return;
  }
  const WireMessage& m = *decoded;
  ++counters.messages_in[MsgTypeName(m.type)];
  if (m.type == MsgType::kHello) {
    OnHello(identity, m.body);
    return;
  }
  WorkerSession* w = SessionByIdentity(identity);
  if (w == nullptr) {
    if (m.type != MsgType::kBye) {
      SendToIdentity(identity, MsgType::kReconnect, {{"reason", "unknown connection: send hello first"}});
    }
    return;
  }
  w->last_heard = Clock::now();
  const double now = WallNow();
  switch (m.type) {
    case MsgType::kReady:
      w->accepting = !stopping;
      break;
    case MsgType::kHeartbeat:
      break;
    case MsgType::kDrain:
      w->accepting = false;
      if (Status s = store->SetWorkerState(w->id, WorkerState::kDraining, now); !s.ok()) log->Error("{}", s.ToString());
      break;
    case MsgType::kProgress: {
      const int64_t attempt = m.body["attempt_id"].get<int64_t>();
      if (Status s = store->RecordProgress(attempt, m.body, now); !s.ok()) {
        log->Debug("progress of attempt {}: {}", attempt, s.ToString());
      }
      break;
    }
    case MsgType::kResult:
    case MsgType::kFailure: {
      const int64_t attempt = m.body["attempt_id"].get<int64_t>();
      Result<Followup> f = Status::Internal("unset");
      if (m.type == MsgType::kResult) {
        ++counters.results;
        f = store->RecordResult(attempt, m.body["result"], w->id, now);
      } else {
        ++counters.failures;
        auto kind = ParseFailureKind(m.body["kind"].get<std::string>(), "failure.kind");
        f = store->RecordFailure(attempt, *kind, m.body["reason"].get<std::string>(), w->id, now);
      }
      if (f.ok()) {
        if (f->transition.duplicate) ++counters.duplicate_results;
        ApplyFollowup(*f);
        if (m.type == MsgType::kFailure || !f->transition.note.empty()) {
          log->Info("attempt {} on {}: {}{}", attempt, w->id, MsgTypeName(m.type),
                    f->transition.note.empty() ? "" : " (" + f->transition.note + ")");
        } else {
          log->Debug("attempt {} on {}: result stored", attempt, w->id);
        }
      } else if (f.status().code() == StatusCode::kNotFound) {
        log->Warn("{} from worker {} for an attempt unknown to the record: {}", MsgTypeName(m.type), w->id,
                  f.status().ToString());
      } else {
        log->Error("recording the {} of attempt {}: {}", MsgTypeName(m.type), attempt, f.status().ToString());
        break;  // not acknowledged: the worker keeps it and sends it again
      }
      ForgetAttempt(attempt);
      Send(*w, MsgType::kAck, {{"attempt_id", attempt}});
      break;
    }
    case MsgType::kBye: {
      log->Info("worker {} left{}", w->id, w->running.empty() ? "" : " with attempts running");
      EndSession(w->id, WorkerState::kGone, fmt::format("worker {} left", w->id));
      return;
    }
    default:
      ++counters.bad_messages;
      log->Warn("worker {} sent {}, which only the coordinator sends", w->id, MsgTypeName(m.type));
  }
}

void Coordinator::Impl::DeclareDead(const std::string& worker_id, const std::string& reason) {
  EndSession(worker_id, WorkerState::kLost, reason);
}

void Coordinator::Impl::EndSession(const std::string& worker_id, WorkerState state, const std::string& reason) {
  auto it = sessions.find(worker_id);
  if (it == sessions.end()) return;
  const double now = WallNow();
  std::vector<int64_t> attempts;
  for (const auto& [a, mem] : it->second.running) attempts.push_back(a);
  for (int64_t a : attempts) {
    LoseAttempt(a, reason, now);
  }
  if (Status s = store->SetWorkerState(worker_id, state, now); !s.ok()) log->Error("{}", s.ToString());
  by_identity.erase(it->second.identity);
  sessions.erase(it);
}

void Coordinator::Impl::OnControlMessage(const std::vector<std::string>& frames) {
  // [identity][empty delimiter][signature][body] from a REQ socket.
  if (frames.size() < 3 || !frames[1].empty()) {
    ++counters.bad_messages;
    log->Warn("control: malformed envelope of {} frame(s)", frames.size());
    return;
  }
  ++counters.control_requests;
  Json reply;
  auto req = DecodeControl(std::vector<std::string>(frames.begin() + 2, frames.end()));
  bool read_only = !req.ok();
  if (!req.ok()) {
    reply = ControlError(req.status());
  } else {
    const ControlOp* op = req->contains("op") && (*req)["op"].is_string() ? FindOp((*req)["op"].get<std::string>())
                                                                          : nullptr;
    read_only = op != nullptr && op->read_only;
    auto fields = Control(*req);
    reply = fields.ok() ? ControlOk(std::move(*fields)) : ControlError(fields.status());
  }
  std::vector<std::string> out = {frames[0], "", kControlSignature, EncodeControl(reply)};
  if (read_only) {
    // Reads answer at once instead of after the round's commit: under load a
    // round can hold thousands of messages. They may show this round's state
    // a moment before it is durable.
    if (Status st = SendFrames(*control, out); !st.ok()) LogSendFailure(out, st);
  } else {
    SendOrQueue(&*control, std::move(out), "control reply");  // changes: after the commit
  }
}

Result<int64_t> Coordinator::Impl::SweepOf(const Json& req) {
  // "sweep": a name or an id, the id as a number or as its digits.
  auto it = req.find("sweep");
  if (it != req.end() && it->is_number_integer()) return store->ResolveSweep(std::to_string(it->get<int64_t>()));
  AVCTL_ASSIGN_OR_RETURN(std::string ref, GetString(req, "sweep", "request"));
  return store->ResolveSweep(ref);
}

const std::vector<Coordinator::Impl::ControlOp>& Coordinator::Impl::ControlOps() {
  using R = Result<Json>;
  // A reply's fields under one key, from a read model of the record.
  auto under = [](const char* key, Result<Json> r) -> R {
    if (!r.ok()) return r.status();
    return Json{{key, std::move(*r)}};
  };
  static const std::vector<ControlOp> kOps = {
      {"ping", true,
       [](Impl& c, const Json&) -> R {
         return Json{{"version", CodeVersion()}, {"uptime_seconds", Millis(Clock::now() - c.started) / 1000.0},
                     {"workers", c.sessions.size()}, {"queued", c.queue.size()}};
       }},
      {"submit", false, [](Impl& c, const Json& req) { return c.Submit(req); }},
      {"list", true, [under](Impl& c, const Json&) { return under("sweeps", c.store->ListSweeps()); }},
      {"status", true,
       [under](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         return under("status", c.store->SweepStatus(id, WallNow()));
       }},
      {"jobs", true,
       [under](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         return under("jobs", c.store->Jobs(id, req.value("state", "")));
       }},
      {"results", true,
       [under](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         return under("results", c.store->Results(id));
       }},
      {"cancel", false,
       [](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(auto fs, c.store->CancelSweep(id, WallNow()));
         for (const auto& f : fs) {
           c.queue.Erase(f.job_id);
           c.ApplyFollowup(f);
         }
         return Json{{"cancelled", fs.size()}};
       }},
      {"retry", false,
       [](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(auto qs, c.store->RetrySweep(id, WallNow()));
         for (const auto& q : qs) c.queue.Push(q);
         return Json{{"requeued", qs.size()}};
       }},
      {"workers", true,
       [](Impl& c, const Json&) -> R {
         AVCTL_ASSIGN_OR_RETURN(Json w, c.store->Workers());
         for (auto& row : w) {
           auto s = c.sessions.find(row["id"].get<std::string>());
           row["connected"] = s != c.sessions.end();
           row["accepting"] = s != c.sessions.end() && s->second.accepting;
         }
         return Json{{"workers", std::move(w)}};
       }},
      {"events", true,
       [under](Impl& c, const Json& req) {
         return under("events", c.store->Events(req.value("after", int64_t{0}), static_cast<int>(req.value("limit", 100))));
       }},
      {"drain_worker", false,
       [](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(std::string id, GetString(req, "worker", "request"));
         auto s = c.sessions.find(id);
         if (s == c.sessions.end()) return Status::NotFound(fmt::format("worker {} is not connected", id));
         s->second.accepting = false;
         c.Send(s->second, MsgType::kDrain, Json::object());
         return Json{{"worker", id}, {"drained", Json::array({id})}};
       }},
      {"drain_slurm_job", false,
       [](Impl& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(std::string job, GetString(req, "slurm_job_id", "request"));
         Json drained = Json::array();
         for (auto& [id, w] : c.sessions) {
           if (w.slurm_job_id != job) continue;
           w.accepting = false;
           c.Send(w, MsgType::kDrain, Json::object());
           drained.push_back(id);
         }
         return Json{{"drained", drained}};
       }},
  };
  return kOps;
}

const Coordinator::Impl::ControlOp* Coordinator::Impl::FindOp(const std::string& name) {
  for (const ControlOp& op : ControlOps()) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

Result<Json> Coordinator::Impl::Control(const Json& req) {
  AVCTL_ASSIGN_OR_RETURN(std::string name, GetString(req, "op", "request"));
  const ControlOp* op = FindOp(name);
  if (op == nullptr) {
    std::string known;
    for (const ControlOp& o : ControlOps()) known += (known.empty() ? "" : ", ") + std::string(o.name);
    return Status::InvalidArgument(fmt::format("unknown op \"{}\" (expected {})", name, known)).WithField("request.op");
  }
  return op->run(*this, req);
}

Result<Json> Coordinator::Impl::Submit(const Json& req) {
  const double now = WallNow();
  AVCTL_ASSIGN_OR_RETURN(const Json* spec_json, GetMember(req, "spec", "request"));
  const std::string source = req.value("source", "submitted spec");
  AVCTL_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(*spec_json, source));
  AVCTL_ASSIGN_OR_RETURN(std::vector<ExpandedJob> jobs, ExpandSweep(spec));
  AVCTL_ASSIGN_OR_RETURN(SubmitOutcome out, store->SubmitSweep(spec, *spec_json, jobs, source, now));
  AVCTL_ASSIGN_OR_RETURN(auto queued, store->QueuedJobs());
  for (const auto& j : queued) queue.Push(j);
  log->Info("sweep {} (id {}) submitted: {} jobs, {} new", spec.name, out.sweep_id, out.total, out.added);
  return Json{{"sweep_id", out.sweep_id}, {"name", spec.name}, {"new_sweep", out.new_sweep},
              {"jobs", out.total}, {"added", out.added}, {"existing", out.existing}};
}

void Coordinator::Impl::ScheduleJobs() {
  if (stopping || queue.empty()) return;
  std::vector<WorkerCapacity> caps;
  for (const auto& [id, w] : sessions) {
    WorkerCapacity c;
    c.id = id;
    c.device = w.device;
    c.accepting = w.accepting;
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
  const double now = WallNow();
  for (const Assignment& a : Schedule(queue, caps)) {
    const QueuedJob* queued = queue.Find(a.job_id);
    const int64_t memory_mb = queued != nullptr ? queued->resources.memory_mb : 0;
    queue.Erase(a.job_id);
    auto d = store->Dispatch(a.job_id, a.worker_id, now);
    if (!d.ok()) {
      log->Error("dispatching job {}: {}", a.job_id, d.status().ToString());
      continue;
    }
    WorkerSession& w = sessions.at(a.worker_id);
    w.running[d->attempt_id] = memory_mb;
    attempt_worker[d->attempt_id] = a.worker_id;
    ++counters.dispatched;
    JobMessage job;
    job.attempt_id = d->attempt_id;
    job.job_key = d->job_key;
    job.kind = d->kind;
    job.sleep_seconds = d->sleep_seconds;
    job.job = std::move(d->job_raw);
    job.dataset = std::move(d->dataset_raw);
    std::vector<std::string> frames = EncodeJobMessage(job);
    frames.insert(frames.begin(), w.identity);
    SendOrQueue(&*workers, std::move(frames), "job");
    w.last_sent = Clock::now();
    log->Debug("attempt {} ({}) -> {}", d->attempt_id, d->job_key, a.worker_id);
  }
}

void Coordinator::Impl::OnTick() {
  Round([this] { TickRound(); });
  if (stopping) return;
  tick.expires_after(std::chrono::milliseconds(std::max(10, opt.heartbeat_ms / 4)));
  tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTick();
  });
}

void Coordinator::Impl::TickRound() {
  const auto now = Clock::now();
  const auto silence = std::chrono::milliseconds(static_cast<int64_t>(opt.heartbeat_ms) * opt.liveness);
  std::vector<std::string> dead;
  for (auto& [id, w] : sessions) {
    if (now - w.last_heard > silence) {
      dead.push_back(id);
    } else if (now - w.last_sent >= std::chrono::milliseconds(opt.heartbeat_ms)) {
      Send(w, MsgType::kHeartbeat, Json::object());
    }
  }
  for (const auto& id : dead) {
    const int64_t ms = Millis(now - sessions.at(id).last_heard);
    log->Warn("worker {} silent for {} ms: declared dead, its attempts requeued", id, ms);
    ++counters.workers_lost;
    DeclareDead(id, fmt::format("worker {} silent for {} ms", id, ms));
  }
  std::vector<int64_t> expired;
  for (const auto& [attempt, deadline] : orphans) {
    if (now >= deadline) expired.push_back(attempt);
  }
  for (int64_t attempt : expired) {
    LoseAttempt(attempt, "its worker did not come back within the restart grace period", WallNow());
  }
  ProcessSockets();
  ScheduleJobs();
}

HttpResponse Coordinator::Impl::HandleHttp(const std::string& target) {
  const Target t = ParseTarget(target);
  auto json = [](Result<Json> r) {
    if (r.ok()) return HttpResponse{200, "application/json", r->dump(2) + "\n"};
    const int code = r.status().code() == StatusCode::kNotFound ? 404 : 500;
    return HttpResponse{code, "application/json", Json{{"error", r.status().ToString()}}.dump() + "\n"};
  };
  if (t.parts.empty()) {
    auto sweeps = store->ListSweeps();
    auto ws = store->Workers();
    if (!sweeps.ok() || !ws.ok()) return json(sweeps.ok() ? ws.status() : sweeps.status());
    return {200, "text/html; charset=utf-8", RenderStatusPage(*sweeps, *ws, CodeVersion())};
  }
  if (t.parts.size() == 1 && t.parts[0] == "metrics") {
    CoordinatorCounters c = counters;
    c.queue_length = static_cast<int64_t>(queue.size());
    c.workers_connected = static_cast<int64_t>(sessions.size());
    for (const auto& [id, w] : sessions) {
      c.slots_total += w.slots;
      c.slots_busy += static_cast<int64_t>(w.running.size());
    }
    c.uptime_seconds = Millis(Clock::now() - started) / 1000.0;
    auto sweeps = store->ListSweeps();
    return {200, "text/plain; version=0.0.4", RenderPrometheus(c, sweeps.ok() ? *sweeps : Json::array())};
  }
  if (t.parts[0] == "report" && t.parts.size() == 2 && target.find('?') == std::string::npos &&
      target.back() != '/') {
    return {301, "text/plain", "moved\n", target + "/"};  // the report's relative links need the slash
  }
  if (t.parts[0] == "report" && (t.parts.size() == 2 || t.parts.size() == 3)) {
    // The same static report as `avctl report`, rendered live from the record.
    auto data = LoadReportData(store.get(), t.parts[1]);
    if (!data.ok()) return json(data.status());
    auto files = RenderReport(*data, AnalyzeReport(*data));
    const std::string name = t.parts.size() == 3 ? t.parts[2] : "index.html";
    auto it = files.find(name);
    if (it == files.end()) return {404, "text/plain", "no such report file: " + name + "\n"};
    const auto ends = [&](const char* ext) {
      const std::string e(ext);
      return name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0;
    };
    const char* type = ends(".html")  ? "text/html; charset=utf-8"
                       : ends(".csv") ? "text/csv; charset=utf-8"
                       : ends(".json") ? "application/json"
                                       : "text/plain; charset=utf-8";
    return {200, type, it->second};
  }
  if (t.parts[0] == "api" && t.parts.size() >= 2) {
    // The read operations of the control API, with the same reply JSON.
    Json req;
    if (t.parts[1] == "workers" && t.parts.size() == 2) req = {{"op", "workers"}};
    if (t.parts[1] == "events" && t.parts.size() == 2) {
      auto it = t.query.find("after");
      req = {{"op", "events"}, {"after", it == t.query.end() ? 0 : std::atoll(it->second.c_str())}, {"limit", 500}};
    }
    if (t.parts[1] == "sweeps" && t.parts.size() == 2) req = {{"op", "list"}};
    if (t.parts[1] == "sweeps" && t.parts.size() == 3) req = {{"op", "status"}, {"sweep", t.parts[2]}};
    if (t.parts[1] == "sweeps" && t.parts.size() == 4 && (t.parts[3] == "jobs" || t.parts[3] == "results")) {
      req = {{"op", t.parts[3]}, {"sweep", t.parts[2]}};
      auto it = t.query.find("state");
      if (t.parts[3] == "jobs" && it != t.query.end()) req["state"] = it->second;
    }
    if (!req.is_null()) {
      auto fields = Control(req);
      if (fields.ok()) return {200, "application/json", ControlOk(std::move(*fields)).dump(2) + "\n"};
      const int code = fields.status().code() == StatusCode::kNotFound ? 404 : 400;
      return {code, "application/json", ControlError(fields.status()).dump(2) + "\n"};
    }
  }
  return {404, "application/json", Json{{"error", "no such page: " + target}}.dump() + "\n"};
}

void Coordinator::Impl::Stop() {
  if (stopping) return;
  stopping = true;
  log->Info("stopping: no new dispatches; {} worker(s) keep their running jobs and reconnect to the next coordinator",
            sessions.size());
  boost::system::error_code ec;
  tick.cancel();
  signals.cancel(ec);
  reload.cancel(ec);
  for (auto& fd : zap_fds) fd->close(ec);
  if (workers_fd) workers_fd->close(ec);
  if (control_fd) control_fd->close(ec);
  if (http) http->Stop();
  io.stop();
}

Status Coordinator::Impl::Run() {
  AVCTL_RETURN_IF_ERROR(CheckExposure(opt));
  AVCTL_RETURN_IF_ERROR(LockRecord());
  AVCTL_ASSIGN_OR_RETURN(store, Record::Open(opt.db_path));
  AVCTL_RETURN_IF_ERROR(Recover());
  AVCTL_RETURN_IF_ERROR(Bind());
  AVCTL_RETURN_IF_ERROR(WriteEndpoints());
  log->Info("avcoord {}: workers on {}, control on {}{}", CodeVersion(), worker_bound, control_bound,
            http ? fmt::format(", http://{}:{}/", opt.http_address, http->port()) : "");
  signals.async_wait([this](const boost::system::error_code& ec, int sig) {
    if (ec) return;
    log->Info("signal {} received", sig);
    Stop();
  });
  Arm(*workers_fd);
  Arm(*control_fd);
  for (auto& fd : zap_fds) ArmZap(*fd);
  if (zap) zap->Process();  // ZMQ_FD is edge-triggered: take what came before the first wait
  WaitReload();
  OnTick();
  io.run();
  workers.reset();
  control.reset();
  zap.reset();
  if (!fatal.ok()) return fatal;
  log->Info("stopped");
  return Status::OK();
}

Coordinator::Coordinator(CoordinatorOptions options, Logger* log)
    : impl_(std::make_unique<Impl>(std::move(options), log)) {}

Coordinator::~Coordinator() = default;

Status Coordinator::Run() { return impl_->Run(); }

}  // namespace avctl
