// command_bench: what avctl adds to a command job (docs/JOBS.md), and how many
// such jobs a fleet runs per second. The program is a shell script that
// writes its result and exits (`result.sh`, one process: sh). The
// reference, measured in the same run: the same script started by hand
// (posix_spawn, wait) as many times in a row, with the same variables.
//
//   build/bin/command_bench [--jobs 300] [--throughput-jobs 3000] [--workers 8]
//
// Per-job overhead: real avcoord + one avworker with one slot, the jobs one
// after another (dispatch, spool, config file, log capture, spawn, exit
// noticed on SIGCHLD, result checked, recorded in SQLite, acknowledged),
// minus the by-hand time per run. Throughput: W workers with one slot each.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "bench/bench_util.h"
#include "cli/control_client.h"
#include "cli/local_cluster.h"
#include "common/json_util.h"
#include "common/subprocess.h"
#include "db/database.h"

namespace fs = std::filesystem;
using avctl::Json;

namespace {

// One process (sh and its printf builtin). The worker reads the result only
// after the program exits, so writing it in place is safe here; a program
// that others may read while it runs writes a temporary name and renames.
constexpr const char* kScript =
    "#!/bin/sh\n"
    "printf '{\"status\": \"ok\", \"test\": {\"metrics\": {\"macro_f1\": 0.5}}}' > \"$AVCTL_RESULT\"\n";

double Now() { return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count(); }

// Seconds per run of the script started by hand, `n` runs in a row.
double ByHand(const fs::path& dir, int n) {
  const std::string result = "AVCTL_RESULT=" + (dir / "hand-result.json").string();
  std::vector<std::string> env = avctl::ProcessEnvironment();
  env.push_back(result);
  std::vector<char*> envp;
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string script = (dir / "result.sh").string();
  char* argv[] = {const_cast<char*>(script.c_str()), nullptr};
  const double t0 = Now();
  for (int i = 0; i < n; ++i) {
    pid_t pid = 0;
    if (posix_spawn(&pid, script.c_str(), nullptr, nullptr, argv, envp.data()) != 0) return -1;
    int status = 0;
    ::waitpid(pid, &status, 0);
  }
  return (Now() - t0) / n;
}

struct Run {
  double wall = 0;
  int64_t done = 0;
};

// `jobs` command jobs on `workers` local workers of one slot each: the time
// from submit to the last attempt's end, as the record has it.
avctl::Result<Run> RunSweep(const fs::path& dir, int workers, int64_t jobs) {
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  avctl::cli::LocalClusterOptions o;
  o.run_dir = (dir / fmt::format("cluster-{}", workers)).string();
  o.bin_dir = avctl::bench::BinDir();
  o.workers = workers;
  o.slots_per_worker = 1;
  o.http_port = -1;
  avctl::cli::LocalCluster cluster(o, &log);
  AVCTL_RETURN_IF_ERROR(cluster.Start());
  const std::string ep = cluster.control_endpoint();
  for (int i = 0;; ++i) {
    AVCTL_ASSIGN_OR_RETURN(Json w, avctl::cli::CallCoordinator(ep, {{"op", "ping"}}));
    if (w.value("workers", 0) >= workers) break;
    if (i > 600) return avctl::Status::IOError("the workers did not connect");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const Json spec = {{"name", "commands"},
                     {"kind", "command"},
                     {"program", {{"command", {"./result.sh"}}, {"workdir", dir.string()}}},
                     {"variants", {{{"name", "script"}}}},
                     {"seeds", jobs},
                     {"max_attempts", 1}};
  const double t0 = Now();
  AVCTL_RETURN_IF_ERROR(
      avctl::cli::CallCoordinator(ep, {{"op", "submit"}, {"spec", spec}, {"source", "command_bench"}}, 120000)
          .status());
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(Json st, avctl::cli::CallCoordinator(ep, {{"op", "status"}, {"sweep", "commands"}}, 60000));
    if (st["status"].value("finished", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  Run r;
  {
    avctl::DatabaseOptions ro;
    ro.read_only = true;
    AVCTL_ASSIGN_OR_RETURN(auto db, avctl::Database::Open(cluster.db_path(), ro));
    AVCTL_ASSIGN_OR_RETURN(auto q, db->Prepare("SELECT MAX(ended_at), SUM(state = 'succeeded') FROM attempts"));
    AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return avctl::Status::Internal("no attempts recorded");
    r.wall = q.ColumnDouble(0) - t0;
    r.done = q.ColumnInt(1);
  }
  AVCTL_RETURN_IF_ERROR(cluster.Stop());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t jobs = 300, throughput_jobs = 3000;
  int workers = 8;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--jobs") jobs = std::atoll(next().c_str());
    else if (a == "--throughput-jobs") throughput_jobs = std::atoll(next().c_str());
    else if (a == "--workers") workers = std::atoi(next().c_str());
    else {
      std::cerr << "usage: command_bench [--jobs N] [--throughput-jobs M] [--workers W]\n";
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("avctl-command-bench-{}", ::getpid());
  fs::create_directories(dir);
  {
    std::ofstream(dir / "result.sh") << kScript;
    fs::permissions(dir / "result.sh", fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
  }
  auto fail = [&](const avctl::Status& s) {
    std::cerr << "command_bench: " << s.ToString() << "\n";
    return 1;
  };
  const double hand = ByHand(dir, static_cast<int>(jobs));
  if (hand < 0) return fail(avctl::Status::IOError("cannot start result.sh"));
  auto serial = RunSweep(dir, 1, jobs);
  if (!serial.ok()) return fail(serial.status());
  const double hand_after = ByHand(dir, static_cast<int>(jobs));  // the machine may have changed pace
  const double reference = (hand + hand_after) / 2;
  auto fleet = RunSweep(dir, workers, throughput_jobs);
  if (!fleet.ok()) return fail(fleet.status());
  fs::remove_all(dir);
  const double per_job = serial->wall / static_cast<double>(jobs);
  std::cout << fmt::format("command_bench: {} jobs one after another on 1 worker; {} jobs on {} workers; {} cores\n\n",
                           jobs, throughput_jobs, workers, std::thread::hardware_concurrency());
  std::cout << "| measure | by hand | avctl | avctl - by hand | ratio |\n| --- | ---: | ---: | ---: | ---: |\n";
  std::cout << fmt::format("| seconds per job, serial (the script writes its result and exits) | {:.2f} ms | {:.2f} ms "
                           "| {:+.2f} ms (target < 20 ms) | {:.2f} |\n",
                           1000 * reference, 1000 * per_job, 1000 * (per_job - reference), per_job / reference);
  std::cout << fmt::format("| command jobs per second, {} workers x 1 slot | {:.0f} (1 process at a time) | {:.0f} "
                           "(target >= 200) | | {:.2f} |\n",
                           workers, 1 / reference, fleet->done / fleet->wall, (fleet->done / fleet->wall) * reference);
  return serial->done == jobs && fleet->done == throughput_jobs ? 0 : 1;
}
