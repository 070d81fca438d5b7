#include "worker/daemon.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>

#include <fmt/format.h>
#include <zmq.hpp>

#include "common/file_util.h"
#include "common/protocol.h"
#include "common/subprocess.h"
#include "common/text.h"
#include "common/version.h"
#include "net/zmq_util.h"
#include "worker/store_registry.h"

namespace avctl {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

struct RunningJob {
  pid_t pid = -1;
  std::string dir;
  std::streamoff progress_offset = 0;
  bool cancelled = false;
};

// A finished attempt whose report awaits the coordinator's ack.
struct Pending {
  Pending() = default;
  Pending(MsgType t, Json b) : type(t), body(std::move(b)) {}
  MsgType type = MsgType::kResult;
  Json body;
  std::chrono::steady_clock::time_point sent_at;  // the last send; resent when no ack came for 10 heartbeats
  bool spooled = true;  // kept in an attempt directory (noop results are not: nothing to remove on ack)
};

std::string Hostname() {
  std::array<char, 256> buf{};
  if (::gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

std::string LogTail(const std::string& path, size_t max_bytes) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return "";
  std::string s = *text;
  if (s.size() > max_bytes) s = "..." + s.substr(s.size() - max_bytes);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

}  // namespace

Result<GpuInfo> ParseNvidiaSmiGpu(const std::string& line) {
  std::string_view text_line = line;
  while (!text_line.empty() && (text_line.back() == '\n' || text_line.back() == '\r')) text_line.remove_suffix(1);
  const std::vector<std::string_view> f = SplitOn(Trim(text_line), ',');
  if (f.size() != 3) {
    return Status::InvalidArgument(fmt::format("nvidia-smi: expected \"name, total MiB, free MiB\", got \"{}\"", line));
  }
  GpuInfo g;
  g.name = std::string(Trim(f[0]));
  for (auto [text, out] : {std::pair{Trim(f[1]), &g.total_mb}, std::pair{Trim(f[2]), &g.free_mb}}) {
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return std::isdigit(c); })) {
      return Status::InvalidArgument(fmt::format("nvidia-smi: expected MiB as a whole number, got \"{}\"", text));
    }
    *out = std::stoll(std::string(text));
  }
  if (g.free_mb > g.total_mb) return Status::InvalidArgument("nvidia-smi: free memory above the total");
  return g;
}

GpuInfo QueryGpu(int index) {
  const std::string cmd = fmt::format(
      "nvidia-smi --query-gpu=name,memory.total,memory.free --format=csv,noheader,nounits -i {} 2>/dev/null", index);
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {};
  std::array<char, 512> buf{};
  std::string out;
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  auto g = ParseNvidiaSmiGpu(out);
  return g.ok() ? *g : GpuInfo{};
}

struct WorkerDaemon::Impl {
  Impl(WorkerDaemonOptions o, Logger* l) : opt(std::move(o)), log(l), zctx(1) {}

  Status Run();
  Status Prepare();
  void Connect();
  void Disconnect(const std::string& why);
  void SendMsg(MsgType type, Json body);
  void OnMessage(const WireMessage& m);
  void StartAttempt(const Json& body);
  void LaunchWaiting();
  void Spawn(int64_t attempt, const std::string& dir, const std::string& job_key, const std::string& store_dir);
  void Reap();
  void FinishSleeps();
  void Finish(int64_t attempt, int wait_status);
  void ForwardProgress();
  void AddPending(int64_t attempt, Pending p, bool write_failure_file);
  Json HelloBody();
  std::string AttemptDir(int64_t attempt) const { return (fs::path(opt.work_dir) / "attempts" / std::to_string(attempt)).string(); }

