// dispatch_bench: the coordinator's bookkeeping speed. No-op jobs (workers
// that answer at once, `avworker serve --noop`) go through a real avcoord and
// 8 and 100 real worker daemons on loopback, every state change committed to
// SQLite; next to Optuna 3.1 with its SQLite storage (8 processes optimising
// a no-op objective on one study), measured in the same run.
//
//   build/bin/dispatch_bench [--jobs 4000] [--workers 8,100] [--optuna-trials 400] [--python /usr/bin/python3]
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/control_client.h"
#include "cli/local_cluster.h"
#include "common/json_util.h"
#include "common/text.h"
#include "db/database.h"
#include "bench/bench_util.h"

namespace fs = std::filesystem;
using avctl::Json;
using SteadyClock = std::chrono::steady_clock;

namespace {

using avctl::bench::CpuSeconds;
using avctl::bench::Percentile;
using avctl::bench::PeakRssMib;

struct Row {
  std::string system;
  int workers = 0;
  int64_t jobs = 0;
  double seconds = 0;
  double per_s = 0;
  double p50_ms = 0, p99_ms = 0, queue_p50_ms = 0;
  double rss_mib = 0;
  double coord_cpu_s = 0;
  double submit_s = 0;  // the submit call: the coordinator's loop is busy with it
};

avctl::Result<Row> RunAvctl(int workers, int64_t jobs, const std::string& dir, avctl::Logger* log) {
  fs::remove_all(dir);
  avctl::cli::LocalClusterOptions o;
  o.run_dir = dir;
  o.bin_dir = avctl::bench::BinDir();
  o.workers = workers;
  o.noop_workers = true;
  o.http_port = -1;
  avctl::cli::LocalCluster cluster(o, log);
  AVCTL_RETURN_IF_ERROR(cluster.Start());
  const std::string ep = cluster.control_endpoint();
  // Wait until every worker has said hello.
  for (int i = 0;; ++i) {
    AVCTL_ASSIGN_OR_RETURN(Json w, avctl::cli::CallCoordinator(ep, {{"op", "ping"}}));
    if (w.value("workers", 0) >= workers) break;
    if (i > 1200) return avctl::Status::IOError(fmt::format("only {} of {} workers connected", w.value("workers", 0), workers));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Json spec = {{"name", fmt::format("noop-{}", workers)},
               {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
               {"variants", {{{"name", "backbone"}, {"role", "baseline"}}}},
               {"seeds", jobs},
               {"max_attempts", 1}};
  pid_t coord_pid = 0;
  if (auto ep_json = avctl::ReadJsonFile(dir + "/endpoints.json"); ep_json.ok()) {
    coord_pid = static_cast<pid_t>(ep_json->value("pid", 0));
  }
  const double cpu0 = CpuSeconds(coord_pid);
  // The run ends when the last result is recorded (the record's clock), not
  // when the poll below notices: polling more often would load the coordinator.
  const double wall0 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  AVCTL_ASSIGN_OR_RETURN(Json sub, avctl::cli::CallCoordinator(ep, {{"op", "submit"}, {"spec", spec}, {"source", "bench"}}, 60000));
  const double submit_s =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count() - wall0;
  while (true) {
    AVCTL_ASSIGN_OR_RETURN(Json st, avctl::cli::CallCoordinator(ep, {{"op", "status"}, {"sweep", sub["name"]}}));
    if (st["status"].value("finished", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));  // a watching user's pace
  }
  Row r;
  r.coord_cpu_s = CpuSeconds(coord_pid) - cpu0;
  r.submit_s = submit_s;
  r.system = "avctl (avcoord + avworker --noop)";
  r.workers = workers;
  r.jobs = jobs;
  {
    avctl::DatabaseOptions ro;
    ro.read_only = true;
    AVCTL_ASSIGN_OR_RETURN(auto db, avctl::Database::Open(cluster.db_path(), ro));
    AVCTL_ASSIGN_OR_RETURN(auto q, db->Prepare(
        "SELECT (a.ended_at - a.started_at) * 1000, (a.started_at - s.created_at) * 1000 FROM attempts a "
        "JOIN jobs j ON j.id = a.job_id JOIN sweeps s ON s.id = j.sweep_id WHERE a.state = 'succeeded'"));
    std::vector<double> rt, wait;
    while (true) {
      AVCTL_ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      rt.push_back(q.ColumnDouble(0));
      wait.push_back(q.ColumnDouble(1));
    }
    if (static_cast<int64_t>(rt.size()) != jobs) {
      // Say why the others did not succeed: the record's reasons, counted.
      std::string why;
      AVCTL_ASSIGN_OR_RETURN(auto reasons, db->Prepare(
          "SELECT state, COALESCE(reason, ''), COUNT(*) FROM attempts WHERE state != 'succeeded' "
          "GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5"));
      while (true) {
        AVCTL_ASSIGN_OR_RETURN(bool row, reasons.Step());
        if (!row) break;
        why += fmt::format("; {} x {}: {}", reasons.ColumnInt(2), reasons.ColumnText(0), reasons.ColumnText(1));
      }
      return avctl::Status::Internal(fmt::format("{} results for {} jobs{}", rt.size(), jobs, why));
    }
    AVCTL_ASSIGN_OR_RETURN(auto last, db->Prepare("SELECT MAX(ended_at) FROM attempts"));
    AVCTL_ASSIGN_OR_RETURN(bool has, last.Step());
    if (!has) return avctl::Status::Internal("no attempts recorded");
    r.seconds = last.ColumnDouble(0) - wall0;
    r.per_s = static_cast<double>(jobs) / r.seconds;
    r.p50_ms = Percentile(rt, 0.5);
    r.p99_ms = Percentile(rt, 0.99);
    r.queue_p50_ms = Percentile(wait, 0.5);
  }
  r.rss_mib = PeakRssMib(coord_pid);
  AVCTL_RETURN_IF_ERROR(cluster.Stop());
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t jobs = 4000;
  int optuna_trials = 400;
  std::string workers_list = "8,100";
  std::string python = std::getenv("AVCTL_PYTHON") ? std::getenv("AVCTL_PYTHON") : "/usr/bin/python3";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--jobs") jobs = std::atoll(next().c_str());
    else if (a == "--workers") workers_list = next();
    else if (a == "--optuna-trials") optuna_trials = std::atoi(next().c_str());
    else if (a == "--python") python = next();
    else {
      std::cerr << "usage: dispatch_bench [--jobs N] [--workers 8,100] [--optuna-trials N] [--python PATH]\n";
      return 2;
    }
  }
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  const std::string base = fs::temp_directory_path() / fmt::format("avctl-dispatch-bench-{}", ::getpid());
  std::vector<Row> rows;

  // Reference: Optuna + SQLite, 8 processes, no-op objective.
  {
    const std::string cmd = fmt::format("{} {}/bench/optuna_noop.py --db {}/optuna.db --processes 8 --trials {}",
                                        python, AVCTL_SOURCE_DIR, base, optuna_trials);
    fs::create_directories(base);
    FILE* p = ::popen(cmd.c_str(), "r");
    std::string out;
    char buf[1024];
    while (p != nullptr && std::fgets(buf, sizeof(buf), p) != nullptr) out += buf;
    const int rc = p != nullptr ? ::pclose(p) : -1;
    auto j = avctl::ParseJson(out, "optuna_noop.py output");
    if (rc != 0 || !j.ok()) {
      std::cerr << "dispatch_bench: the Optuna reference failed (install python3-optuna: scripts/install-deps.sh "
                   "--bench): " << out << "\n";
      return 1;
    }
    Row r;
    r.system = fmt::format("Optuna {} + SQLite (8 processes)", j->value("optuna", "?"));
    r.workers = 8;
    r.jobs = j->value("trials", 0);
    r.seconds = j->value("seconds", 0.0);
    r.per_s = j->value("trials_per_s", 0.0);
    rows.push_back(r);
  }
  for (const auto& w : avctl::SplitOn(workers_list, ',')) {
    const int workers = std::atoi(std::string(w).c_str());
    auto r = RunAvctl(workers, jobs, fmt::format("{}/w{}", base, workers), &log);
    if (!r.ok()) {
      std::cerr << "dispatch_bench: " << r.status().ToString() << "\n";
      return 1;
    }
    rows.push_back(*r);
  }
  fs::remove_all(base);
  const double ref = rows[0].per_s;
  std::cout << fmt::format("dispatch_bench: {} no-op jobs per avctl run; reference Optuna {} trials\n\n", jobs,
                           optuna_trials);
  std::cout << "| system | workers | jobs | seconds | of which submit s | jobs/s | round trip p50 ms | p99 ms | "
               "coordinator CPU s | coordinator peak RSS MiB | ratio to Optuna |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  for (const auto& r : rows) {
    std::cout << fmt::format("| {} | {} | {} | {:.2f} | {} | {:.1f} | {} | {} | {} | {} | {:.1f}x |\n", r.system,
                             r.workers, r.jobs, r.seconds, r.submit_s > 0 ? fmt::format("{:.2f}", r.submit_s) : "-",
                             r.per_s,
                             r.p50_ms > 0 ? fmt::format("{:.2f}", r.p50_ms) : "-",
                             r.p99_ms > 0 ? fmt::format("{:.2f}", r.p99_ms) : "-",
                             r.coord_cpu_s > 0 ? fmt::format("{:.2f}", r.coord_cpu_s) : "-",
                             r.rss_mib > 0 ? fmt::format("{:.0f}", r.rss_mib) : "-", r.per_s / ref);
  }
  return 0;
}
