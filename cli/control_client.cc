#include "cli/control_client.h"

#include <cstdlib>

#include <fmt/format.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "net/zmq_util.h"

namespace avctl::cli {

std::string DefaultCoordinator() {
  const char* env = std::getenv("AVCTL_COORDINATOR");
  return env != nullptr && *env != '\0' ? env : "tcp://127.0.0.1:5556";
}

Result<Json> CallCoordinator(const std::string& endpoint, const Json& request, int timeout_ms) {
  zmq::context_t ctx(1);
  zmq::socket_t req(ctx, zmq::socket_type::req);
  ConfigureSocket(req, 0);
  req.set(zmq::sockopt::rcvtimeo, timeout_ms);
  req.set(zmq::sockopt::sndtimeo, timeout_ms);
  try {
    req.connect(endpoint);
  } catch (const zmq::error_t& e) {
    return Status::InvalidArgument(fmt::format("bad coordinator endpoint \"{}\": {}", endpoint, e.what()))
        .WithField("--coordinator");
  }
  AVCTL_RETURN_IF_ERROR(SendFrames(req, {kControlSignature, EncodeControl(request)}, true));
  auto frames = RecvFrames(req, true);
  if (!frames) {
    return Status::IOError(fmt::format("no answer from the coordinator at {} within {:.0f} s (is avcoord running? "
                                       "--coordinator or AVCTL_COORDINATOR name it)", endpoint, timeout_ms / 1000.0));
  }
  AVCTL_ASSIGN_OR_RETURN(Json reply, DecodeControl(*frames));
  if (!reply.value("ok", false)) {
    return Status::FailedPrecondition(reply.value("error", std::string("the coordinator refused without a reason")));
  }
  reply.erase("ok");
  return reply;
}

}  // namespace avctl::cli