  WorkerDaemonOptions opt;
  Logger* log;
  zmq::context_t zctx;
  std::optional<zmq::socket_t> socket;
  int signal_fd = -1;
  int lock_fd = -1;
  bool connected = false;      // welcome received on the current connection
  bool draining = false;
  bool drain_announced = false;
  Clock::time_point last_heard, last_sent, hello_sent, reconnect_at;
  int backoff_ms = 1000;
  std::map<int64_t, RunningJob> running;
  std::map<int64_t, Pending> pending;
  struct SleepingJob {
    Clock::time_point started, due;
  };
  std::map<int64_t, SleepingJob> sleeping;  // "sleep" jobs (benchmarks)
  struct WaitingJob {
    std::string dir, job_key;
    Json dataset;
  };
  std::map<int64_t, WaitingJob> waiting;  // train jobs whose store is being prepared
  std::unique_ptr<StoreRegistry> stores;  // opened once per daemon, shared by its jobs
  Status fatal;                // set when the coordinator refuses us
};

Status WorkerDaemon::Impl::Prepare() {
  if (opt.worker_id.empty()) return Status::InvalidArgument("a worker id is required").WithField("--id");
  if (opt.work_dir.empty()) return Status::InvalidArgument("a work directory is required").WithField("--work-dir");
  if (opt.store_cache.empty()) opt.store_cache = (fs::path(opt.work_dir) / "stores").string();
  stores = std::make_unique<StoreRegistry>(opt.store_cache, log);
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
      AddPending(attempt, {MsgType::kFailure, *failure}, false);
    } else if (result.ok() && result->value("status", "") == "ok") {
      AddPending(attempt, {MsgType::kResult, {{"attempt_id", attempt}, {"result", *result}}}, false);
    } else {
      AddPending(attempt, {MsgType::kFailure, {{"attempt_id", attempt}, {"kind", FailureKindName(FailureKind::kCrash)},
                                                {"reason", "the worker daemon stopped while the job ran"}}},
                 true);
    }
  }
  if (ec) return Status::IOError(fmt::format("cannot list the spool: {}", ec.message())).WithFile(opt.work_dir);
  if (!pending.empty()) log->Info("{} finished attempt(s) in the spool await acknowledgement", pending.size());

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (::pthread_sigmask(SIG_BLOCK, &set, nullptr) != 0) return Status::Internal("cannot block SIGTERM/SIGINT");
  signal_fd = ::signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (signal_fd < 0) return Status::FromErrno("signalfd", errno);
  return Status::OK();
}

void WorkerDaemon::Impl::AddPending(int64_t attempt, Pending p, bool write_failure_file) {
  if (write_failure_file) {
    if (Status s = WriteJsonFileAtomic(AttemptDir(attempt) + "/failure.json", p.body); !s.ok()) {
      log->Error("keeping the failure of attempt {}: {}", attempt, s.ToString());
    }
  }
  p.sent_at = Clock::now();  // every caller sends it now
  pending[attempt] = std::move(p);
}

Json WorkerDaemon::Impl::HelloBody() {
  Json run = Json::array(), fin = Json::array();
  for (const auto& [a, j] : running) {
    if (!j.cancelled) run.push_back(a);
  }
  for (const auto& [a, sleep] : sleeping) run.push_back(a);
  for (const auto& [a, w] : waiting) run.push_back(a);
  for (const auto& [a, p] : pending) fin.push_back(a);
  return {{"protocol", kProtocolVersion}, {"worker_id", opt.worker_id}, {"device", opt.device},
          {"slots", opt.slots}, {"gpu_name", opt.gpu_name}, {"gpu_memory_mb", opt.gpu_memory_mb},
          {"gpu_free_mb", opt.gpu_free_mb},
          {"hostname", Hostname()}, {"pid", ::getpid()}, {"version", CodeVersion()}, {"mode", opt.mode},
          {"labels", opt.labels}, {"running", run}, {"finished", fin}};
}

void WorkerDaemon::Impl::Connect() {
  socket.emplace(zctx, zmq::socket_type::dealer);
  ConfigureSocket(*socket, 0);
  if (!opt.curve_server_public.empty()) MakeCurveClient(*socket, opt.curve_server_public, opt.curve_keys);
  socket->connect(opt.coordinator);
  connected = false;
  hello_sent = last_heard = Clock::now();
  SendMsg(MsgType::kHello, HelloBody());
  log->Debug("hello sent to {}", opt.coordinator);
}

