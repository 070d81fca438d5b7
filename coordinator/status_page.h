// Renders the coordinator's live views from the record's JSON read models
// (pure): the HTML status page and the Prometheus text exposition.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "common/json_util.h"

namespace avctl {

// sweeps: the control API's "list" (Record::ListSweeps() with each sweep's
// "unrunnable" jobs); workers: Record::Workers(); running: the "running" rows
// of each sweep's status, each with its "sweep" name added.
// `record`: {"writable": bool, "reason"?} as the list reply gives it.
std::string RenderStatusPage(const Json& sweeps, const Json& workers, const Json& running, const std::string& version,
                             const Json& record = Json{{"writable", true}});

struct CoordinatorCounters {
  std::map<std::string, int64_t> messages_in;   // by message type
  int64_t bad_messages = 0;
  int64_t dispatched = 0;
  int64_t results = 0;
  int64_t duplicate_results = 0;
  int64_t failures = 0;
  int64_t lost_attempts = 0;
  int64_t workers_lost = 0;
  int64_t control_requests = 0;
  int64_t deferred_reports = 0;   // results and failures not acknowledged while the record was unwritable
  int64_t unwritable_rounds = 0;  // rounds rolled back: the record could not be written
  bool record_writable = true;    // false: degraded (full disk, I/O error), see avctl sweep list / ping
  int64_t handler_errors = 0;     // messages whose handler threw (answered with an error, logged)
  int64_t http_open = 0;          // HTTP connections open now
  int64_t http_refused = 0;       // HTTP connections closed at once: the cap was reached
  int64_t http_timeouts = 0;      // HTTP connections closed: a request or response took too long
  int64_t queue_length = 0;
  int64_t workers_connected = 0;
  int64_t slots_total = 0;
  int64_t slots_busy = 0;
  double uptime_seconds = 0;
};

std::string RenderPrometheus(const CoordinatorCounters& c, const Json& sweeps);

}  // namespace avctl
