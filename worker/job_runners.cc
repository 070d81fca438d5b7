#include "worker/job_runners.h"

#include <signal.h>
#include <sys/statvfs.h>
#include <sys/wait.h>

#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "common/job_result.h"
#include "common/progress_event.h"
#include "common/checksum.h"
#include "common/file_util.h"
#include "common/subprocess.h"

namespace avctl {

namespace fs = std::filesystem;

namespace {

std::string LogTail(const std::string& path, size_t max_bytes) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return "";
  std::string s = *text;
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Why a job may have failed for want of disk on this worker: its log says
// ENOSPC, or its spool's file system has under 1 MiB free. "" otherwise.
std::string FullDiskNote(const std::string& dir) {
  struct statvfs v {};
  if (::statvfs(dir.c_str(), &v) == 0) {
    const double free_bytes = static_cast<double>(v.f_bavail) * static_cast<double>(v.f_frsize);
    if (free_bytes < 1024.0 * 1024.0) {
      return fmt::format("the worker's spool disk is full ({}: {:.0f} bytes free)", dir, free_bytes);
    }
  }
  if (LogTail(dir + "/log.txt", 4000).find("No space left on device") != std::string::npos) {
    return "a disk of the worker is full (the job's log says \"No space left on device\")";
  }
  return "";
}

}  // namespace

AttemptReport FailureReport(int64_t attempt, FailureKind kind, const std::string& reason, bool spooled,
                            bool out_of_memory) {
  return {attempt, MsgType::kFailure, FailureToJson({attempt, kind, reason, out_of_memory}), spooled};
}

Result<Json> ReadProgressLine(const std::string& line, const std::string& where) {
  AVCTL_ASSIGN_OR_RETURN(Json p, ParseJson(line, where));
  AVCTL_ASSIGN_OR_RETURN(ProgressEvent e, ParseProgress(p, where));
  return ProgressToJson(e);
}

// ---- train ----

std::string CheckpointFolderName(const std::string& job_key) {
  std::string safe;
  for (char c : job_key) safe += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '=' ? c : '_';
  if (safe.size() > 120) safe.resize(120);
  Checksummer sum;
  sum.Update(job_key.data(), job_key.size());
  return fmt::format("{}-{:08x}", safe, static_cast<uint32_t>(sum.Digest64()));
}

std::string TrainRunner::CheckpointDir(int64_t attempt) const {
  auto it = attempts_.find(attempt);
  return it == attempts_.end() ? "" : it->second.checkpoint_dir;
}

TrainRunner::TrainRunner(TrainRunnerOptions options, StoreRegistry* stores, Logger* log)
    : opt_(std::move(options)), stores_(stores), log_(log) {}

std::string TrainRunner::AttemptDir(int64_t attempt) const {
  return (fs::path(opt_.spool) / std::to_string(attempt)).string();
}

std::optional<AttemptReport> TrainRunner::Start(const JobMessage& job) {
  const int64_t attempt = job.attempt_id;
  if (attempts_.count(attempt)) return std::nullopt;  // a repeated dispatch
  const std::string dir = AttemptDir(attempt);
  std::error_code ec;
  fs::create_directories(dir, ec);
  Status s = ec ? Status::IOError(ec.message()).WithFile(dir) : Status::OK();
  if (s.ok()) s = WriteFileAtomic(dir + "/job.json", job.job);  // as stored: its "key" is job_key
  auto dataset = ParseJson(job.dataset, "job.dataset");
  if (s.ok() && !dataset.ok()) s = dataset.status();
  if (s.ok()) s = WriteJsonFileAtomic(dir + "/dataset.json", *dataset);
  if (!s.ok()) return FailureReport(attempt, FailureKind::kWorker, s.ToString(), !ec);
  // The job's own checkpoint folder (docs/PROTOCOL.md, "Checkpoints").
  std::string root = opt_.checkpoint_root;
  if (root.empty()) {
    const Json config = Json::parse(job.job, nullptr, /*allow_exceptions=*/false);
    if (config.is_object() && config.contains("checkpoint_dir") && config["checkpoint_dir"].is_string()) {
      root = config["checkpoint_dir"].get<std::string>();
    }
  }
  if (root.empty()) root = opt_.default_checkpoint_root;
  Attempt& a = attempts_[attempt];
  a.dir = dir;
  a.job_key = job.job_key;
  a.dataset = std::move(*dataset);
  if (!root.empty()) a.checkpoint_dir = (fs::path(root) / CheckpointFolderName(job.job_key)).string();
  a.resume = job.resume;
  return std::nullopt;  // launched by the next Poll, once its store is ready
}

std::vector<int64_t> TrainRunner::Holding() const {
  std::vector<int64_t> out;
  for (const auto& [id, a] : attempts_) {
    if (a.phase != Phase::kCancelled) out.push_back(id);
  }
  return out;
}

bool TrainRunner::Cancel(int64_t attempt) {
  auto it = attempts_.find(attempt);
  if (it == attempts_.end() || it->second.phase == Phase::kCancelled) return false;
  if (it->second.phase == Phase::kWaitingForStore) {
    std::error_code ec;
    fs::remove_all(it->second.dir, ec);
    attempts_.erase(it);
    return true;
  }
  it->second.phase = Phase::kCancelled;  // reaped, then forgotten, by Poll
  ::kill(-it->second.pid, SIGKILL);
  return true;
}

void TrainRunner::Preempt(std::chrono::milliseconds grace) {
  if (kill_at_) return;
  draining_ = true;
  kill_at_ = Clock::now() + grace;
  for (auto& [id, a] : attempts_) {
    if (a.phase == Phase::kRunning) ::kill(-a.pid, SIGTERM);
  }
}

std::vector<pid_t> TrainRunner::ChildPids() const {
  std::vector<pid_t> out;
  for (const auto& [id, a] : attempts_) {
    if (a.pid > 0) out.push_back(a.pid);
  }
  return out;
}

void TrainRunner::KillAll() {
  for (auto& [id, a] : attempts_) {
    if (a.pid > 0) ::kill(-a.pid, SIGKILL);
  }
}

// Starts the attempts whose store is ready and fails those whose store
// cannot be prepared here; the others keep waiting.
void TrainRunner::Launch(std::vector<AttemptReport>* out) {
  bool waiting = false;
  for (const auto& [id, a] : attempts_) waiting |= a.phase == Phase::kWaitingForStore;
  if (!waiting) return;
  stores_->Poll();
  std::vector<std::string> failed_keys;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    Attempt& a = it->second;
    const int64_t attempt = it->first;
    if (a.phase != Phase::kWaitingForStore) {
      ++it;
      continue;
    }
    const StoreRegistry::Lookup l = stores_->Get(a.dataset);
    if (l.state == StoreRegistry::State::kPreparing) {
      ++it;
      continue;
    }
    if (l.state == StoreRegistry::State::kReady) {
      if (auto failed = Spawn(attempt, a, l.dir)) {
        out->push_back(std::move(*failed));
        it = attempts_.erase(it);
      } else {
        ++it;
      }
      continue;
    }
    // A bad dataset spec fails the same everywhere (a job failure); a store
    // this machine cannot build or read is the worker's.
    const FailureKind kind =
        l.error.code() == StatusCode::kInvalidArgument ? FailureKind::kJob : FailureKind::kWorker;
    log_->Warn("attempt {}: its store cannot be prepared: {}", attempt, l.error.ToString());
    out->push_back(FailureReport(attempt, kind, l.error.ToString(), true));
    failed_keys.push_back(StoreRegistry::Key(a.dataset));
    it = attempts_.erase(it);
  }
  for (const auto& key : failed_keys) stores_->Forget(key);  // the next job tries again
}