void WorkerDaemon::Impl::Disconnect(const std::string& why) {
  socket.reset();
  connected = false;
  reconnect_at = Clock::now() + std::chrono::milliseconds(backoff_ms);
  log->Warn("{}; reconnecting to {} in {} ms", why, opt.coordinator, backoff_ms);
  backoff_ms = std::min(backoff_ms * 2, opt.max_backoff_ms);
}

void WorkerDaemon::Impl::SendMsg(MsgType type, Json body) {
  if (!socket) return;
  if (Status s = SendFrames(*socket, EncodeWorkerMessage({type, std::move(body)})); !s.ok()) {
    log->Warn("sending {}: {}", MsgTypeName(type), s.ToString());
    return;
  }
  last_sent = Clock::now();
}

void WorkerDaemon::Impl::OnMessage(const WireMessage& m) {
  switch (m.type) {
    case MsgType::kWelcome:
      connected = true;
      backoff_ms = 1000;
      opt.heartbeat_ms = static_cast<int>(m.body["heartbeat_ms"].get<int64_t>());
      opt.liveness = static_cast<int>(m.body["liveness"].get<int64_t>());
      log->Info("connected to {} (heartbeat {} ms, liveness {})", opt.coordinator, opt.heartbeat_ms, opt.liveness);
      for (auto& [a, p] : pending) {
        SendMsg(p.type, p.body);
        p.sent_at = Clock::now();
      }
      if (draining) {
        SendMsg(MsgType::kDrain, Json::object());
      } else {
        SendMsg(MsgType::kReady, Json::object());
      }
      break;
    case MsgType::kRefused:
      log->Error("refused by the coordinator: {}", m.body["reason"].get<std::string>());
      fatal = Status::FailedPrecondition("refused by the coordinator: " + m.body["reason"].get<std::string>());
      connected = false;
      socket.reset();
      break;
    case MsgType::kJob:
      StartAttempt(m.body);
      break;
    case MsgType::kAck: {
      const int64_t a = m.body["attempt_id"].get<int64_t>();
      auto it = pending.find(a);
      if (it != pending.end()) {
        const bool spooled = it->second.spooled;
        pending.erase(it);
        std::error_code ec;
        if (spooled) fs::remove_all(AttemptDir(a), ec);
        if (ec) log->Warn("removing the spool of attempt {}: {}", a, ec.message());
      }
      break;
    }
    case MsgType::kCancel: {
      const int64_t a = m.body["attempt_id"].get<int64_t>();
      auto it = running.find(a);
      if (it != running.end() && !it->second.cancelled) {
        it->second.cancelled = true;
        ::kill(-it->second.pid, SIGKILL);
        log->Info("attempt {} cancelled by the coordinator", a);
      }
      if (pending.erase(a) != 0) {
        std::error_code ec;
        fs::remove_all(AttemptDir(a), ec);
      }
      sleeping.erase(a);
      waiting.erase(a);
      break;
    }
    case MsgType::kDrain:
      if (!draining) log->Info("drain requested by the coordinator: finishing {} running job(s)", running.size());
      draining = true;
      break;
    case MsgType::kReconnect:
      log->Info("the coordinator asks for a new hello: {}", m.body["reason"].get<std::string>());
      socket.reset();
      Connect();
      break;
    case MsgType::kHeartbeat:
      break;
    default:
      log->Warn("unexpected {} from the coordinator", MsgTypeName(m.type));
  }
}

