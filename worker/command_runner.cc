#include "worker/command_runner.h"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <filesystem>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/job_result.h"
#include "common/subprocess.h"
#include "sweeps/program_fingerprint.h"
#include "worker/process_tree.h"
#include "worker/program_env.h"
#include "worker/program_exit.h"

namespace avctl {

namespace fs = std::filesystem;

std::string OwnedCheckpointDir(const std::string& dir) {
  if (auto config = ReadJsonFile(dir + "/" + kProgramConfigFile); config.ok() && config->is_object()) {
    const auto it = config->find("checkpoint_dir");
    return it != config->end() && it->is_string() ? it->get<std::string>() : "";
  }
  auto legacy = ReadFileToString(dir + "/" + kLegacyOwnedCheckpointDirFile);
  return legacy.ok() ? *legacy : "";
}

namespace {

// How long a finished program's output may still take to reach end of
// file (a process of the job was just killed) before the worker stops reading.
constexpr std::chrono::seconds kOutputDrainLimit{2};

}  // namespace

struct CommandRunner::Attempt {
  Phase phase = Phase::kWaitingForStore;
  std::string dir, checkpoint_dir, output_dir, token;
  CommandJob job;
  Json dataset;  // the sweep's spec; null: none
  pid_t pid = -1;
  std::unique_ptr<OutputCapture> capture;
  Clock::time_point started;
  std::optional<Clock::time_point> deadline;  // timeout_minutes
  std::optional<Clock::time_point> kill_at;   // SIGTERM sent: SIGKILL then
  bool killed = false, cancelled = false, stop_requested = false, timed_out = false;
  int wait_status = 0;
  Clock::time_point ended;
  std::vector<pid_t> leftovers;  // processes of the job killed after its program exited
  std::streamoff progress_offset = 0;
  int bad_progress_lines = 0;
  Json provenance;
  // The code it runs (script hash, git state, interpreter version), worked
  // out beside the job by the runner's code worker.
  std::future<Json> code;  // from code_worker_
};

CommandRunner::CommandRunner(CommandRunnerOptions options, StoreRegistry* stores, Logger* log)
    : opt_(std::move(options)), stores_(stores), log_(log) {
  auto wake = Wakeup::Create();
  if (wake.ok()) {
    wake_ = std::move(*wake);
  } else {
    log_->Warn("{}: a job's worked-out provenance is noticed at the loop's next tick instead", wake.status().ToString());
  }
  code_worker_ = std::make_unique<BackgroundWorker<Json>>(wake_);
}

CommandRunner::~CommandRunner() { KillAll(); }

std::string CommandRunner::AttemptDir(int64_t attempt) const {
  return (fs::path(opt_.spool) / std::to_string(attempt)).string();
}

std::optional<AttemptReport> CommandRunner::Start(const JobMessage& m) {
  const int64_t id = m.attempt_id;
  if (attempts_.count(id)) return std::nullopt;  // a repeated dispatch
  auto a = std::make_unique<Attempt>();
  a->dir = AttemptDir(id);
  auto config = ParseJson(m.job, "job.config");
  Result<CommandJob> job = config.ok() ? CommandJobFromJson(*config, "job.config") : Result<CommandJob>(config.status());
  if (!job.ok()) return FailureReport(id, FailureKind::kJob, job.status().ToString(), false);
  a->job = std::move(*job);
  auto dataset = ParseJson(m.dataset.empty() ? "null" : m.dataset, "job.dataset");
  if (!dataset.ok()) return FailureReport(id, FailureKind::kJob, dataset.status().ToString(), false);
  a->dataset = std::move(*dataset);
  std::error_code ec;
  fs::create_directories(a->dir, ec);
  if (ec) return FailureReport(id, FailureKind::kWorker, fmt::format("cannot create {}: {}", a->dir, ec.message()), false);
  // The job's folders: its checkpoints (kept across attempts, on a shared
  // file system when the sweep or the worker says so) and its outputs.
  std::string root = opt_.checkpoint_root;
  if (root.empty()) root = a->job.checkpoint_dir;
  if (root.empty()) root = opt_.default_checkpoint_root;
  const std::string folder = CheckpointFolderName(m.job_key);
  a->checkpoint_dir = (fs::path(root) / folder).string();
  a->output_dir = (fs::path(opt_.output_root) / folder).string();
  a->token = fmt::format("{}-{}-{}", opt_.worker_id, ::getpid(), id);
  attempts_[id] = std::move(a);
  return std::nullopt;  // started by the next Poll (once its store, if any, is ready)
}

std::vector<int64_t> CommandRunner::Holding() const {
  std::vector<int64_t> out;
  for (const auto& [id, a] : attempts_) {
    if (!a->cancelled) out.push_back(id);
  }
  return out;
}

std::optional<JobRunner::Clock::time_point> CommandRunner::NextDue() const {
  std::optional<Clock::time_point> due;
  auto consider = [&](Clock::time_point t) {
    if (!due || t < *due) due = t;
  };
  for (const auto& [id, a] : attempts_) {
    if (a->phase == Phase::kFinishing) {
      const bool code_pending = a->code.valid() && a->code.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
      consider(code_pending && !wake_ ? Clock::now() + std::chrono::milliseconds(2) : a->ended + kOutputDrainLimit);
    }
    if (a->deadline && !a->timed_out) consider(*a->deadline);
    if (a->kill_at && !a->killed) consider(*a->kill_at);
  }
  return due;
}

std::vector<int> CommandRunner::PollFds() const {
  std::vector<int> fds;
  if (wake_) fds.push_back(wake_->fd());
  for (const auto& [id, a] : attempts_) {
    if (a->capture == nullptr) continue;
    for (int fd : a->capture->Fds()) fds.push_back(fd);
  }
  return fds;
}

std::vector<pid_t> CommandRunner::ChildPids() const {
  std::vector<pid_t> out;
  for (const auto& [id, a] : attempts_) {
    if (a->pid > 0) out.push_back(a->pid);
  }
  return out;
}

// SIGTERM goes to the program's own process only, as a scheduler tells a job
// step: a program with helpers (DataLoader workers, a shell's sleep) stops
// them itself, and a helper torn down under it would read as a crash. At
// the deadline everything of the attempt gets SIGKILL.
void CommandRunner::Stop(Attempt& a, std::chrono::milliseconds grace) {
  if (a.phase != Phase::kRunning || a.kill_at) return;
  ::kill(a.pid, SIGTERM);
  a.kill_at = Clock::now() + grace;
}

bool CommandRunner::Cancel(int64_t attempt) {
  auto it = attempts_.find(attempt);
  if (it == attempts_.end() || it->second->cancelled) return false;
  Attempt& a = *it->second;
  if (a.phase == Phase::kWaitingForStore) {
    std::error_code ec;
    fs::remove_all(a.dir, ec);
    attempts_.erase(it);
    return true;
  }
  a.cancelled = true;  // reaped, then forgotten, by Poll
  Stop(a, opt_.stop_timeout);
  return true;
}

void CommandRunner::Preempt(std::chrono::milliseconds grace) {
  draining_ = true;
  for (auto& [id, a] : attempts_) {
    a->stop_requested = true;
    Stop(*a, grace);
  }
}

void CommandRunner::KillAll() {
  for (auto& [id, a] : attempts_) {
    if (a->phase == Phase::kRunning) SignalJobProcesses(a->pid, kAttemptTokenVar + std::string("=") + a->token, SIGKILL);
  }
}

void CommandRunner::Launch(std::vector<AttemptReport>* out) {
  bool waiting = false;
  for (const auto& [id, a] : attempts_) waiting |= a->phase == Phase::kWaitingForStore;
  if (!waiting) return;
  stores_->Poll();
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    Attempt& a = *it->second;
    const int64_t id = it->first;
    if (a.phase != Phase::kWaitingForStore) {
      ++it;
      continue;
    }
    if (a.stop_requested) {  // preempted before it started: straight back to the queue
      out->push_back(FailureReport(id, FailureKind::kPreempted, "the worker stopped before the job started", false));
      it = attempts_.erase(it);
      continue;
    }
    std::string store_dir;
    if (!a.dataset.is_null()) {
      const StoreRegistry::Lookup l = stores_->Get(a.dataset);
      if (l.state == StoreRegistry::State::kPreparing) {
        ++it;
        continue;
      }
      if (l.state != StoreRegistry::State::kReady) {
        const FailureKind kind =
            l.error.code() == StatusCode::kInvalidArgument ? FailureKind::kJob : FailureKind::kWorker;
        out->push_back(FailureReport(id, kind, l.error.ToString(), false));
        stores_->Forget(StoreRegistry::Key(a.dataset));
        it = attempts_.erase(it);
        continue;
      }
      store_dir = l.dir;
    }
    if (auto failed = Spawn(id, a, store_dir)) {
      out->push_back(std::move(*failed));
      it = attempts_.erase(it);
      continue;
    }
    ++it;
  }
}

