#include "worker/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <filesystem>
#include <optional>

#include <fmt/format.h>
#include <zmq.hpp>

#include "common/file_util.h"
#include "common/protocol.h"
#include "common/subprocess.h"
#include "common/version.h"
#include "worker/checkpoint_file.h"
#include "worker/command_runner.h"
#include "worker/coordinator_link.h"
#include "worker/job_runners.h"
#include "worker/process_tree.h"
#include "worker/spool_sync.h"
#include "worker/store_registry.h"

namespace avctl {

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

std::string Hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

}  // namespace

// The worker application (the zguide's Majordomo worker over mdwrkapi): the
// spool, signals and drain; the coordinator link carries the session, the
// runners run the attempts.
struct WorkerDaemon::Impl {
  Impl(WorkerDaemonOptions o, Logger* l) : opt(std::move(o)), log(l), zctx(1) {}

  Status Run();
  Status Prepare();
  Json HelloBody();
  void OnWelcome();
  void OnMessage(const WireMessage& m);
  void StartAttempt(const Json& body);
  void Deliver(AttemptReport report);
  void OnAck(int64_t attempt, bool spooled, bool result_stored);
  JobRunner& RunnerFor(JobKind kind);
  bool Idle() const;
  std::string AttemptDir(int64_t attempt) const { return train->AttemptDir(attempt); }

  WorkerDaemonOptions opt;
  Logger* log;
  zmq::context_t zctx;
  int signal_fd = -1;
  int lock_fd = -1;
  bool draining = false;
  bool drain_announced = false;
  std::optional<SteadyClock::time_point> preempted_at;  // SIGTERM/SIGINT: jobs checkpoint and go back to the queue
  std::unique_ptr<StoreRegistry> stores;  // opened once per daemon, shared by its jobs
  std::unique_ptr<CoordinatorLink> link;
  std::unique_ptr<TrainRunner> train;
  std::unique_ptr<CommandRunner> command;
  SleepRunner sleep;
  SteadyClock::time_point last_reap;  // of orphaned job processes
  // Results written to the spool without fsync, synced if not acknowledged
  // within a second (worker/spool_sync.h).
  SpoolSyncQueue spool_sync{std::chrono::seconds(1)};
  NoopRunner noop;
};

namespace {

// The signals the loop reads from its signalfd: SIGTERM and SIGINT stop the
// worker (preemption); SIGCHLD wakes it the moment a job's process exits.
sigset_t LoopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGCHLD);
  return set;
}

}  // namespace