void WorkerDaemon::Impl::StartAttempt(const Json& body) {
  const int64_t attempt = body["attempt_id"].get<int64_t>();
  if (running.count(attempt) || pending.count(attempt) || sleeping.count(attempt) || waiting.count(attempt)) {
    return;  // a repeated dispatch
  }
  auto fail_now = [&](FailureKind kind, const std::string& reason) {
    AddPending(attempt, {MsgType::kFailure, {{"attempt_id", attempt}, {"kind", FailureKindName(kind)},
                                              {"reason", reason}}}, true);
    SendMsg(MsgType::kFailure, pending[attempt].body);
  };
  if (draining) {
    SendMsg(MsgType::kFailure, {{"attempt_id", attempt}, {"kind", FailureKindName(FailureKind::kWorker)},
                                {"reason", "the worker is draining"}});
    return;
  }
  if (opt.mode == "noop") {
    Json result = {{"status", "ok"}, {"noop", true}, {"compute_seconds", 0.0},
                   {"test", {{"metrics", {{"macro_f1", 0.0}, {"accuracy", 0.0}}}}}};
    Pending p(MsgType::kResult, {{"attempt_id", attempt}, {"result", result}});
    p.spooled = false;
    AddPending(attempt, std::move(p), false);
    SendMsg(MsgType::kResult, pending[attempt].body);
    return;
  }
  auto job = ReadJobMessage(body);
  if (!job.ok()) {
    std::error_code ec;
    fs::create_directories(AttemptDir(attempt), ec);
    fail_now(FailureKind::kJob, job.status().ToString());
    return;
  }
  if (job->kind == JobKind::kSleep) {  // benchmarks of the scheduling overhead: no process, no files
    sleeping[attempt] = {Clock::now(), Clock::now() + std::chrono::microseconds(
                                                         static_cast<int64_t>(job->sleep_seconds * 1e6))};
    return;
  }
  const std::string dir = AttemptDir(attempt);
  std::error_code ec;
  fs::create_directories(dir, ec);
  Status s = ec ? Status::IOError(ec.message()).WithFile(dir) : Status::OK();
  if (s.ok()) s = WriteFileAtomic(dir + "/job.json", job->job);  // as stored: its "key" is job_key
  auto dataset = ParseJson(job->dataset, "job.dataset");
  if (s.ok() && !dataset.ok()) s = dataset.status();
  if (s.ok()) s = WriteJsonFileAtomic(dir + "/dataset.json", *dataset);
  if (!s.ok()) {
    fail_now(FailureKind::kWorker, s.ToString());
    return;
  }
  waiting[attempt] = WaitingJob{dir, job->job_key, std::move(*dataset)};
  LaunchWaiting();
}

// Starts the jobs whose store is ready (and fails those whose store cannot be
// prepared here); the others keep waiting.
void WorkerDaemon::Impl::LaunchWaiting() {
  stores->Poll();
  std::vector<std::string> failed_keys;
  for (auto it = waiting.begin(); it != waiting.end();) {
    const StoreRegistry::Lookup l = stores->Get(it->second.dataset);
    if (l.state == StoreRegistry::State::kPreparing) {
      ++it;
      continue;
    }
    const int64_t attempt = it->first;
    WaitingJob w = std::move(it->second);
    it = waiting.erase(it);
    if (l.state == StoreRegistry::State::kReady) {
      Spawn(attempt, w.dir, w.job_key, l.dir);
      continue;
    }
    // A bad dataset spec fails the same everywhere ("job"); a store this
    // machine cannot build or read is the worker's ("worker").
    const char* kind = FailureKindName(l.error.code() == StatusCode::kInvalidArgument ? FailureKind::kJob
                                                                                        : FailureKind::kWorker);
    log->Warn("attempt {}: its store cannot be prepared: {}", attempt, l.error.ToString());
    AddPending(attempt, {MsgType::kFailure, {{"attempt_id", attempt}, {"kind", kind},
                                              {"reason", l.error.ToString()}}}, true);
    SendMsg(MsgType::kFailure, pending[attempt].body);
    failed_keys.push_back(StoreRegistry::Key(w.dataset));
  }
  for (const auto& key : failed_keys) stores->Forget(key);  // the next job tries again
}

