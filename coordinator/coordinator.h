// avcoord's engine: the worker ROUTER, the control ROUTER, the record, the
// ready queue and the heartbeat/liveness bookkeeping (Paranoid Pirate), driven
// by one Boost.Asio io_context: ZeroMQ sockets are watched through their
// ZMQ_FD, a timer ticks heartbeats, liveness, restart grace and scheduling,
// SIGTERM/SIGINT stop it cleanly, and Beast serves HTTP on the same thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "common/log.h"
#include "common/status.h"
#include "db/record.h"
#include "coordinator/scheduler.h"

namespace avctl {

struct CoordinatorOptions {
  std::string db_path = "avctl.db";
  std::string worker_endpoint = "tcp://127.0.0.1:5555";   // ROUTER for worker daemons
  std::string control_endpoint = "tcp://127.0.0.1:5556";  // ROUTER for avctl
  std::string http_address = "127.0.0.1";
  int http_port = 8080;                  // 0: any free port; < 0: no HTTP
  int heartbeat_ms = 1000;
  int liveness = 3;                      // heartbeats missed before a worker is declared dead
  int restart_grace_ms = 10000;          // after a restart, how long running attempts wait for their worker
  std::string endpoints_file;            // if set: the bound endpoints as JSON, written after binding
  // Authentication (CurveZMQ + ZAP): the coordinator's key pair file and the
  // allowlist of client public keys (reloaded on SIGHUP). Without them, a
  // non-loopback bind (ZeroMQ or HTTP) is refused unless `insecure`.
  std::string curve_secret_file;
  std::string allowlist_file;
  bool insecure = false;
};

// Refuses, naming the option, a bind that other machines could reach without
// authentication (pure; the rules of CoordinatorOptions above).
Status CheckExposure(const CoordinatorOptions& o);

class Coordinator {
 public:
  Coordinator(CoordinatorOptions options, Logger* log);
  ~Coordinator();
  Coordinator(const Coordinator&) = delete;
  Coordinator& operator=(const Coordinator&) = delete;

  // Opens the record (taking its lock: a second coordinator on the same file
  // is refused), binds, recovers and serves until SIGTERM/SIGINT. Returns OK
  // after a clean stop.
  Status Run();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace avctl
