// The coordinator's ZAP handler (ZeroMQ RFC 27): admits CURVE clients whose
// public key is in the allowlist and refuses every other, logging each
// refusal; plus monitors of the CURVE server sockets, which log handshakes
// that fail before ZAP is asked (a plain-text client, a client that holds a
// wrong server key). It owns its sockets; the owner polls fds() and calls
// Process() when one is readable.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/log.h"
#include "common/status.h"

namespace avctl {

class ZapHandler {
 public:
  // Binds inproc://zeromq.zap.01 in `ctx`: from then on every CURVE server
  // socket of `ctx` asks this handler. `allowlist`: binary key -> name.
  ZapHandler(zmq::context_t& ctx, std::map<std::string, std::string> allowlist, Logger* log);
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Logs failed handshakes on `socket` (call before it binds); `name` labels them.
  void Monitor(zmq::socket_t& socket, const std::string& name);

  // Answers the waiting ZAP requests and logs the waiting monitor events.
  void Process();
  // The file descriptors to wait on (ZMQ_FD: edge-triggered, so Process()
  // drains everything each time).
  std::vector<int> fds();

  void SetAllowlist(std::map<std::string, std::string> allowlist) { allowlist_ = std::move(allowlist); }
  size_t allowed() const { return allowlist_.size(); }
  int64_t refused() const { return refused_; }

  // Pure: the reply frames to one ZAP request's frames.
  static std::vector<std::string> Reply(const std::vector<std::string>& request,
                                        const std::map<std::string, std::string>& allowlist, std::string* log_line);

 private:
  // Logs a refusal; the same refusal repeated (a client retrying every
  // 100 ms) is logged again at most every 10 s with the count in between.
  void LogRefusal(const std::string& line);

  struct Repeat {
    std::chrono::steady_clock::time_point logged;
    int64_t suppressed = 0;
  };
  zmq::context_t& ctx_;
  std::map<std::string, Repeat> repeats_;
  std::map<std::string, std::string> allowlist_;
  Logger* log_;
  zmq::socket_t zap_;
  std::vector<std::pair<std::string, zmq::socket_t>> monitors_;  // name, PAIR receiving socket events
  int64_t refused_ = 0;
};

}  // namespace avctl