Status WorkerDaemon::Impl::Prepare() {
  // Blocked before any thread starts (ZeroMQ's, the output drains): threads
  // inherit the mask, so none of them takes these signals from the signalfd.
  // Children get an empty mask (common/subprocess.h).
  const sigset_t set = LoopSignals();
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return Status::Internal("cannot block SIGTERM/SIGINT/SIGCHLD");
  if (opt.worker_id.empty()) return Status::InvalidArgument("a worker id is required").WithField("--id");
  if (opt.work_dir.empty()) return Status::InvalidArgument("a work directory is required").WithField("--work-dir");
  if (opt.store_cache.empty()) opt.store_cache = (fs::path(opt.work_dir) / "stores").string();
  stores = std::make_unique<StoreRegistry>(opt.store_cache, log);
  TrainRunnerOptions to;
  to.spool = (fs::path(opt.work_dir) / "attempts").string();
  to.trainer_exe = opt.trainer_exe;
  to.device = opt.device;
  to.threads_per_job = opt.threads_per_job;
  to.checkpoint_root = opt.checkpoint_dir;
  to.default_checkpoint_root = (fs::path(opt.work_dir) / "checkpoints").string();
  train = std::make_unique<TrainRunner>(to, stores.get(), log);
  CommandRunnerOptions co;
  co.spool = to.spool;
  co.worker_id = opt.worker_id;
  co.device = opt.device;
  co.threads_per_job = opt.threads_per_job;
  co.checkpoint_root = opt.checkpoint_dir;
  co.default_checkpoint_root = to.default_checkpoint_root;
  co.output_root = (fs::path(opt.work_dir) / "outputs").string();
  co.stop_timeout = std::chrono::milliseconds(static_cast<int64_t>(opt.stop_timeout_s * 1000));
  co.environment = opt.environment;
  if (co.environment.empty()) co.environment = ProcessEnvironment();
  co.visible_devices = opt.visible_devices;
  co.hostname = Hostname();
  co.gpu_name = opt.gpu_name;
  command = std::make_unique<CommandRunner>(co, stores.get(), log);
  // A job's orphans (a grandchild that called setsid) become this daemon's
  // children, so they are found, stopped and reaped here.
  if (Status s = BecomeChildSubreaper(); !s.ok()) log->Warn("{}: orphans of jobs go to init", s.ToString());
  LinkOptions lo;
  lo.endpoint = opt.coordinator;
  lo.curve_server_public = opt.curve_server_public;
  lo.curve_keys = opt.curve_keys;
  lo.heartbeat_ms = opt.heartbeat_ms;
  lo.liveness = opt.liveness;
  lo.max_backoff_ms = opt.max_backoff_ms;
  CoordinatorLink::Handlers on;
  on.hello = [this] { return HelloBody(); };
  on.welcomed = [this] { OnWelcome(); };
  on.message = [this](const WireMessage& m) { OnMessage(m); };
  on.acked = [this](int64_t attempt, bool spooled, bool result_stored) { OnAck(attempt, spooled, result_stored); };
  link = std::make_unique<CoordinatorLink>(lo, zctx, log, on);
  std::error_code ec;
  fs::create_directories(fs::path(opt.work_dir) / "attempts", ec);
  if (ec) return Status::IOError(fmt::format("cannot create the spool: {}", ec.message())).WithFile(opt.work_dir);
  const std::string lock_path = (fs::path(opt.work_dir) / "worker.lock").string();
  lock_fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lock_fd < 0) return Status::FromErrno("cannot open", errno).WithFile(lock_path);
  if (::flock(lock_fd, LOCK_EX | LOCK_NB) != 0) {
    return Status::FailedPrecondition("another worker daemon uses this work directory; give each its own --work-dir")
        .WithFile(opt.work_dir);
  }
  // Finished attempts left by an earlier run: report them again. Attempts
  // without a report died with that run.
  for (const auto& entry : fs::directory_iterator(fs::path(opt.work_dir) / "attempts", ec)) {
    const std::string name = entry.path().filename().string();
    const int64_t attempt = std::atoll(name.c_str());
    if (attempt <= 0 || std::to_string(attempt) != name) continue;
    const std::string dir = entry.path().string();
    auto result = ReadJsonFile(dir + "/result.json");
    auto failure = ReadJsonFile(dir + "/failure.json");
    if (failure.ok()) {
      link->Report(attempt, MsgType::kFailure, *failure, true);
    } else if (result.ok() && result->value("status", "") == "preempted") {
      Deliver(FailureReport(attempt, FailureKind::kPreempted, result->value("reason", "stopped on request"), true));
    } else if (result.ok() && result->value("status", "") == "ok") {
      link->Report(attempt, MsgType::kResult, ResultToJson({attempt, *result}), true);
      spool_sync.Written(attempt, SteadyClock::now());
    } else {
      Deliver(FailureReport(attempt, FailureKind::kCrash, "the worker daemon stopped while the job ran", true));
    }
  }
  if (ec) return Status::IOError(fmt::format("cannot list the spool: {}", ec.message())).WithFile(opt.work_dir);
  if (link->unacknowledged() > 0) {
    log->Info("{} finished attempt(s) in the spool await acknowledgement", link->unacknowledged());
  }

  signal_fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return Status::FromErrno("signalfd", errno);
  return Status::OK();
}

JobRunner& WorkerDaemon::Impl::RunnerFor(JobKind kind) {
  if (kind == JobKind::kSleep) return sleep;
  if (kind == JobKind::kCommand) return *command;
  return *train;
}

bool WorkerDaemon::Impl::Idle() const {
  return train->Holding().empty() && command->Holding().empty() && sleep.Holding().empty();
}

Json WorkerDaemon::Impl::HelloBody() {
  HelloMessage h;
  h.worker_id = opt.worker_id;
  h.device = opt.device;
  h.slots = opt.slots;
  h.hostname = Hostname();
  h.pid = ::getpid();
  h.gpu_name = opt.gpu_name;
  h.gpu_memory_mb = opt.gpu_memory_mb;
  h.gpu_free_mb = opt.gpu_free_mb;
  h.version = CodeVersion();
  h.mode = opt.mode;
  h.labels = opt.labels;
  h.running = train->Holding();
  for (int64_t a : sleep.Holding()) h.running.push_back(a);
  for (int64_t a : command->Holding()) h.running.push_back(a);
  h.finished = link->Reported();
  return HelloToJson(h);
}

void WorkerDaemon::Impl::OnWelcome() {
  link->Send(draining ? MsgType::kDrain : MsgType::kReady, Json::object());
  drain_announced = draining;
}

