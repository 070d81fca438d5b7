// The worker daemon's session with the coordinator (the zguide's mdwrkapi
// with Paranoid Pirate reliability): one DEALER socket, hello on every
// connection, heartbeats both ways, reconnection with exponential backoff
// when the coordinator goes silent, and every report (result or failure)
// kept and resent until the coordinator acknowledges it. It knows nothing of
// jobs: messages other than welcome, refused, ack, reconnect and heartbeat
// go to the daemon's handler.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/clock.h"
#include "common/log.h"
#include "common/protocol.h"
#include "net/curve.h"

namespace avctl {

struct LinkOptions {
  std::string endpoint;
  std::string curve_server_public;  // empty: plain text
  CurveKeyPair curve_keys;
  int heartbeat_ms = 1000;          // until a welcome says otherwise
  int liveness = 3;
  int max_backoff_ms = 32000;
  const Clock* clock = &SystemClock();  // heartbeats, liveness, backoff (tests: a ManualClock)
};

class CoordinatorLink {
 public:
  struct Handlers {
    std::function<Json()> hello;                          // the hello body, at each connection
    std::function<void()> welcomed;                       // after welcome, once reports are resent
    std::function<void(const WireMessage&)> message;      // job, cancel, drain
    // A report is durable at the coordinator; `result_stored`: it was a result
    // and is now the job's (its checkpoints may go).
    std::function<void(int64_t attempt, bool spooled, bool result_stored)> acked;
  };

  CoordinatorLink(LinkOptions options, zmq::context_t& ctx, Logger* log, Handlers handlers);

  // Connects when due; heartbeats, resends reports waiting 10 intervals for
  // their ack, and drops a silent connection.
  void Tick();
  // The socket to poll, or null between connections.
  zmq::socket_t* socket() { return socket_ ? &*socket_ : nullptr; }
  // Reads and handles every waiting message.
  void OnReadable();

  void Send(MsgType type, Json body);
  // Sends a report now and keeps it until acked. `spooled`: the attempt has a
  // spool directory, which the acked handler removes.
  void Report(int64_t attempt, MsgType type, Json body, bool spooled);
  bool HasReport(int64_t attempt) const { return reports_.count(attempt) != 0; }
  // Forgets a report without an ack (its attempt was cancelled).
  bool DropReport(int64_t attempt) { return reports_.erase(attempt) != 0; }
  std::vector<int64_t> Reported() const;
  size_t unacknowledged() const { return reports_.size(); }
  bool connected() const { return connected_; }
  // The wait before the next connection attempt after a loss (doubling to max_backoff_ms).
  int backoff_ms() const { return backoff_ms_; }
  // Sends bye with a linger, so it leaves before the socket closes.
  void Bye();
  // Set when the coordinator refused this worker (it should exit).
  const Status& refused() const { return refused_; }

 private:
  struct PendingReport {
    MsgType type = MsgType::kResult;
    Json body;
    bool spooled = true;
    Clock::TimePoint sent_at;
  };

  void Connect();
  void Disconnect(const std::string& why);
  void OnMessage(const WireMessage& m);

  LinkOptions opt_;
  zmq::context_t& ctx_;
  Logger* log_;
  Handlers on_;
  std::optional<zmq::socket_t> socket_;
  bool connected_ = false;  // welcomed on the current connection
  Clock::TimePoint last_heard_, last_sent_, reconnect_at_;
  int backoff_ms_ = 1000;
  std::map<int64_t, PendingReport> reports_;
  Status refused_;
};

}  // namespace avctl
