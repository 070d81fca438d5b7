// avctl's side of the control channel: one request, one reply, over a REQ
// socket with a deadline (see docs/PROTOCOL.md).
#pragma once

#include <string>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl::cli {

// --coordinator's default: $AVCTL_COORDINATOR or tcp://127.0.0.1:5556.
std::string DefaultCoordinator();

// Sends `request` ({"op": ...}) and returns the reply's fields. No answer
// within timeout_ms is Unavailable-like IOError naming the endpoint; a reply
// with ok=false is FailedPrecondition carrying the coordinator's message.
Result<Json> CallCoordinator(const std::string& endpoint, const Json& request, int timeout_ms = 10000);

}  // namespace avctl::cli
