// avcoord's HTTP endpoint (docs/PROTOCOL.md, "HTTP"): routes a request
// target to the live status page, the control API's read operations (same
// JSON as their control replies), a sweep's report (rendered off the
// io_context by ReportRenderer) or the Prometheus metrics.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "coordinator/control_api.h"
#include "coordinator/http_server.h"
#include "coordinator/report_renderer.h"
#include "coordinator/status_page.h"
#include "coordinator/worker_broker.h"
#include "db/record.h"

namespace avctl {

// "/api/sweeps/3/jobs?state=done" -> {"api", "sweeps", "3", "jobs"}, {state: done} (pure).
struct HttpTarget {
  std::vector<std::string> parts;
  std::map<std::string, std::string> query;
};
HttpTarget ParseHttpTarget(const std::string& target);

// The control request an /api target stands for; null when it names none; an
// error naming the query parameter that is not what it should be (pure).
Result<Json> ApiRequest(const HttpTarget& t);

class HttpApi {
 public:
  HttpApi(Record* record, ControlApi* control, WorkerBroker* broker, const CoordinatorCounters* counters,
          ReportRenderer* reports);
  void Handle(const std::string& target, const HttpReply& reply);
  // The server whose connection counts /metrics shows (none: zeros).
  void SetServer(const HttpServer* server) { server_ = server; }

 private:
  HttpResponse Metrics();

  Record* record_;
  ControlApi* control_;
  WorkerBroker* broker_;
  const CoordinatorCounters* counters_;
  ReportRenderer* reports_;
  const HttpServer* server_ = nullptr;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace avctl
