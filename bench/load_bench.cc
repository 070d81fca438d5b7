// load_bench: one coordinator against a thousand workers. Simulated worker
// daemons (many DEALER sockets per process, speaking the real protocol,
// answering jobs at once or after a fixed sleep) connect to a real avcoord on
// loopback. Measured: the coordinator's CPU for heartbeats alone, then a
// sweep of no-op jobs: jobs/s, round trip p50/p99, coordinator CPU and peak
// RSS, the SQLite file's size per 100k jobs, and the latency of
// `sweep status` requests made during the load.
//
//   build/bin/load_bench [--workers 1000] [--processes 4] [--jobs 20000] [--idle-seconds 10] [--job-ms 0]
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <zmq.hpp>

#include "cli/control_client.h"
#include "common/json_util.h"
#include "common/protocol.h"
#include "db/database.h"
#include "bench/bench_util.h"
#include "net/zmq_util.h"

namespace fs = std::filesystem;
using avctl::Json;
using SteadyClock = std::chrono::steady_clock;
using avctl::bench::CpuSeconds;
using avctl::bench::PeakRssMib;
using avctl::bench::Percentile;

namespace {

// One process's share of simulated workers; runs until killed.
[[noreturn]] void SimulateWorkers(const std::string& endpoint, int first, int count, int job_ms) {
  zmq::context_t ctx(1);
  std::vector<zmq::socket_t> socks;
  socks.reserve(count);
  for (int i = 0; i < count; ++i) {
    socks.emplace_back(ctx, zmq::socket_type::dealer);
    avctl::ConfigureSocket(socks.back(), 0);
    socks.back().connect(endpoint);
    (void)avctl::SendFrames(socks.back(), avctl::EncodeWorkerMessage(
        {avctl::MsgType::kHello, {{"protocol", avctl::kProtocolVersion}, {"worker_id", fmt::format("sim-{}", first + i)},
                                  {"device", "cpu"}, {"slots", 1}, {"hostname", "sim"}, {"mode", "noop"}}}));
  }
  std::vector<SteadyClock::time_point> last_sent(count, SteadyClock::now());
  std::multimap<SteadyClock::time_point, std::pair<int, int64_t>> due;  // job_ms > 0: (socket, attempt) to answer later
  int heartbeat_ms = 1000;
  std::vector<zmq::pollitem_t> items(count);
  for (int i = 0; i < count; ++i) items[i] = {socks[i].handle(), 0, ZMQ_POLLIN, 0};
  // A result the coordinator accepts for a train job (common/job_result.h), as small as it may be.
  const Json noop_result = {{"status", "ok"}, {"compute_seconds", 0.0}, {"test", {{"metrics", {{"macro_f1", 0.5}, {"accuracy", 0.5}}}}}};
  auto result = [&](int i, int64_t attempt) {
    (void)avctl::SendFrames(socks[i], avctl::EncodeWorkerMessage(
        {avctl::MsgType::kResult, {{"attempt_id", attempt}, {"result", noop_result}}}));
    last_sent[i] = SteadyClock::now();
  };
  while (true) {
    zmq::poll(items.data(), items.size(), std::chrono::milliseconds(due.empty() ? 50 : 1));
    for (int i = 0; i < count; ++i) {
      if (!(items[i].revents & ZMQ_POLLIN)) continue;
      while (auto frames = avctl::RecvFrames(socks[i], false)) {
        auto m = avctl::DecodeWorkerMessage(*frames);
        if (!m.ok()) continue;
        if (m->type == avctl::MsgType::kWelcome) {
          heartbeat_ms = static_cast<int>(m->body["heartbeat_ms"].get<int64_t>());
          (void)avctl::SendFrames(socks[i], avctl::EncodeWorkerMessage({avctl::MsgType::kReady, Json::object()}));
        } else if (m->type == avctl::MsgType::kJob) {
          const int64_t attempt = m->body["attempt_id"].get<int64_t>();
          if (job_ms <= 0) {
            result(i, attempt);
          } else {
            due.emplace(SteadyClock::now() + std::chrono::milliseconds(job_ms), std::make_pair(i, attempt));
          }
        }
      }
    }
    const auto now = SteadyClock::now();
    while (!due.empty() && due.begin()->first <= now) {
      result(due.begin()->second.first, due.begin()->second.second);
      due.erase(due.begin());
    }
    for (int i = 0; i < count; ++i) {
      if (now - last_sent[i] >= std::chrono::milliseconds(heartbeat_ms)) {
        (void)avctl::SendFrames(socks[i], avctl::EncodeWorkerMessage({avctl::MsgType::kHeartbeat, Json::object()}));
        last_sent[i] = now;
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int workers = 1000, processes = 4, idle_s = 10, job_ms = 0;
  int64_t jobs = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--workers") workers = std::atoi(next().c_str());
    else if (a == "--processes") processes = std::atoi(next().c_str());
    else if (a == "--jobs") jobs = std::atoll(next().c_str());
    else if (a == "--idle-seconds") idle_s = std::atoi(next().c_str());
    else if (a == "--job-ms") job_ms = std::atoi(next().c_str());
    else {
      std::cerr << "usage: load_bench [--workers N] [--processes P] [--jobs J] [--idle-seconds S] [--job-ms MS]\n";
      return 2;
    }
  }
  const fs::path dir = fs::temp_directory_path() / fmt::format("avctl-load-bench-{}", ::getpid());
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string avcoord = (fs::path(avctl::bench::BinDir()) / "avcoord").string();
  const std::string db = (dir / "avctl.db").string();
  const std::string endpoints = (dir / "endpoints.json").string();
  pid_t coord = ::fork();
  if (coord == 0) {
    FILE* log = std::freopen((dir / "avcoord.log").c_str(), "w", stderr);
    (void)log;
    ::execl(avcoord.c_str(), avcoord.c_str(), "--db", db.c_str(), "--workers", "tcp://127.0.0.1:*", "--control",
            "tcp://127.0.0.1:*", "--http", "-1", "--heartbeat-ms", "1000", "--liveness", "5", "--log-level", "warn",
            "--endpoints-file", endpoints.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  Json ep;
  for (int i = 0; i < 400 && ep.is_null(); ++i) {
    if (auto j = avctl::ReadJsonFile(endpoints); j.ok()) ep = *j;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  auto cleanup = [&](std::vector<pid_t>& sims) {
    for (pid_t p : sims) ::kill(p, SIGKILL);
    for (pid_t p : sims) ::waitpid(p, nullptr, 0);
    ::kill(coord, SIGTERM);
    ::waitpid(coord, nullptr, 0);
  };
  std::vector<pid_t> sims;
  if (ep.is_null()) {
    std::cerr << "load_bench: avcoord did not start; see " << (dir / "avcoord.log") << "\n";
    cleanup(sims);
    return 1;
  }
  const std::string control = ep["control"].get<std::string>();
  const auto connect_start = SteadyClock::now();
  for (int p = 0; p < processes; ++p) {
    const int first = p * workers / processes, count = (p + 1) * workers / processes - first;
    pid_t pid = ::fork();
    if (pid == 0) SimulateWorkers(ep["workers"].get<std::string>(), first, count, job_ms);
    sims.push_back(pid);
  }
  int connected = 0;
  for (int i = 0; i < 1200; ++i) {
    auto r = avctl::cli::CallCoordinator(control, {{"op", "ping"}});
    if (r.ok()) connected = r->value("workers", 0);
    if (connected >= workers) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const double connect_s = std::chrono::duration<double>(SteadyClock::now() - connect_start).count();
  if (connected < workers) {
    std::cerr << fmt::format("load_bench: only {} of {} workers connected\n", connected, workers);
    cleanup(sims);
    return 1;
  }
  // Heartbeats alone.
  const double idle_cpu0 = CpuSeconds(coord);
  std::this_thread::sleep_for(std::chrono::seconds(idle_s));
  const double idle_cpu = (CpuSeconds(coord) - idle_cpu0) / idle_s;
  // A sweep of no-op jobs, with status requests meanwhile.
  Json spec = {{"name", "load"}, {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
               {"variants", {{{"name", "backbone"}, {"role", "baseline"}}}}, {"seeds", jobs}, {"max_attempts", 1}};
  const double cpu0 = CpuSeconds(coord);
  const double wall0 = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto sub = avctl::cli::CallCoordinator(control, {{"op", "submit"}, {"spec", spec}, {"source", "load_bench"}}, 120000);
  if (!sub.ok()) {
    std::cerr << "load_bench: " << sub.status().ToString() << "\n";
    cleanup(sims);
    return 1;
  }
  std::vector<double> status_ms;
  while (true) {
    const auto t = SteadyClock::now();
    auto st = avctl::cli::CallCoordinator(control, {{"op", "status"}, {"sweep", "load"}}, 60000);
    status_ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - t).count());
    if (!st.ok() || (*st)["status"].value("finished", false)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  const double cpu = CpuSeconds(coord) - cpu0;
  const double rss = PeakRssMib(coord);
  cleanup(sims);
  avctl::DatabaseOptions ro;
  ro.read_only = true;
  auto dbh = avctl::Database::Open(db, ro);
  if (!dbh.ok()) {
    std::cerr << dbh.status().ToString() << "\n";
    return 1;
  }
  auto q = (*dbh)->Prepare("SELECT (ended_at - started_at) * 1000, ended_at FROM attempts WHERE state = 'succeeded'");
  std::vector<double> rt;
  double last = 0;
  while (true) {
    auto row = q->Step();
    if (!row.ok() || !*row) break;
    rt.push_back(q->ColumnDouble(0));
    last = std::max(last, q->ColumnDouble(1));
  }
  const double wall = last - wall0;
  (*dbh).reset();
  const double db_mib = static_cast<double>(fs::file_size(db) + (fs::exists(db + "-wal") ? fs::file_size(db + "-wal") : 0)) /
                        (1024.0 * 1024.0);
  std::cout << fmt::format("load_bench: {} simulated workers in {} processes (connected in {:.1f} s), {} no-op jobs{}\n\n",
                           workers, processes, connect_s, jobs, job_ms > 0 ? fmt::format(" of {} ms", job_ms) : "");
  std::cout << "| measure | value |\n| --- | ---: |\n";
  std::cout << fmt::format("| coordinator CPU, heartbeats only ({} workers, 1 s interval) | {:.1f}% of a core |\n", workers,
                           100 * idle_cpu);
  std::cout << fmt::format("| jobs completed | {} of {} |\n", rt.size(), jobs);
  std::cout << fmt::format("| wall time (submit to last result) | {:.2f} s |\n| jobs/s | {:.0f} |\n", wall,
                           static_cast<double>(rt.size()) / wall);
  std::cout << fmt::format("| round trip p50 / p99 (dispatch to result recorded) | {:.2f} / {:.2f} ms |\n",
                           Percentile(rt, 0.5), Percentile(rt, 0.99));
  std::cout << fmt::format("| coordinator CPU during the sweep | {:.2f} s ({:.0f}% of a core) |\n", cpu, 100 * cpu / wall);
  std::cout << fmt::format("| coordinator peak RSS | {:.0f} MiB |\n", rss);
  std::cout << fmt::format("| SQLite record (db + wal) | {:.1f} MiB, {:.1f} MiB per 100k jobs |\n", db_mib,
                           db_mib * 100000.0 / static_cast<double>(std::max<int64_t>(jobs, 1)));
  std::cout << fmt::format("| `sweep status` latency under load, p50 / p99 / max ({} requests) | {:.1f} / {:.1f} / {:.1f} ms |\n",
                           status_ms.size(), Percentile(status_ms, 0.5), Percentile(status_ms, 0.99),
                           status_ms.empty() ? 0 : *std::max_element(status_ms.begin(), status_ms.end()));
  fs::remove_all(dir);
  return rt.size() == static_cast<size_t>(jobs) ? 0 : 1;
}
