#include "net/zmq_util.h"

#include <cerrno>

#include <fmt/format.h>

#include "common/protocol.h"

namespace avctl {

std::optional<std::vector<std::string>> RecvFrames(zmq::socket_t& socket, bool block) {
  std::vector<std::string> frames;
  while (true) {
    zmq::message_t msg;
    zmq::recv_result_t got;
    try {
      got = socket.recv(msg, block || !frames.empty() ? zmq::recv_flags::none : zmq::recv_flags::dontwait);
    } catch (const zmq::error_t& e) {
      if (e.num() == EINTR) continue;  // a signal (SIGTERM, SIGHUP) arrived during the call: try again
      throw;
    }
    if (!got) {
      if (frames.empty()) return std::nullopt;
      continue;  // parts of one message arrive together; a timeout mid-message cannot happen
    }
    frames.emplace_back(static_cast<const char*>(msg.data()), msg.size());
    if (!msg.more()) return frames;
  }
}

Status SendFrames(zmq::socket_t& socket, const std::vector<std::string>& frames, bool block) {
  try {
    for (size_t i = 0; i < frames.size(); ++i) {
      zmq::send_flags flags = block ? zmq::send_flags::none : zmq::send_flags::dontwait;
      if (i + 1 < frames.size()) flags = flags | zmq::send_flags::sndmore;
      auto sent = socket.send(zmq::buffer(frames[i]), flags);
      if (!sent) return Status::IOError("send would block (peer's queue is full)");
    }
  } catch (const zmq::error_t& e) {
    return Status::IOError(fmt::format("send failed: {}", e.what()));
  }
  return Status::OK();
}

bool HasInput(zmq::socket_t& socket) {
  while (true) {
    try {
      return (socket.get(zmq::sockopt::events) & ZMQ_POLLIN) != 0;
    } catch (const zmq::error_t& e) {
      if (e.num() != EINTR) throw;  // ZMQ_EVENTS processes commands and can be interrupted by a signal
    }
  }
}

void ConfigureSocket(zmq::socket_t& socket, int linger_ms) {
  socket.set(zmq::sockopt::linger, linger_ms);
  socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(kMaxMessageBytes));
  socket.set(zmq::sockopt::tcp_keepalive, 1);
}

std::string LastEndpoint(zmq::socket_t& socket) { return socket.get(zmq::sockopt::last_endpoint); }

std::string PrintableIdentity(const std::string& identity) {
  std::string out;
  for (unsigned char c : identity) out += fmt::format("{:02x}", c);
  return out;
}

}  // namespace avctl
