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

#include "common/clock.h"
#include "common/guard.h"
#include "common/protocol.h"
#include "common/text.h"
#include "common/version.h"
#include "coordinator/control_api.h"
#include "coordinator/http_api.h"
#include "coordinator/http_server.h"
#include "coordinator/report_renderer.h"
#include "coordinator/sequential_scheduler.h"
#include "coordinator/worker_broker.h"
#include "db/record_file_system.h"
#include "net/curve.h"
#include "net/zap_handler.h"
#include "net/zmq_util.h"

namespace avctl {

namespace asio = boost::asio;

// The coordinator object: the io_context, the two ROUTER sockets, signals,
// and the group-commit round. What happens on the sockets belongs to the
// broker (workers), the control API and the HTTP API.
struct Coordinator::Impl {
  Impl(CoordinatorOptions o, Logger* l)
      : opt(std::move(o)), log(l), zctx(1), tick(io), signals(io, SIGTERM, SIGINT), reload(io, SIGHUP) {}

  ~Impl() {
    if (lock_fd >= 0) ::close(lock_fd);
  }

  Status Run();
  Status LockRecord();
  Status Bind();
  void Arm(asio::posix::stream_descriptor& fd);
  void ArmZap(asio::posix::stream_descriptor& fd);
  void WaitReload();
  void ProcessSockets();
  void OnWorkerMessage(const std::vector<std::string>& frames);
  void OnControlMessage(const std::vector<std::string>& frames);
  void OnTick();
  // The looks that became ready, then dispatch to free slots.
  void ScheduleJobs() {
    sequential->Process();
    broker->Schedule();
  }
  void Stop();
  // Runs f as one round: one transaction, then the outbox.
  template <typename F>
  void Round(F f);
  // Degraded mode (the record cannot be written): pause, and say why.
  void EnterDegraded(const Status& why);
  // Of a rolled-back round's messages, those that rest on its writes.
  void DropUndurable(std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>>* out);
  // While degraded, at most once a second: whether a write commits again.
  void ProbeRecord();
  void SendOrQueue(zmq::socket_t* socket, std::vector<std::string> frames, const std::string& what);
  void LogSendFailure(const std::vector<std::string>& frames, const Status& st);
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
  CoordinatorCounters counters;
  std::unique_ptr<WorkerBroker> broker;
  std::unique_ptr<SequentialScheduler> sequential;
  std::unique_ptr<ControlApi> control_api;
  std::unique_ptr<ReportRenderer> reports;  // joined before the io_context goes (declared after it)
  std::unique_ptr<HttpApi> http_api;
  std::unique_ptr<HttpServer> http;
  bool stopping = false;
  // Group commit: the state changes of one round of messages are committed
  // together, and what they send (acks, jobs, replies) goes out only after
  // the commit, so nothing is acknowledged before it is durable.
  std::optional<Transaction> batch;
  std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>> outbox;
  double unwritable_since = 0;
  std::chrono::steady_clock::time_point last_probe;
  int lock_fd = -1;
  std::string worker_bound, control_bound;
};

Status Coordinator::Impl::LockRecord() {
  AVCTL_RETURN_IF_ERROR(CheckRecordFileSystem(opt.db_path));
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
    auto server = HttpServer::Start(
        io, opt.http_address, opt.http_port,
        [this](const std::string& t, HttpReply reply) { http_api->Handle(t, reply); }, log);
    if (!server.ok()) return server.status();
    http = std::move(*server);
    http_api->SetServer(http.get());
  }
  return Status::OK();
}

Status Coordinator::Impl::WriteEndpoints() {
  if (opt.endpoints_file.empty()) return Status::OK();
  Json j = {{"workers", worker_bound}, {"control", control_bound}, {"pid", ::getpid()}, {"db", opt.db_path}};
  if (http) j["http"] = fmt::format("http://{}:{}", opt.http_address, http->port());
  return WriteJsonFileAtomic(opt.endpoints_file, j);
}