std::optional<AttemptReport> TrainRunner::Spawn(int64_t attempt, Attempt& a, const std::string& store_dir) {
  // The daemon verified the store when it opened it (StoreRegistry).
  std::vector<std::string> args = {opt_.trainer_exe, "train", "--job", a.dir + "/job.json", "--store", store_dir,
                                   "--no-verify", "--out", a.dir + "/result.json",
                                   "--progress", a.dir + "/progress.jsonl", "--threads",
                                   std::to_string(opt_.threads_per_job), "--device", opt_.device,
                                   "--attempt", std::to_string(attempt)};
  if (!a.checkpoint_dir.empty()) {
    // The daemon removes them when the coordinator has stored the result
    // (the ack says so), not the trainer when it writes it.
    if (Status w = WriteFileAtomic(a.dir + "/" + kCheckpointDirFile, a.checkpoint_dir); !w.ok()) {
      return FailureReport(attempt, FailureKind::kWorker, w.ToString(), true);
    }
    args.insert(args.end(), {"--checkpoint-dir", a.checkpoint_dir, "--keep-checkpoints"});
    if (a.resume) args.insert(args.end(), {"--resume-hint", a.resume->path});
  }
  SpawnOptions o;
  o.parent_death_signal = SIGKILL;  // the job dies with its daemon
  o.truncate_log = true;
  auto pid = SpawnLogged(args, a.dir + "/log.txt", o);
  if (!pid.ok()) return FailureReport(attempt, FailureKind::kWorker, pid.status().ToString(), true);
  a.pid = *pid;
  a.phase = Phase::kRunning;
  log_->Info("attempt {} ({}) started as pid {}", attempt, a.job_key, *pid);
  return std::nullopt;
}

