#include "cli/local_cluster.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

#include "common/file_util.h"
#include "common/subprocess.h"
#include "common/json_util.h"

namespace avctl::cli {

namespace fs = std::filesystem;

namespace {

std::string Tail(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return "";
  std::string s = *text;
  if (s.size() > 600) s = "..." + s.substr(s.size() - 600);
  return s;
}

// Waits up to timeout_ms for pid; true and *status if it exited.
bool WaitFor(pid_t pid, int timeout_ms, int* status) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0) return true;  // not our child any more
    if (std::chrono::steady_clock::now() >= end) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace

Result<LocalCluster::Child> LocalCluster::Spawn(const std::string& name, const std::vector<std::string>& args) {
  Child c;
  c.name = name;
  c.log_path = (fs::path(opt_.run_dir) / "logs" / (name + ".log")).string();
  // avctl killed: its local cluster stops too. Its own process group: a
  // Ctrl-C reaches avctl, which stops the cluster in order.
  SpawnOptions o;
  o.parent_death_signal = SIGTERM;
  AVCTL_ASSIGN_OR_RETURN(c.pid, SpawnLogged(args, c.log_path, o));
  return c;
}

Status LocalCluster::Start() {
  std::error_code ec;
  fs::create_directories(fs::path(opt_.run_dir) / "logs", ec);
  if (ec) return Status::IOError(fmt::format("cannot create the run directory: {}", ec.message())).WithFile(opt_.run_dir);
  db_ = (fs::path(opt_.run_dir) / "avctl.db").string();
  const std::string endpoints = (fs::path(opt_.run_dir) / "endpoints.json").string();
  fs::remove(endpoints, ec);
  const std::string avcoord = (fs::path(opt_.bin_dir) / "avcoord").string();
  const std::string avworker = (fs::path(opt_.bin_dir) / "avworker").string();
  for (const auto& exe : {avcoord, avworker}) {
    if (::access(exe.c_str(), X_OK) != 0) {
      return Status::NotFound("not found or not executable (build the project first)").WithFile(exe);
    }
  }
  AVCTL_ASSIGN_OR_RETURN(coordinator_, Spawn("avcoord", {avcoord, "--db", db_, "--workers", "tcp://127.0.0.1:*",
                                                         "--control", "tcp://127.0.0.1:*", "--http",
                                                         std::to_string(opt_.http_port),
                                                         "--heartbeat-ms", std::to_string(opt_.heartbeat_ms),
                                                         "--grace-ms", "2000", "--endpoints-file", endpoints}));
  Json ep;
  for (int i = 0;; ++i) {
    auto j = ReadJsonFile(endpoints);
    if (j.ok()) {
      ep = *j;
      break;
    }
    int status = 0;
    if (WaitFor(coordinator_.pid, 50, &status)) {
      coordinator_.pid = -1;
      return Status::FailedPrecondition(fmt::format("avcoord exited at start; its log ({}):\n{}", coordinator_.log_path,
                                                    Tail(coordinator_.log_path)));
    }
    if (i > 400) return Status::IOError("avcoord did not start listening within 20 s").WithFile(coordinator_.log_path);
  }
  control_ = ep.value("control", "");
  http_ = ep.value("http", "");
  for (int i = 1; i <= opt_.workers; ++i) {
    const std::string id = fmt::format("local-{}", i);
    std::vector<std::string> args = {avworker, "serve", "--coordinator", ep.value("workers", ""), "--id", id,
                                     "--work-dir", (fs::path(opt_.run_dir) / "workers" / id).string(), "--cache",
                                     (fs::path(opt_.run_dir) / "stores").string(), "--slots",
                                     std::to_string(opt_.slots_per_worker), "--threads",
                                     std::to_string(opt_.threads_per_job), "--device", "cpu"};
    if (opt_.noop_workers) args.push_back("--noop");
    AVCTL_ASSIGN_OR_RETURN(Child w, Spawn(id, args));
    workers_.push_back(w);
  }
  log_->Info("local cluster: coordinator {} ({}), {} worker(s); logs in {}/logs", control_, http_, opt_.workers,
             opt_.run_dir);
  return Status::OK();
}

Status LocalCluster::CheckAlive() {
  for (Child* c : {&coordinator_}) {
    int status = 0;
    if (c->pid > 0 && ::waitpid(c->pid, &status, WNOHANG) == c->pid) {
      c->pid = -1;
      return Status::FailedPrecondition(fmt::format("{} exited unexpectedly; its log ({}):\n{}", c->name, c->log_path,
                                                    Tail(c->log_path)));
    }
  }
  size_t alive = 0;
  for (auto& w : workers_) {
    int status = 0;
    if (w.pid > 0 && ::waitpid(w.pid, &status, WNOHANG) == w.pid) {
      log_->Warn("worker {} exited (status {}); see {}", w.name, status, w.log_path);
      w.pid = -1;
    }
    if (w.pid > 0) ++alive;
  }
  if (!workers_.empty() && alive == 0) {
    return Status::FailedPrecondition(fmt::format("every local worker exited; the last log ({}):\n{}",
                                                  workers_.back().log_path, Tail(workers_.back().log_path)));
  }
  return Status::OK();
}

Status LocalCluster::Stop(int timeout_s) {
  Status result = Status::OK();
  auto stop = [&](Child& c) {
    if (c.pid <= 0) return;
    ::kill(c.pid, SIGTERM);
    int status = 0;
    if (!WaitFor(c.pid, timeout_s * 1000, &status)) {
      ::kill(c.pid, SIGKILL);
      WaitFor(c.pid, 5000, &status);
      result = Status::FailedPrecondition(fmt::format("{} did not stop within {} s and was killed", c.name, timeout_s));
    } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) && result.ok()) {
      result = Status::FailedPrecondition(fmt::format("{} exited with status {}; see {}", c.name, status, c.log_path));
    }
    c.pid = -1;
  };
  for (auto& w : workers_) {
    if (w.pid > 0) ::kill(w.pid, SIGTERM);  // drain all at once
  }
  for (auto& w : workers_) stop(w);
  stop(coordinator_);
  return result;
}

LocalCluster::~LocalCluster() {
  for (auto& w : workers_) {
    if (w.pid > 0) ::kill(w.pid, SIGKILL);
  }
  if (coordinator_.pid > 0) ::kill(coordinator_.pid, SIGTERM);
  int status;
  for (auto& w : workers_) {
    if (w.pid > 0) WaitFor(w.pid, 2000, &status);
  }
  if (coordinator_.pid > 0) WaitFor(coordinator_.pid, 5000, &status);
}

}  // namespace avctl::cli
