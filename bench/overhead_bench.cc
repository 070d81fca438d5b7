// overhead_bench: the shape of Ray Tune's published bookkeeping-overhead
// benchmark: N jobs that each sleep S seconds on K slots (default 10,000 x
// 1 s on 16 slots: ideal N x S / K = 625 s; Ray Tune reported 715 s there,
// 14.4% over ideal). Real avcoord and avworker daemons on loopback, the
// "sleep" job kind (the worker waits, trains nothing), every state change
// committed to SQLite. The reference is the ideal time of the same run; Ray
// Tune's figure is quoted from its documentation (Ray is not in Debian).
//
//   build/bin/overhead_bench [--jobs 10000] [--seconds 1] [--workers 4] [--slots 4]
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "cli/control_client.h"
#include "cli/local_cluster.h"
#include "common/json_util.h"
#include "db/database.h"
#include "bench/bench_util.h"

namespace fs = std::filesystem;
using avctl::Json;

int main(int argc, char** argv) {
  int64_t jobs = 10000;
  double seconds = 1.0;
  int workers = 4, slots = 4;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--jobs") jobs = std::atoll(next().c_str());
    else if (a == "--seconds") seconds = std::atof(next().c_str());
    else if (a == "--workers") workers = std::atoi(next().c_str());
    else if (a == "--slots") slots = std::atoi(next().c_str());
    else {
      std::cerr << "usage: overhead_bench [--jobs N] [--seconds S] [--workers W] [--slots K per worker]\n";
      return 2;
    }
  }
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  const std::string dir = fs::temp_directory_path() / fmt::format("avctl-overhead-bench-{}", ::getpid());
  avctl::cli::LocalClusterOptions o;
  o.run_dir = dir;
  o.bin_dir = avctl::bench::BinDir();
  o.workers = workers;
  o.slots_per_worker = slots;
  o.http_port = -1;
  avctl::cli::LocalCluster cluster(o, &log);
  auto fail = [&](const avctl::Status& s) {
    std::cerr << "overhead_bench: " << s.ToString() << "\n";
    return 1;
  };
  if (avctl::Status s = cluster.Start(); !s.ok()) return fail(s);
  const std::string ep = cluster.control_endpoint();
  for (int i = 0;; ++i) {
    auto w = avctl::cli::CallCoordinator(ep, {{"op", "ping"}});
    if (!w.ok()) return fail(w.status());
    if (w->value("workers", 0) >= workers) break;
    if (i > 600) return fail(avctl::Status::IOError("the workers did not connect"));
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Json spec = {{"name", "overhead"},
               {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
               {"variants", {{{"name", "backbone"}, {"role", "baseline"}}}},
               {"seeds", jobs},
               {"max_attempts", 1},
               {"kind", "sleep"},
               {"sleep_seconds", seconds}};
  const double wall0 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto sub = avctl::cli::CallCoordinator(ep, {{"op", "submit"}, {"spec", spec}, {"source", "overhead_bench"}}, 120000);
  if (!sub.ok()) return fail(sub.status());
  while (true) {
    auto st = avctl::cli::CallCoordinator(ep, {{"op", "status"}, {"sweep", "overhead"}}, 60000);
    if (!st.ok()) return fail(st.status());
    if ((*st)["status"].value("finished", false)) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  double wall = 0;
  int64_t done = 0;
  {
    avctl::DatabaseOptions ro;
    ro.read_only = true;
    auto db = avctl::Database::Open(cluster.db_path(), ro);
    if (!db.ok()) return fail(db.status());
    auto q = (*db)->Prepare("SELECT MAX(ended_at), SUM(state = 'succeeded') FROM attempts");
    if (!q.ok()) return fail(q.status());
    auto row = q->Step();
    if (!row.ok() || !*row) return fail(avctl::Status::Internal("no attempts recorded"));
    wall = q->ColumnDouble(0) - wall0;
    done = q->ColumnInt(1);
  }
  if (avctl::Status s = cluster.Stop(); !s.ok()) return fail(s);
  fs::remove_all(dir);
  const int total_slots = workers * slots;
  const double ideal = static_cast<double>(jobs) * seconds / total_slots;
  std::cout << fmt::format("overhead_bench: {} jobs of {} s on {} slots ({} workers x {}), {} succeeded\n\n", jobs,
                           seconds, total_slots, workers, slots, done);
  std::cout << "| system | jobs | slots | wall s | ideal s | overhead | ratio to ideal |\n"
               "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n";
  std::cout << fmt::format("| avctl (sleep jobs, SQLite record) | {} | {} | {:.1f} | {:.1f} | {:+.2f}% | {:.4f} |\n",
                           jobs, total_slots, wall, ideal, 100 * (wall - ideal) / ideal, wall / ideal);
  if (jobs == 10000 && seconds == 1.0 && total_slots == 16) {
    std::cout << "| Ray Tune (published, not measured here) | 10000 | 16 | 715.0 | 625.0 | +14.40% | 1.1440 |\n";
  }
  return done == jobs ? 0 : 1;
}