std::vector<AttemptReport> TrainRunner::Poll(const std::function<void(Json)>& progress) {
  std::vector<AttemptReport> out;
  if (kill_at_) {
    const bool overdue = Clock::now() >= *kill_at_;
    for (auto it = attempts_.begin(); it != attempts_.end();) {
      if (it->second.phase == Phase::kWaitingForStore) {  // nothing trained yet: back to the queue
        out.push_back(FailureReport(it->first, FailureKind::kPreempted, "the worker stopped before the job started",
                                    true));
        it = attempts_.erase(it);
        continue;
      }
      if (overdue && it->second.phase == Phase::kRunning && !it->second.killed) {
        ::kill(-it->second.pid, SIGKILL);
        it->second.killed = true;
      }
      ++it;
    }
  }
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    Attempt& a = it->second;
    if (a.phase == Phase::kWaitingForStore) {
      ++it;
      continue;
    }
    int status = 0;
    const pid_t r = ::waitpid(a.pid, &status, WNOHANG);
    if (a.phase == Phase::kRunning) {
      ForwardProgressFile(a.dir + "/progress.jsonl", it->first, &a.progress_offset, &a.bad_progress_lines, log_,
                          progress);
    }
    if (r != a.pid) {
      ++it;
      continue;
    }
    if (a.phase == Phase::kCancelled) {
      std::error_code ec;
      fs::remove_all(a.dir, ec);
    } else {
      out.push_back(Finish(it->first, a, status));
    }
    it = attempts_.erase(it);
  }
  Launch(&out);
  return out;
}

AttemptReport TrainRunner::Finish(int64_t attempt, const Attempt& a, int status) {
  const std::string result_file = a.dir + "/result.json";
  Result<JobResult> result = Status::NotFound("no result");
  if (fs::exists(result_file)) {
    ResultParseOptions options;
    options.path = result_file;
    auto json = ReadJsonFile(result_file);
    result = json.ok() ? ParseJobResult(*json, options) : Result<JobResult>(json.status());
  }
  const bool exited_0 = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (exited_0 && result.ok() && result->status == ResultStatus::kOk) {
    log_->Info("attempt {} finished", attempt);
    return {attempt, MsgType::kResult, ResultToJson({attempt, JobResultToJson(*result)}), true};
  }
  FailureKind kind = FailureKind::kCrash;
  std::string reason;
  bool out_of_memory = false;
  if (result.ok() && result->status == ResultStatus::kPreempted) {
    kind = FailureKind::kPreempted;
    reason = result->reason.empty() ? "stopped on request" : result->reason;
  } else if (kill_at_ && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
    kind = FailureKind::kPreempted;
    reason = "did not stop at a batch boundary within the stop timeout and was killed; it resumes from its last "
             "epoch checkpoint";
  } else if (result.ok() && result->status == ResultStatus::kFailed) {
    kind = result->failure_kind;
    reason = result->reason.empty() ? "the trainer failed without a reason" : result->reason;
    out_of_memory = result->out_of_memory;
  } else if (exited_0 && !result.ok() && result.status().code() != StatusCode::kNotFound) {
    // A result the trainer wrote but that cannot be read: its software is
    // at fault here, so another worker may do better.
    kind = FailureKind::kWorker;
    reason = fmt::format("the job's process exited with code 0 but its result is unusable: {}",
                         result.status().ToString());
  } else if (WIFSIGNALED(status) && draining_ && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)) {
    // The stop reached the job too (scancel signals every process of the
    // Slurm step): the worker went away, the job itself did not crash.
    kind = FailureKind::kWorker;
    reason = fmt::format("the worker was stopping and its job's process got signal {} ({}) as well",
                         WTERMSIG(status), strsignal(WTERMSIG(status)));
  } else if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    reason = fmt::format("the job's process was killed by signal {} ({}){}; log tail: {}", sig, strsignal(sig),
                         sig == SIGKILL ? ", often the kernel's out-of-memory killer" : "",
                         LogTail(a.dir + "/log.txt", 400));
  } else if (const std::string full = FullDiskNote(a.dir); !full.empty()) {
    // The job could not write its result (or its checkpoint) here: this
    // worker's fault, so the job is retried elsewhere instead of failing.
    kind = FailureKind::kWorker;
    reason = fmt::format("the job's process exited with code {} without a result: {}; log tail: {}",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, full, LogTail(a.dir + "/log.txt", 400));
  } else {
    reason = fmt::format("the job's process exited with code {} without a result; log tail: {}",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1, LogTail(a.dir + "/log.txt", 400));
  }
  log_->Warn("attempt {} failed ({}): {}", attempt, FailureKindName(kind), reason);
  return FailureReport(attempt, kind, reason, true, out_of_memory);
}