std::optional<AttemptReport> CommandRunner::Spawn(int64_t id, Attempt& a, const std::string& store_dir) {
  auto worker_failure = [&](const Status& s) { return FailureReport(id, FailureKind::kWorker, s.ToString(), true); };
  std::error_code ec;
  for (const std::string& d : {a.checkpoint_dir, a.output_dir}) {
    fs::create_directories(d, ec);
    if (ec) return worker_failure(Status::IOError(fmt::format("cannot create {}: {}", d, ec.message())).WithFile(d));
  }
  ProgramSetup setup;
  setup.job = &a.job;
  setup.attempt = id;
  setup.token = a.token;
  setup.config_path = a.dir + "/" + kProgramConfigFile;
  // The program's own result; the worker's checked one (result.json) is
  // what a restarted daemon finds and reports.
  setup.result_path = a.dir + "/program_result.json";
  setup.progress_path = a.dir + "/progress.jsonl";
  setup.checkpoint_dir = a.checkpoint_dir;
  setup.output_dir = a.output_dir;
  setup.dataset_dir = store_dir;
  setup.dataset_spec = a.dataset;
  setup.device = opt_.device;
  setup.threads = opt_.threads_per_job;
  auto variables = ProgramVariables(setup, opt_.visible_devices ? &*opt_.visible_devices : nullptr);
  if (!variables.ok()) return worker_failure(variables.status());
  auto argv = RenderCommand(a.job, {setup.config_path, setup.result_path, setup.progress_path, setup.checkpoint_dir,
                                    setup.output_dir, id});
  if (!argv.ok()) return FailureReport(id, FailureKind::kJob, argv.status().ToString(), true);
  // Its checkpoint_dir is also what the acknowledgement of the job's stored
  // result removes (OwnedCheckpointDir). It need not survive a machine crash
  // (the attempt does not), so no fsync: that costs milliseconds on every job.
  if (Status w = WriteFileAtomic(setup.config_path, ProgramConfig(setup).dump(2) + "\n", Durability::kProcessLifetime);
      !w.ok()) {
    return worker_failure(w);
  }
  // Logs are kept with the job's outputs, past the acknowledgement that
  // removes the attempt's spool folder; made when the program first writes.
  const std::string logs = a.output_dir + "/logs";
  const std::string stdout_log = fmt::format("{}/attempt-{}.stdout.log", logs, id);
  const std::string stderr_log = fmt::format("{}/attempt-{}.stderr.log", logs, id);
  auto capture = OutputCapture::Open(stdout_log, stderr_log, opt_.capture);
  if (!capture.ok()) return worker_failure(capture.status());
  ProgramSpawn spawn;
  spawn.argv = *argv;
  spawn.env = ProgramEnvironment(opt_.environment, *variables);
  spawn.workdir = a.job.workdir.empty() ? a.dir : a.job.workdir;
  spawn.stdout_fd = (*capture)->ChildStdout();
  spawn.stderr_fd = (*capture)->ChildStderr();
  spawn.parent_death_signal = SIGKILL;  // the job dies with its worker
  // The code it runs, from when it starts: the script's SHA-256 (the
  // resubmit check compares it), the repository's commit, the interpreter.
  // Without the AVCTL_* variables: git and `--version` are not the job's
  // processes, and the attempt's token would have them killed with it.
  std::vector<std::string> tool_env;
  for (const auto& e : spawn.env) {
    if (e.rfind("AVCTL_", 0) != 0) tool_env.push_back(e);
  }
  auto work = [argv = spawn.argv, env = std::move(tool_env), workdir = spawn.workdir, interpreters = interpreters_] {
    Json code = {{"interpreter", interpreters->Describe(argv, env, workdir)}};
    if (auto fingerprint = FingerprintProgram(argv, workdir, env); !fingerprint.ok()) {
      code["script_error"] = fingerprint.status().ToString();
    } else {
      if (!fingerprint->script.empty()) {
        code["script"] = fingerprint->script;
        code["script_sha256"] = fingerprint->script_sha256;
      }
      if (!fingerprint->git.commit.empty()) {
        code["git"] = {{"commit", fingerprint->git.commit}, {"dirty", fingerprint->git.dirty}};
      }
    }
    return code;
  };
  a.code = code_worker_->Submit(std::move(work));
  auto pid = SpawnProgram(spawn);
  if (!pid.ok()) {
    // A program that is not there, or not executable, is the same on every
    // worker: a job failure, not retried (no retry storm). A workdir this
    // worker cannot enter is this worker's (a shared file system not mounted).
    const bool workdir = pid.status().message().find("workdir") != std::string::npos;
    return FailureReport(id, workdir ? FailureKind::kWorker : FailureKind::kJob, pid.status().ToString(), true);
  }
  a.capture = std::move(*capture);
  a.capture->Start();
  a.pid = *pid;
  a.phase = Phase::kRunning;
  a.started = Clock::now();
  if (a.job.timeout_minutes > 0) {
    a.deadline = a.started + std::chrono::milliseconds(static_cast<int64_t>(a.job.timeout_minutes * 60000));
  }
  a.provenance = {{"argv", *argv}, {"workdir", spawn.workdir}, {"env", RedactedVariables(*variables)},
                  {"host", opt_.hostname}, {"worker_id", opt_.worker_id}, {"device", opt_.device},
                  {"gpu", opt_.gpu_name},
                  {"output_dir", a.output_dir}, {"stdout_log", stdout_log}, {"stderr_log", stderr_log},
                  {"contract", kJobContractVersion}};
  log_->Info("attempt {} ({}) started {} as pid {}", id, a.job.key, (*argv)[0], *pid);
  return std::nullopt;
}