void WorkerDaemon::Impl::Spawn(int64_t attempt, const std::string& dir, const std::string& job_key,
                               const std::string& store_dir) {
  // The daemon verified the store when it opened it (StoreRegistry).
  std::vector<std::string> args = {opt.trainer_exe, "train", "--job", dir + "/job.json", "--store", store_dir,
                                   "--no-verify", "--out", dir + "/result.json",
                                   "--progress", dir + "/progress.jsonl", "--threads",
                                   std::to_string(opt.threads_per_job), "--device", opt.device};
  SpawnOptions o;
  o.parent_death_signal = SIGKILL;  // the job dies with its daemon
  o.truncate_log = true;
  auto pid = SpawnLogged(args, dir + "/log.txt", o);
  if (!pid.ok()) {
    AddPending(attempt, {MsgType::kFailure, {{"attempt_id", attempt}, {"kind", FailureKindName(FailureKind::kWorker)},
                                              {"reason", pid.status().ToString()}}}, true);
    SendMsg(MsgType::kFailure, pending[attempt].body);
    return;
  }
  running[attempt] = RunningJob{*pid, dir, 0, false};
  log->Info("attempt {} ({}) started as pid {}", attempt, job_key, *pid);
}

void WorkerDaemon::Impl::FinishSleeps() {
  const auto now = Clock::now();
  for (auto it = sleeping.begin(); it != sleeping.end();) {
    if (it->second.due > now) {
      ++it;
      continue;
    }
    const int64_t attempt = it->first;
    const double slept = std::chrono::duration<double>(now - it->second.started).count();
    it = sleeping.erase(it);
    Json result = {{"status", "ok"}, {"sleep", true}, {"compute_seconds", slept}, {"test", {{"metrics", Json::object()}}}};
    AddPending(attempt, {MsgType::kResult, {{"attempt_id", attempt}, {"result", result}}}, false);
    SendMsg(MsgType::kResult, pending[attempt].body);
  }
}

void WorkerDaemon::Impl::Reap() {
  for (auto it = running.begin(); it != running.end();) {
    int status = 0;
    pid_t r = ::waitpid(it->second.pid, &status, WNOHANG);
    if (r == it->second.pid) {
      const int64_t attempt = it->first;
      ForwardProgress();
      RunningJob job = it->second;
      it = running.erase(it);
      if (job.cancelled) {
        std::error_code ec;
        fs::remove_all(job.dir, ec);
        continue;
      }
      Finish(attempt, status);
    } else {
      ++it;
    }
  }
}

void WorkerDaemon::Impl::Finish(int64_t attempt, int status) {
  const std::string dir = AttemptDir(attempt);
  auto result = ReadJsonFile(dir + "/result.json");
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && result.ok() && result->value("status", "") == "ok") {
    log->Info("attempt {} finished", attempt);
    AddPending(attempt, {MsgType::kResult, {{"attempt_id", attempt}, {"result", std::move(*result)}}}, false);
  } else {
    Json failure = {{"attempt_id", attempt}};
    if (result.ok() && result->value("status", "") == "failed") {
      failure["kind"] = result->value("kind", FailureKindName(FailureKind::kJob));
      failure["reason"] = result->value("reason", "the trainer failed without a reason");
    } else if (WIFSIGNALED(status) && draining && (WTERMSIG(status) == SIGTERM || WTERMSIG(status) == SIGKILL)) {
      // The stop reached the job too (scancel signals every process of the
      // Slurm step): the worker went away, the job itself did not crash.
      failure["kind"] = FailureKindName(FailureKind::kWorker);
      failure["reason"] = fmt::format("the worker was stopping and its job's process got signal {} ({}) as well",
                                      WTERMSIG(status), strsignal(WTERMSIG(status)));
    } else if (WIFSIGNALED(status)) {
      const int sig = WTERMSIG(status);
      failure["kind"] = FailureKindName(FailureKind::kCrash);
      failure["reason"] = fmt::format("the job's process was killed by signal {} ({}){}; log tail: {}", sig,
                                      strsignal(sig), sig == SIGKILL ? ", often the kernel's out-of-memory killer" : "",
                                      LogTail(dir + "/log.txt", 400));
    } else {
      failure["kind"] = FailureKindName(FailureKind::kCrash);
      failure["reason"] = fmt::format("the job's process exited with code {} without a result; log tail: {}",
                                      WIFEXITED(status) ? WEXITSTATUS(status) : -1, LogTail(dir + "/log.txt", 400));
    }
    log->Warn("attempt {} failed ({}): {}", attempt, failure["kind"].get<std::string>(),
              failure["reason"].get<std::string>());
    AddPending(attempt, {MsgType::kFailure, failure}, true);
  }
  SendMsg(pending[attempt].type, pending[attempt].body);
}

