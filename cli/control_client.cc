#include "cli/control_client.h"

#include <cstdlib>

#include <fmt/format.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "net/curve.h"
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
  // CURVE when the coordinator has it: AVCTL_CURVE_SERVER_KEY names its public
  // key file, AVCTL_CURVE_KEY this client's key pair (enrolled in its allowlist).
  const char* server_key = std::getenv("AVCTL_CURVE_SERVER_KEY");
  const char* own_key = std::getenv("AVCTL_CURVE_KEY");
  const bool curve = server_key != nullptr && *server_key != '\0';
  if (curve != (own_key != nullptr && *own_key != '\0')) {
    return Status::InvalidArgument("AVCTL_CURVE_SERVER_KEY and AVCTL_CURVE_KEY go together")
        .WithField(curve ? "AVCTL_CURVE_KEY" : "AVCTL_CURVE_SERVER_KEY");
  }
  if (curve) {
    AVCTL_ASSIGN_OR_RETURN(CurveKeyPair server, ReadCurveKeyFile(server_key, false));
    AVCTL_ASSIGN_OR_RETURN(CurveKeyPair mine, ReadCurveKeyFile(own_key, true));
    MakeCurveClient(req, server.public_key, mine);
  }
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
                                       "--coordinator or AVCTL_COORDINATOR name it; a coordinator with CURVE "
                                       "answers only keys in its allowlist: AVCTL_CURVE_SERVER_KEY, AVCTL_CURVE_KEY)",
                                       endpoint, timeout_ms / 1000.0));
  }
  AVCTL_ASSIGN_OR_RETURN(Json reply, DecodeControl(*frames));
  if (!reply.value("ok", false)) {
    return Status::FailedPrecondition(reply.value("error", std::string("the coordinator refused without a reason")));
  }
  reply.erase("ok");
  return reply;
}

}  // namespace avctl::cli