void ForwardProgressFile(const std::string& path, int64_t attempt, std::streamoff* offset, int* bad_lines,
                         Logger* log, const std::function<void(Json)>& progress) {
  std::ifstream in(path);
  if (!in) return;
  in.seekg(*offset);
  std::string line;
  while (std::getline(in, line)) {
    if (in.eof()) break;  // a partial last line: read it next time
    const auto at = *offset;
    *offset = in.tellg();
    auto p = ReadProgressLine(line, fmt::format("{} at byte {}", path, static_cast<int64_t>(at)));
    if (!p.ok()) {
      // Not forwarded (the coordinator would refuse it too), but not silent:
      // the program wrote something it should not have.
      ++*bad_lines;
      log->Warn("attempt {}: progress line skipped: {}", attempt, p.status().ToString());
      continue;
    }
    (*p)["attempt_id"] = attempt;
    progress(std::move(*p));
  }
}

// ---- sleep ----

std::optional<AttemptReport> SleepRunner::Start(const JobMessage& job) {
  if (sleeping_.count(job.attempt_id)) return std::nullopt;
  const auto now = Clock::now();
  sleeping_[job.attempt_id] = {now, now + std::chrono::microseconds(static_cast<int64_t>(job.sleep_seconds * 1e6))};
  return std::nullopt;
}

std::vector<AttemptReport> SleepRunner::Poll(const std::function<void(Json)>&) {
  std::vector<AttemptReport> out;
  const auto now = Clock::now();
  for (auto it = sleeping_.begin(); it != sleeping_.end();) {
    if (it->second.due > now) {
      ++it;
      continue;
    }
    const int64_t attempt = it->first;
    const double slept = std::chrono::duration<double>(now - it->second.started).count();
    Json result = {{"status", "ok"}, {"sleep", true}, {"compute_seconds", slept},
                   {"test", {{"metrics", Json::object()}}}};
    out.push_back({attempt, MsgType::kResult, ResultToJson({attempt, std::move(result)}), false});
    it = sleeping_.erase(it);
  }
  return out;
}

std::vector<int64_t> SleepRunner::Holding() const {
  std::vector<int64_t> out;
  for (const auto& [a, s] : sleeping_) out.push_back(a);
  return out;
}

std::optional<JobRunner::Clock::time_point> SleepRunner::NextDue() const {
  std::optional<Clock::time_point> due;
  for (const auto& [a, s] : sleeping_) {
    if (!due || s.due < *due) due = s.due;
  }
  return due;
}

// ---- noop ----

std::optional<AttemptReport> NoopRunner::Start(const JobMessage& job) {
  Json result = {{"status", "ok"}, {"noop", true}, {"compute_seconds", 0.0},
                 {"test", {{"metrics", {{"macro_f1", 0.0}, {"accuracy", 0.0}}}}}};
  return AttemptReport{job.attempt_id, MsgType::kResult,
                       ResultToJson({job.attempt_id, std::move(result)}), false};
}

}  // namespace avctl
