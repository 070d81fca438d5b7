#include "worker/coordinator_link.h"

#include <fmt/format.h>

#include "net/zmq_util.h"

namespace avctl {

CoordinatorLink::CoordinatorLink(LinkOptions options, zmq::context_t& ctx, Logger* log, Handlers handlers)
    : opt_(std::move(options)), ctx_(ctx), log_(log), on_(std::move(handlers)), reconnect_at_(opt_.clock->Now()) {}

void CoordinatorLink::Connect() {
  socket_.emplace(ctx_, zmq::socket_type::dealer);
  ConfigureSocket(*socket_, 0);
  if (!opt_.curve_server_public.empty()) MakeCurveClient(*socket_, opt_.curve_server_public, opt_.curve_keys);
  socket_->connect(opt_.endpoint);
  connected_ = false;
  last_heard_ = opt_.clock->Now();
  Send(MsgType::kHello, on_.hello());
  log_->Debug("hello sent to {}", opt_.endpoint);
}

void CoordinatorLink::Disconnect(const std::string& why) {
  socket_.reset();
  connected_ = false;
  reconnect_at_ = opt_.clock->Now() + std::chrono::milliseconds(backoff_ms_);
  log_->Warn("{}; reconnecting to {} in {} ms", why, opt_.endpoint, backoff_ms_);
  backoff_ms_ = std::min(backoff_ms_ * 2, opt_.max_backoff_ms);
}

void CoordinatorLink::Send(MsgType type, Json body) {
  if (!socket_) return;
  if (Status s = SendFrames(*socket_, EncodeWorkerMessage({type, std::move(body)})); !s.ok()) {
    log_->Warn("sending {}: {}", MsgTypeName(type), s.ToString());
    return;
  }
  last_sent_ = opt_.clock->Now();
}

void CoordinatorLink::Report(int64_t attempt, MsgType type, Json body, bool spooled) {
  PendingReport& r = reports_[attempt];
  r.type = type;
  r.body = std::move(body);
  r.spooled = spooled;
  r.sent_at = opt_.clock->Now();
  Send(r.type, r.body);
}

std::vector<int64_t> CoordinatorLink::Reported() const {
  std::vector<int64_t> out;
  for (const auto& [a, r] : reports_) out.push_back(a);
  return out;
}

void CoordinatorLink::Bye() {
  if (!socket_ || !connected_) return;
  socket_->set(zmq::sockopt::linger, 1000);  // the bye leaves before the socket closes
  Send(MsgType::kBye, Json::object());
}

void CoordinatorLink::Tick() {
  const auto now = opt_.clock->Now();
  if (!socket_) {
    if (now >= reconnect_at_ && refused_.ok()) Connect();
    return;
  }
  const auto hb = std::chrono::milliseconds(opt_.heartbeat_ms);
  if (connected_ && now - last_sent_ >= hb) Send(MsgType::kHeartbeat, Json::object());
  if (connected_) {  // an ack may have been lost: resend what has waited 10 heartbeats for one
    for (auto& [a, r] : reports_) {
      if (now - r.sent_at < 10 * hb) continue;
      Send(r.type, r.body);
      r.sent_at = now;
    }
  }
  if (now - last_heard_ > hb * opt_.liveness) {
    Disconnect(connected_ ? "the coordinator went silent" : "no welcome from the coordinator");
  }
}

void CoordinatorLink::OnReadable() {
  while (socket_) {
    auto frames = RecvFrames(*socket_, false);
    if (!frames) break;
    last_heard_ = opt_.clock->Now();
    auto m = DecodeWorkerMessage(*frames);
    if (!m.ok()) {
      log_->Warn("bad message from the coordinator: {}", m.status().ToString());
      continue;
    }
    OnMessage(*m);
  }
}

void CoordinatorLink::OnMessage(const WireMessage& m) {
  switch (m.type) {
    case MsgType::kWelcome: {
      auto welcome = ReadWelcome(m.body);  // DecodeWorkerMessage checked it
      if (!welcome.ok()) {
        log_->Warn("bad welcome: {}", welcome.status().ToString());
        return;
      }
      connected_ = true;
      backoff_ms_ = 1000;
      opt_.heartbeat_ms = welcome->heartbeat_ms;
      opt_.liveness = welcome->liveness;
      log_->Info("connected to {} (heartbeat {} ms, liveness {})", opt_.endpoint, opt_.heartbeat_ms, opt_.liveness);
      for (auto& [a, r] : reports_) {
        Send(r.type, r.body);
        r.sent_at = opt_.clock->Now();
      }
      on_.welcomed();
      return;
    }
    case MsgType::kRefused: {
      const std::string reason = m.body["reason"].get<std::string>();
      log_->Error("refused by the coordinator: {}", reason);
      refused_ = Status::FailedPrecondition("refused by the coordinator: " + reason);
      connected_ = false;
      socket_.reset();
      return;
    }
    case MsgType::kAck: {
      const AckMessage ack = ReadAck(m.body);
      auto it = reports_.find(ack.attempt_id);
      if (it == reports_.end()) return;
      const bool spooled = it->second.spooled;
      reports_.erase(it);
      on_.acked(ack.attempt_id, spooled, ack.result_stored);
      return;
    }
    case MsgType::kReconnect:
      log_->Info("the coordinator asks for a new hello: {}", m.body["reason"].get<std::string>());
      socket_.reset();
      Connect();
      return;
    case MsgType::kHeartbeat:
      return;
    default:
      on_.message(m);
  }
}

}  // namespace avctl