void WorkerDaemon::Impl::Deliver(AttemptReport r) {
  if (r.type == MsgType::kFailure && r.spooled) {
    if (Status s = WriteJsonFileAtomic(AttemptDir(r.attempt_id) + "/failure.json", r.body); !s.ok()) {
      log->Error("keeping the failure of attempt {}: {}", r.attempt_id, s.ToString());
    }
  }
  if (r.type == MsgType::kResult && r.spooled) spool_sync.Written(r.attempt_id, SteadyClock::now());
  link->Report(r.attempt_id, r.type, std::move(r.body), r.spooled);
}

void WorkerDaemon::Impl::OnAck(int64_t attempt, bool spooled, bool result_stored) {
  if (!spooled) return;  // no-op and sleep results have no files: nothing to remove
  spool_sync.Forget(attempt);
  if (result_stored) {
    // The job's result is in the record: its checkpoints are no longer
    // needed. Only now, and only for the attempt whose result was stored: a
    // stale attempt's result (not stored) leaves them to the job's retry.
    // A command job's folder is its program's: removed whole.
    if (const std::string owned = OwnedCheckpointDir(AttemptDir(attempt)); !owned.empty()) {
      std::error_code rm;
      fs::remove_all(owned, rm);
      if (rm) log->Warn("attempt {}: removing {}: {}", attempt, owned, rm.message());
    }
    auto folder = ReadFileToString(AttemptDir(attempt) + "/" + kCheckpointDirFile);
    if (folder.ok() && !folder->empty()) {
      if (Status p = PruneCheckpoints(*folder, 0); !p.ok()) log->Warn("attempt {}: {}", attempt, p.ToString());
      std::error_code rm;
      fs::remove(*folder, rm);  // only when nothing else is in it
    }
  }
  std::error_code ec;
  fs::remove_all(AttemptDir(attempt), ec);
  if (ec) log->Warn("removing the spool of attempt {}: {}", attempt, ec.message());
}

void WorkerDaemon::Impl::OnMessage(const WireMessage& m) {
  switch (m.type) {
    case MsgType::kJob:
      StartAttempt(m.body);
      break;
    case MsgType::kCancel: {
      const int64_t a = ReadAttemptId(m.body);
      if (train->Cancel(a) || command->Cancel(a) || sleep.Cancel(a)) log->Info("attempt {} cancelled by the coordinator", a);
      if (link->DropReport(a)) {
        spool_sync.Forget(a);
        std::error_code ec;
        fs::remove_all(AttemptDir(a), ec);
      }
      break;
    }
    case MsgType::kDrain:
      if (!draining) log->Info("drain requested by the coordinator: finishing {} running job(s)", train->Holding().size());
      draining = true;
      train->SetDraining();
      command->SetDraining();
      break;
    default:
      log->Warn("unexpected {} from the coordinator", MsgTypeName(m.type));
  }
}

void WorkerDaemon::Impl::StartAttempt(const Json& body) {
  const int64_t attempt = ReadAttemptId(body);
  if (link->HasReport(attempt)) return;  // a repeated dispatch of a finished attempt
  if (draining) {
    // Not the job's fault: while stopping for preemption it is not counted either.
    link->Send(MsgType::kFailure, FailureToJson({attempt, preempted_at ? FailureKind::kPreempted : FailureKind::kWorker,
                                                 "the worker is draining"}));
    return;
  }
  if (opt.mode == "noop") {  // dispatch benchmarks: answered before the job is even read
    JobMessage m;
    m.attempt_id = attempt;
    if (auto report = noop.Start(m)) Deliver(std::move(*report));
    return;
  }
  auto job = ReadJobMessage(body);
  if (!job.ok()) {  // e.g. a kind this worker does not know: the same everywhere
    Deliver(FailureReport(attempt, FailureKind::kJob, job.status().ToString(), false));
    return;
  }
  if (auto report = RunnerFor(job->kind).Start(*job)) Deliver(std::move(*report));
}