void WorkerDaemon::Impl::ForwardProgress() {
  for (auto& [attempt, job] : running) {
    std::ifstream in(job.dir + "/progress.jsonl");
    if (!in) continue;
    in.seekg(job.progress_offset);
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) break;  // a partial last line: read it next time
      job.progress_offset = in.tellg();
      Json p = Json::parse(line, nullptr, false);
      if (p.is_discarded() || !p.is_object() || !p.contains("epoch")) continue;
      p["attempt_id"] = attempt;
      SendMsg(MsgType::kProgress, p);
    }
  }
}

Status WorkerDaemon::Impl::Run() {
  AVCTL_RETURN_IF_ERROR(Prepare());
  log->Info("worker {} ({} slot(s), {}, mode {}) serving {}", opt.worker_id, opt.slots, opt.device, opt.mode,
            opt.coordinator);
  reconnect_at = Clock::now();
  {
    while (true) {
      const auto now = Clock::now();
      if (!socket && now >= reconnect_at) Connect();
      std::vector<zmq::pollitem_t> items = {{nullptr, signal_fd, ZMQ_POLLIN, 0}};
      if (socket) items.push_back({socket->handle(), 0, ZMQ_POLLIN, 0});
      auto timeout = std::chrono::milliseconds(running.empty() && waiting.empty() ? 100 : 50);
      for (const auto& [a, sleep] : sleeping) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(sleep.due - Clock::now()) +
                          std::chrono::milliseconds(1);
        timeout = std::max(std::chrono::milliseconds(0), std::min(timeout, left));
      }
      zmq::poll(items.data(), items.size(), timeout);
      if (items[0].revents & ZMQ_POLLIN) {
        signalfd_siginfo info;
        while (::read(signal_fd, &info, sizeof(info)) == sizeof(info)) {
          if (!draining) log->Info("signal {}: draining ({} running job(s))", info.ssi_signo, running.size());
          draining = true;
        }
      }
      if (socket && items.size() > 1 && (items[1].revents & ZMQ_POLLIN)) {
        while (socket) {
          auto frames = RecvFrames(*socket, false);
          if (!frames) break;
          last_heard = Clock::now();
          auto m = DecodeWorkerMessage(*frames);
          if (!m.ok()) {
            log->Warn("bad message from the coordinator: {}", m.status().ToString());
            continue;
          }
          OnMessage(*m);
        }
      }
      if (!fatal.ok()) {
        for (auto& [a, job] : running) ::kill(-job.pid, SIGKILL);
        return fatal;
      }
      Reap();
      if (!waiting.empty()) LaunchWaiting();
      FinishSleeps();
      ForwardProgress();
      const auto t = Clock::now();
      const auto hb = std::chrono::milliseconds(opt.heartbeat_ms);
      if (socket) {
        if (draining && !drain_announced && connected) {
          SendMsg(MsgType::kDrain, Json::object());
          drain_announced = true;
        }
        if (connected && t - last_sent >= hb) SendMsg(MsgType::kHeartbeat, Json::object());
        if (connected) {  // an ack may have been lost: resend what has waited 10 heartbeats for one
          for (auto& [a, p] : pending) {
            if (t - p.sent_at < 10 * hb) continue;
            SendMsg(p.type, p.body);
            p.sent_at = t;
          }
        }
        if (t - last_heard > hb * opt.liveness) {
          Disconnect(connected ? "the coordinator went silent" : "no welcome from the coordinator");
        }
      }
      if (draining && running.empty() && sleeping.empty() && waiting.empty() && (pending.empty() || !connected)) {
        if (connected) {
          socket->set(zmq::sockopt::linger, 1000);  // the bye leaves before the socket closes
          SendMsg(MsgType::kBye, Json::object());
        }
        log->Info("drained: {} unacknowledged result(s) stay in {}", pending.size(), opt.work_dir);
        return Status::OK();
      }
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