template <typename F>
void Coordinator::Impl::Round(F f) {
  if (stopping) return;
  if (!broker->paused().empty()) ProbeRecord();
  (void)store->TakeStorageFailure();  // from outside a round: already answered
  auto tx = store->Begin();
  if (!tx.ok()) {
    // Each record change still runs in a transaction of its own; with the
    // broker paused nothing is acknowledged or dispatched.
    EnterDegraded(tx.status());
  } else {
    batch.emplace(std::move(*tx));
  }
  // Each message is guarded on its own; this catches what the round's own
  // steps (liveness, scheduling) might throw, and commits what went before.
  if (Status st = RunGuarded("a coordinator round", f); !st.ok()) {
    ++counters.handler_errors;
    log->Error("{}", st.ToString());
  }
  std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>> out;
  out.swap(outbox);
  if (batch) {
    // A write of the round that failed for want of storage (its own
    // savepoint undone) rolls the whole round back: nothing half-stored.
    Status committed = store->TakeStorageFailure();
    if (committed.ok()) committed = batch->Commit();
    batch.reset();  // rolls back what did not commit
    if (!committed.ok()) {
      // Degraded, not stopped: the round is rolled back, what it would have
      // acknowledged or dispatched is not sent (workers resend their
      // results), and the broker's view is the record's again.
      EnterDegraded(committed);
      DropUndurable(&out);
      if (Status r = broker->Resync(); !r.ok()) log->Error("re-reading the record after a rollback: {}", r.ToString());
      if (Status r = sequential->Reload(); !r.ok()) {
        log->Error("re-reading the sequential sweeps after a rollback: {}", r.ToString());
      }
    }
  }
  for (auto& [socket, frames] : out) {
    if (Status st = SendFrames(*socket, frames); !st.ok()) LogSendFailure(frames, st);
  }
}

void Coordinator::Impl::EnterDegraded(const Status& why) {
  ++counters.unwritable_rounds;
  if (broker->paused().empty()) {
    unwritable_since = UnixSeconds();
    log->Error("the record cannot be written, so dispatch and results pause (nothing is lost: workers keep their "
               "results and send them again; status and /metrics say why): {}",
               why.ToString());
  }
  counters.record_writable = false;
  broker->SetPaused(fmt::format("the record cannot be written since {:.0f}: {}", unwritable_since, why.ToString()));
}

void Coordinator::Impl::DropUndurable(std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>>* out) {
  std::vector<std::pair<zmq::socket_t*, std::vector<std::string>>> kept;
  for (auto& [socket, frames] : *out) {
    if (socket == &*control && frames.size() == 4) {
      // A change the client asked for did not happen: say so.
      frames[3] = EncodeControl(ControlError(Status::IOError(broker->paused())));
      kept.emplace_back(socket, std::move(frames));
    } else if (socket == &*workers && frames.size() > 2 &&
               (frames[2] == MsgTypeName(MsgType::kJob) || frames[2] == MsgTypeName(MsgType::kAck) ||
                frames[2] == MsgTypeName(MsgType::kCancel))) {
      continue;  // rests on what was rolled back
    } else {
      kept.emplace_back(socket, std::move(frames));  // welcome, heartbeat, refused, reconnect, drain
    }
  }
  out->swap(kept);
}

