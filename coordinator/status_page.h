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
std::string RenderStatusPage(const Json& sweeps, const Json& workers, const Json& running, const std::string& version);

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
  int64_t queue_length = 0;
  int64_t workers_connected = 0;
  int64_t slots_total = 0;
  int64_t slots_busy = 0;
  double uptime_seconds = 0;
};

std::string RenderPrometheus(const CoordinatorCounters& c, const Json& sweeps);

}  // namespace avctl
