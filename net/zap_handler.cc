#include "net/zap_handler.h"

#include <cstring>

#include <fmt/format.h>

#include "net/curve.h"
#include "net/zmq_util.h"

namespace avctl {

namespace {

std::string Z85(const std::string& bin) {
  if (bin.size() != 32) return fmt::format("<{} bytes>", bin.size());
  char out[41] = {};
  zmq_z85_encode(out, reinterpret_cast<const uint8_t*>(bin.data()), bin.size());
  return out;
}

std::string ProtocolError(uint32_t code) {
  switch (code) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "security mechanism mismatch (a client without CURVE?)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
      return "cryptographic error (a client holding a wrong server key?)";
    default:
      return fmt::format("protocol error 0x{:x}", code);
  }
}

}  // namespace

ZapHandler::ZapHandler(zmq::context_t& ctx, std::map<std::string, std::string> allowlist, Logger* log)
    : ctx_(ctx), allowlist_(std::move(allowlist)), log_(log), zap_(ctx, zmq::socket_type::rep) {
  zap_.set(zmq::sockopt::linger, 0);
  zap_.bind("inproc://zeromq.zap.01");
}

void ZapHandler::Monitor(zmq::socket_t& socket, const std::string& name) {
  const std::string ep = "inproc://avctl-monitor-" + name;
  // Refusals by ZAP are logged by Reply(); these are the handshakes that fail before.
  if (zmq_socket_monitor(socket.handle(), ep.c_str(),
                         ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0) {
    log_->Warn("cannot monitor the {} socket: {}", name, zmq_strerror(zmq_errno()));
    return;
  }
  zmq::socket_t pair(ctx_, zmq::socket_type::pair);
  pair.set(zmq::sockopt::linger, 0);
  pair.connect(ep);
  monitors_.emplace_back(name, std::move(pair));
}

std::vector<int> ZapHandler::fds() {
  std::vector<int> out = {zap_.get(zmq::sockopt::fd)};
  for (auto& [name, m] : monitors_) out.push_back(m.get(zmq::sockopt::fd));
  return out;
}

std::vector<std::string> ZapHandler::Reply(const std::vector<std::string>& request,
                                           const std::map<std::string, std::string>& allowlist,
                                           std::string* log_line) {
  const std::string id = request.size() > 1 ? request[1] : "";
  auto reply = [&](const char* code, const std::string& text, const std::string& user) {
    return std::vector<std::string>{"1.0", id, code, text, user, ""};
  };
  if (request.size() < 6 || request[0] != "1.0") {
    *log_line = "refused a connection: malformed ZAP request";
    return reply("500", "malformed ZAP request", "");
  }
  const std::string& address = request[3];
  const std::string& mechanism = request[5];
  if (mechanism != "CURVE" || request.size() != 7) {
    *log_line = fmt::format("refused a {} connection from {}: CURVE is required", mechanism, address);
    return reply("400", "CURVE required", "");
  }
  auto it = allowlist.find(request[6]);
  if (it == allowlist.end()) {
    *log_line = fmt::format("refused a CURVE client from {}: key {} is not in the allowlist", address, Z85(request[6]));
    return reply("400", "key not allowed", "");
  }
  log_line->clear();
  return reply("200", "OK", it->second);
}

void ZapHandler::LogRefusal(const std::string& line) {
  ++refused_;
  const auto now = std::chrono::steady_clock::now();
  auto [it, first] = repeats_.try_emplace(line);
  if (!first && now - it->second.logged < std::chrono::seconds(10)) {
    ++it->second.suppressed;
    return;
  }
  if (it->second.suppressed > 0) {
    log_->Warn("{} ({} more time(s) in the last {:.0f} s)", line, it->second.suppressed,
               std::chrono::duration<double>(now - it->second.logged).count());
  } else {
    log_->Warn("{}", line);
  }
  it->second = Repeat{now, 0};
  if (repeats_.size() > 10000) repeats_.clear();  // bounded under a flood of distinct refusals
}

void ZapHandler::Process() {
  for (int n = 0; n < 1000; ++n) {
    bool any = false;
    if (HasInput(zap_)) {
      if (auto frames = RecvFrames(zap_, false)) {
        std::string line;
        std::vector<std::string> reply = Reply(*frames, allowlist_, &line);
        if (!line.empty()) LogRefusal(line);
        if (Status s = SendFrames(zap_, reply, true); !s.ok()) log_->Error("ZAP reply: {}", s.ToString());
        any = true;
      }
    }
    for (auto& [name, m] : monitors_) {
      if (!HasInput(m)) continue;
      auto frames = RecvFrames(m, false);
      if (!frames) continue;
      any = true;
      if (frames->size() < 2 || (*frames)[0].size() < 6) continue;
      uint16_t event = 0;
      uint32_t value = 0;
      std::memcpy(&event, (*frames)[0].data(), 2);
      std::memcpy(&value, (*frames)[0].data() + 2, 4);
      LogRefusal(fmt::format("refused a connection on the {} socket ({}): {}", name, (*frames)[1],
                             event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ? ProtocolError(value) : "handshake failed"));
    }
    if (!any) break;
  }
}

}  // namespace avctl