void Coordinator::Impl::ProbeRecord() {
  const auto now = std::chrono::steady_clock::now();
  if (now - last_probe < std::chrono::seconds(1)) return;
  last_probe = now;
  const double since = unwritable_since;
  Status st = [&]() -> Status {
    AVCTL_ASSIGN_OR_RETURN(Transaction tx, store->Begin());
    AVCTL_RETURN_IF_ERROR(store->AddEvent(
        "record", fmt::format("the record takes writes again after {:.0f} s without ({})", UnixSeconds() - since,
                              broker->paused()),
        UnixSeconds()));
    return tx.Commit();
  }();
  if (!st.ok()) {
    log->Debug("the record still cannot be written: {}", st.ToString());
    return;
  }
  log->Info("the record takes writes again after {:.0f} s: dispatch and results resume", UnixSeconds() - since);
  broker->SetPaused("");
  counters.record_writable = true;
  if (Status r = broker->Resync(); !r.ok()) log->Error("re-reading the record: {}", r.ToString());
  if (Status r = sequential->Reload(); !r.ok()) log->Error("re-reading the sequential sweeps: {}", r.ToString());
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
    if (HasInput(*workers)) {
      if (auto frames = RecvFrames(*workers, false)) {
        OnWorkerMessage(*frames);
        any = true;
      }
    }
    if (HasInput(*control)) {
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

void Coordinator::Impl::OnWorkerMessage(const std::vector<std::string>& frames) {
  const auto what = [&] {
    return fmt::format("{} message from {}", frames.size() > 2 ? SanitizeText(frames[2], 24) : "a",
                       frames.empty() ? "?" : PrintableIdentity(frames[0]));
  };
  if (Status st = RunGuarded(what, [&] { broker->OnMessage(frames); }); !st.ok()) {
    ++counters.handler_errors;  // not acknowledged: a result is sent again
    log->Error("{}", st.ToString());
  }
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
    read_only = control_api->ReadOnly(*req);
    auto fields = control_api->Handle(*req);
    if (!fields.ok() && fields.status().code() == StatusCode::kInternal) {
      ++counters.handler_errors;
      log->Error("control request from {}: {}", PrintableIdentity(frames[0]), fields.status().ToString());
    }
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

void Coordinator::Impl::OnTick() {
  Round([this] {
    broker->Tick();
    ProcessSockets();
    ScheduleJobs();
  });
  if (stopping) return;
  tick.expires_after(std::chrono::milliseconds(std::max(10, opt.heartbeat_ms / 4)));
  tick.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) OnTick();
  });
}

void Coordinator::Impl::Stop() {
  if (stopping) return;
  stopping = true;
  if (broker) broker->SetStopping();
  log->Info("stopping: no new dispatches; {} worker(s) keep their running jobs and reconnect to the next coordinator",
            broker ? broker->connected() : 0);
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
  BrokerOptions bo;
  bo.heartbeat_ms = opt.heartbeat_ms;
  bo.liveness = opt.liveness;
  bo.restart_grace_ms = opt.restart_grace_ms;
  broker = std::make_unique<WorkerBroker>(bo, store.get(), &counters, log, [this](std::vector<std::string> frames) {
    SendOrQueue(&*workers, std::move(frames), "worker message");
  });
  sequential = std::make_unique<SequentialScheduler>(
      store.get(), broker.get(), log, &SystemClock(), [this](std::function<void()> f) {
        // From a design thread: back on the loop, in a round of its own.
        asio::post(io, [this, f = std::move(f)] {
          f();
          Round([this] { ScheduleJobs(); });
        });
      });
  broker->SetJobEndedHook([this](int64_t sweep_id) { sequential->Touch(sweep_id); });
  control_api = std::make_unique<ControlApi>(store.get(), broker.get(), log, sequential.get());
  reports = std::make_unique<ReportRenderer>(opt.db_path, io, log);
  http_api = std::make_unique<HttpApi>(store.get(), control_api.get(), broker.get(), &counters, reports.get());
  log->Info("record {}", opt.db_path);
  // Before the broker's recovery starts the restart grace: replaying a
  // strict sweep's looks can take seconds.
  AVCTL_RETURN_IF_ERROR(sequential->Reload());
  AVCTL_RETURN_IF_ERROR(broker->Recover());
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
  log->Info("stopped");
  return Status::OK();
}

Coordinator::Coordinator(CoordinatorOptions options, Logger* log)
    : impl_(std::make_unique<Impl>(std::move(options), log)) {}

Coordinator::~Coordinator() = default;

Status Coordinator::Run() { return impl_->Run(); }

}  // namespace avctl
