// The embedded default behind `avctl sweep run --local-workers N`: a
// coordinator and N worker daemons started as child processes on loopback,
// with their record, logs, spools and store cache under one run directory.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "common/log.h"
#include "common/status.h"

namespace avctl::cli {

struct LocalClusterOptions {
  std::string run_dir;          // created if missing; holds avctl.db, logs/, workers/, stores/
  std::string bin_dir;          // where avcoord and avworker are
  int workers = 2;
  int slots_per_worker = 1;
  int threads_per_job = 1;
  int heartbeat_ms = 1000;
  bool noop_workers = false;    // workers answer every job at once (benchmarks)
  int http_port = 0;            // 0: any free port; -1: none
};

class LocalCluster {
 public:
  explicit LocalCluster(LocalClusterOptions options, Logger* log) : opt_(std::move(options)), log_(log) {}
  ~LocalCluster();  // stops whatever is still running
  LocalCluster(const LocalCluster&) = delete;
  LocalCluster& operator=(const LocalCluster&) = delete;

  // Starts the coordinator (waits until it listens) and the workers.
  Status Start();
  const std::string& control_endpoint() const { return control_; }
  const std::string& http_url() const { return http_; }
  const std::string& db_path() const { return db_; }
  // SIGTERM to the workers (they drain) and then the coordinator; waits up
  // to timeout_s for each, then SIGKILL. Non-OK if a process exited badly.
  Status Stop(int timeout_s = 30);
  // A child that exited on its own (a crash) is an error naming its log.
  Status CheckAlive();

 private:
  struct Child {
    std::string name;
    std::string log_path;
    pid_t pid = -1;
  };
  Result<Child> Spawn(const std::string& name, const std::vector<std::string>& args);

  LocalClusterOptions opt_;
  Logger* log_;
  Child coordinator_;
  std::vector<Child> workers_;
  std::string control_, http_, db_;
};

}  // namespace avctl::cli
