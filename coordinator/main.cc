// avcoord: the coordinator daemon (see coordinator/coordinator.h and
// docs/PROTOCOL.md).
#include <iostream>
#include <string>

#include <boost/program_options.hpp>

#include "common/log.h"
#include "common/version.h"
#include "coordinator/coordinator.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
  avctl::CoordinatorOptions o;
  po::options_description desc(
      "usage: avcoord [options]\n\n"
      "Schedules sweep jobs to worker daemons over ZeroMQ and records everything in SQLite.\n"
      "SIGTERM or SIGINT stops it cleanly (exit 0); workers keep running jobs and report to the next start.\n\n"
      "options");
  std::string log_level;
  desc.add_options()("help,h", "show this help")("version", "print the code version")(
      "db", po::value<std::string>(&o.db_path)->default_value(o.db_path), "SQLite record (created if missing)")(
      "workers", po::value<std::string>(&o.worker_endpoint)->default_value(o.worker_endpoint),
      "ZeroMQ endpoint to bind for worker daemons (tcp://HOST:PORT, port * = any free)")(
      "control", po::value<std::string>(&o.control_endpoint)->default_value(o.control_endpoint),
      "ZeroMQ endpoint to bind for avctl")(
      "http", po::value<int>(&o.http_port)->default_value(o.http_port),
      "HTTP port for the status page, /api and /metrics (0 = any free port, -1 = off)")(
      "http-address", po::value<std::string>(&o.http_address)->default_value(o.http_address),
      "HTTP bind address (not loopback: needs --insecure, the page has no authentication)")(
      "curve-secret", po::value<std::string>(&o.curve_secret_file),
      "this coordinator's key pair (NAME.key from avctl keys gen): CURVE on the worker and control sockets")(
      "allow", po::value<std::string>(&o.allowlist_file),
      "allowlist of client public keys, one Z85 key per line with an optional name (reloaded on SIGHUP)")(
      "insecure", po::bool_switch(&o.insecure),
      "allow binding beyond loopback without CURVE (a trusted network only)")(
      "heartbeat-ms", po::value<int>(&o.heartbeat_ms)->default_value(o.heartbeat_ms), "heartbeat interval")(
      "liveness", po::value<int>(&o.liveness)->default_value(o.liveness),
      "missed heartbeats before a worker is declared dead and its jobs requeued")(
      "grace-ms", po::value<int>(&o.restart_grace_ms)->default_value(o.restart_grace_ms),
      "after a restart, how long running attempts wait for their worker to reconnect")(
      "endpoints-file", po::value<std::string>(&o.endpoints_file),
      "write the bound endpoints (JSON) here once listening")(
      "log-level", po::value<std::string>(&log_level)->default_value("info"), "debug, info, warn or error")(
      "log-json", po::bool_switch(), "log one JSON object per line");
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, desc), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "avcoord: error: " << e.what() << "\n" << desc << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << desc << "\n";
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "avcoord " << avctl::CodeVersion() << "\n";
    return 0;
  }
  avctl::LogLevel level;
  if (!avctl::ParseLogLevel(log_level, &level)) {
    std::cerr << "avcoord: error: --log-level: unknown level '" << log_level << "'\n";
    return 2;
  }
  if (o.heartbeat_ms < 10 || o.liveness < 1 || o.restart_grace_ms < 0) {
    std::cerr << "avcoord: error: --heartbeat-ms must be >= 10, --liveness >= 1, --grace-ms >= 0\n";
    return 2;
  }
  avctl::Logger log(stderr, level, vm["log-json"].as<bool>());
  avctl::Coordinator coordinator(o, &log);
  avctl::Status s = coordinator.Run();
  if (!s.ok()) {
    log.Error("{}", s.ToString());
    return 1;
  }
  return 0;
}