std::vector<AttemptReport> CommandRunner::Poll(const std::function<void(Json)>& progress) {
  std::vector<AttemptReport> out;
  if (wake_) wake_->Clear();
  const auto now = Clock::now();
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    const int64_t id = it->first;
    Attempt& a = *it->second;
    if (a.capture) a.capture->Pump();
    if (a.phase == Phase::kRunning) {
      int status = 0;
      const pid_t r = ::waitpid(a.pid, &status, WNOHANG);
      if (!a.cancelled) {
        ForwardProgressFile(a.dir + "/progress.jsonl", id, &a.progress_offset, &a.bad_progress_lines, log_, progress);
      }
      const std::string marker = kAttemptTokenVar + std::string("=") + a.token;
      if (r == a.pid) {
        // The program is gone; so is everything it started (a process
        // group, or a setsid grandchild found by its marker).
        a.wait_status = status;
        a.ended = now;
        a.leftovers = KillLeftovers(a.pid, marker);  // reaped as they go
        a.phase = Phase::kFinishing;
      } else {
        if (a.deadline && now >= *a.deadline && !a.timed_out) {
          a.timed_out = true;
          log_->Warn("attempt {} ran past its timeout of {} minute(s): stopping it", id, a.job.timeout_minutes);
          Stop(a, opt_.stop_timeout);
        }
        if (a.kill_at && now >= *a.kill_at && !a.killed) {
          log_->Warn("attempt {} did not exit within the stop timeout: SIGKILL to all of its processes", id);
          SignalJobProcesses(a.pid, marker, SIGKILL);
          a.killed = true;
        }
      }
    }
    if (a.phase == Phase::kFinishing) {
      a.leftovers = ReapExited(a.leftovers);
      const bool drained = a.capture == nullptr || a.capture->Done();
      const bool code_known = !a.code.valid() || a.code.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
      if ((!drained && now - a.ended < kOutputDrainLimit) || (!code_known && !a.cancelled)) {
        ++it;
        continue;
      }
      if (a.capture) a.capture->Stop();
      if (a.cancelled) {
        std::error_code ec;
        fs::remove_all(a.dir, ec);
      } else {
        out.push_back(Finish(id, a));
      }
      it = attempts_.erase(it);
      continue;
    }
    ++it;
  }
  Launch(&out);
  return out;
}