Status WorkerDaemon::Impl::Run() {
  AVCTL_RETURN_IF_ERROR(Prepare());
  log->Info("worker {} ({} slot(s), {}, mode {}) serving {}", opt.worker_id, opt.slots, opt.device, opt.mode,
            opt.coordinator);
  const auto progress = [this](Json p) { link->Send(MsgType::kProgress, std::move(p)); };
  while (true) {
    link->Tick();
    std::vector<zmq::pollitem_t> items = {{nullptr, signal_fd, ZMQ_POLLIN, 0}};
    const bool linked = link->socket() != nullptr;
    if (linked) items.push_back({link->socket()->handle(), 0, ZMQ_POLLIN, 0});
    // A job's output, or a runner's thread that finished (a job's
    // provenance worked out), wakes the loop; the runner's Poll handles it.
    for (const JobRunner* r : std::initializer_list<const JobRunner*>{train.get(), command.get()}) {
      for (int fd : r->PollFds()) items.push_back({nullptr, fd, ZMQ_POLLIN, 0});
    }
    auto timeout = std::chrono::milliseconds(train->Holding().empty() && command->Holding().empty() ? 100 : 50);
    std::optional<SteadyClock::time_point> due = sleep.NextDue();
    if (auto c = command->NextDue(); c && (!due || *c < *due)) due = c;
    if (auto c = spool_sync.NextDue(); c && (!due || *c < *due)) due = c;
    if (due) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(*due - SteadyClock::now()) +
                        std::chrono::milliseconds(1);
      timeout = std::max(std::chrono::milliseconds(0), std::min(timeout, left));
    }
    zmq::poll(items.data(), items.size(), timeout);
    if (items[0].revents & ZMQ_POLLIN) {
      signalfd_siginfo info;
      while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
        if (info.ssi_signo == SIGCHLD) continue;  // a job's process ended: the runners' Poll below reaps it
        // Preemption (Slurm's time limit or scancel, a spot reclaim): jobs
        // checkpoint at their next batch boundary and go back to the queue.
        if (!preempted_at) {
          log->Info("signal {}: stopping; {} running job(s) checkpoint and are reported preempted (at most {:.0f} s)",
                    info.ssi_signo, train->Holding().size() + command->Holding().size(), opt.stop_timeout_s);
          preempted_at = SteadyClock::now();
          train->Preempt(std::chrono::milliseconds(static_cast<int64_t>(opt.stop_timeout_s * 1000)));
          command->Preempt(std::chrono::milliseconds(static_cast<int64_t>(opt.stop_timeout_s * 1000)));
        }
        draining = true;
      }
    }
    if (linked && (items[1].revents & ZMQ_POLLIN)) link->OnReadable();
    if (!link->refused().ok()) {
      train->KillAll();
      command->KillAll();
      return link->refused();
    }
    for (JobRunner* r : std::initializer_list<JobRunner*>{train.get(), command.get(), &sleep}) {
      for (AttemptReport& report : r->Poll(progress)) Deliver(std::move(report));
    }
    for (int64_t a : spool_sync.TakeDue(SteadyClock::now())) {
      if (Status s = SyncSpooledFile(AttemptDir(a), "result.json"); !s.ok()) {
        log->Warn("attempt {}: its unacknowledged result may not survive a machine crash: {}", a, s.ToString());
      } else {
        log->Info("attempt {}: result not acknowledged yet, synced to disk in the spool", a);
      }
    }
    if (SteadyClock::now() - last_reap > std::chrono::seconds(1)) {
      // Orphans of jobs that exited on their own: reaped, every job's own
      // process left to its runner.
      std::vector<pid_t> known = train->ChildPids();
      for (pid_t p : command->ChildPids()) known.push_back(p);
      ReapOrphans(known);
      last_reap = SteadyClock::now();
    }
    if (draining && !drain_announced && link->connected()) {
      link->Send(MsgType::kDrain, Json::object());
      drain_announced = true;
    }
    // A preempted worker leaves once its jobs are reported, acknowledged or
    // not for long: what is unacknowledged stays in the spool for its next start.
    const bool must_leave = preempted_at && SteadyClock::now() - *preempted_at >
                                                std::chrono::milliseconds(static_cast<int64_t>(opt.stop_timeout_s * 1000) + 2000);
    if (draining && Idle() && (link->unacknowledged() == 0 || !link->connected() || must_leave)) {
      link->Bye();
      log->Info("drained: {} unacknowledged result(s) stay in {}", link->unacknowledged(), opt.work_dir);
      return Status::OK();
    }
  }
}

WorkerDaemon::WorkerDaemon(WorkerDaemonOptions options, Logger* log)
    : impl_(std::make_unique<Impl>(std::move(options), log)) {}

WorkerDaemon::~WorkerDaemon() {
  if (impl_->signal_fd >= 0) ::close(impl_->signal_fd);
  if (impl_->lock_fd >= 0) ::close(impl_->lock_fd);
}

Status WorkerDaemon::Run() { return impl_->Run(); }

}  // namespace avctl