AttemptReport CommandRunner::Finish(int64_t id, Attempt& a) {
  if (a.code.valid()) a.provenance.update(a.code.get());  // ready: Poll waited for it
  ProgramEnd end;
  end.wait_status = a.wait_status;
  end.result_path = a.dir + "/program_result.json";
  end.stderr_tail = a.capture ? a.capture->StderrTail() : "";
  end.require_metrics = a.job.require_metrics;
  end.stop_requested = a.stop_requested;
  end.timed_out = a.timed_out;
  end.timeout_minutes = a.job.timeout_minutes;
  if (fs::exists(end.result_path)) {
    ResultParseOptions options;
    options.require_compute_seconds = false;  // the worker measures it when the program does not
    auto json = ReadJsonFile(end.result_path);
    end.result = json.ok() ? ParseJobResult(*json, options) : Result<JobResult>(json.status());
    if (!end.result.ok()) end.result = std::move(end.result).TakeStatus().WithFile(end.result_path);
  }
  ProgramOutcome o = ClassifyProgramEnd(end);
  if (o.done) {
    JobResult& r = o.result;
    const double wall = std::chrono::duration<double>(a.ended - a.started).count();
    if (!r.compute_seconds) {
      r.compute_seconds = wall;
      r.compute_seconds_source = "the program's wall time, measured by the worker";
    }
    if (!r.resources.wall_seconds) r.resources.wall_seconds = wall;
    if (r.resources.device.empty()) r.resources.device = opt_.device;
    Json provenance = r.provenance.is_object() ? r.provenance : Json::object();
    // Only the logs the program wrote: a silent stream leaves no file.
    for (const char* log : {"stdout_log", "stderr_log"}) {
      std::error_code ec;
      if (a.provenance.contains(log) && !fs::exists(a.provenance[log].get<std::string>(), ec)) a.provenance.erase(log);
    }
    provenance["command"] = a.provenance;
    r.provenance = std::move(provenance);
    Json checked = JobResultToJson(r);
    // Not synced here: the daemon syncs it if the coordinator does not
    // acknowledge it soon (worker/spool_sync.h).
    if (Status w = WriteFileAtomic(a.dir + "/result.json", DumpJson(checked, 2) + "\n", Durability::kProcessLifetime);
        !w.ok()) {
      log_->Warn("attempt {}: keeping its result in the spool: {}", id, w.ToString());
    }
    log_->Info("attempt {} finished", id);
    return {id, MsgType::kResult, ResultToJson({id, std::move(checked)}), true};
  }
  if (o.out_of_memory) o.reason = "out of memory: " + o.reason;
  log_->Warn("attempt {} failed ({}): {}", id, FailureKindName(o.kind), o.reason);
  return FailureReport(id, o.kind, o.reason, true, o.out_of_memory);
}

}  // namespace avctl
