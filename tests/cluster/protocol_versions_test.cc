// Wire-protocol versions against a live avcoord: a worker written to
// protocol 1 (before a result's compute_seconds was required) completes a
// sweep, its results stored with the wall time in that field's place and the
// record saying so; a version the coordinator does not serve is refused at
// hello, the reason naming both versions.
#include <string>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "net/zmq_util.h"
#include "tests/cluster/cluster_fixture.h"

namespace avctl {
namespace {

using testutil::WaitUntil;

class ProtocolVersionsTest : public testutil::ClusterTest {};

Json SleepSweep(const std::string& name, int seeds) {
  return {{"name", name},
          {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
          {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
          {"seeds", seeds},
          {"kind", "sleep"},
          {"sleep_seconds", 0}};
}

// A worker as a protocol-1 peer would have written it from that version's
// docs/PROTOCOL.md: hello, ready, heartbeats, and results without compute_seconds.
class V1Peer {
 public:
  V1Peer(zmq::context_t& ctx, const std::string& endpoint) : s_(ctx, zmq::socket_type::dealer) {
    ConfigureSocket(s_, 0);
    s_.set(zmq::sockopt::rcvtimeo, 100);
    s_.connect(endpoint);
  }
  void Send(MsgType type, const Json& body) { EXPECT_TRUE(SendFrames(s_, EncodeWorkerMessage({type, body}), true).ok()); }
  std::optional<WireMessage> Receive() {
    auto frames = RecvFrames(s_, true);
    if (!frames) return std::nullopt;
    auto m = DecodeWorkerMessage(*frames);
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    if (!m.ok()) return std::nullopt;
    return *m;
  }

 private:
  zmq::socket_t s_;
};

TEST_F(ProtocolVersionsTest, AProtocolOneWorkerCompletesASweep) {
  StartCoordinator();
  ASSERT_EQ(Call({{"op", "submit"}, {"spec", SleepSweep("v1", 3)}, {"source", "v1.json"}}).value("jobs", 0), 6);
  zmq::context_t ctx(1);
  V1Peer peer(ctx, ep_["workers"].get<std::string>());
  peer.Send(MsgType::kHello, {{"protocol", 1}, {"worker_id", "old1"}, {"device", "cpu"}, {"slots", 2}});
  int acked = 0;
  bool welcomed = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (acked < 6 && std::chrono::steady_clock::now() < deadline) {
    auto m = peer.Receive();
    if (welcomed) peer.Send(MsgType::kHeartbeat, Json::object());
    if (!m) continue;
    switch (m->type) {
      case MsgType::kWelcome:
        welcomed = true;
        peer.Send(MsgType::kReady, Json::object());
        break;
      case MsgType::kJob:
        peer.Send(MsgType::kResult, {{"attempt_id", m->body["attempt_id"]},
                                     {"result", {{"status", "ok"}, {"sleep", true}, {"test", {{"metrics", Json::object()}}}}}});
        break;
      case MsgType::kAck:
        ++acked;
        break;
      case MsgType::kRefused:
        FAIL() << "refused: " << m->body.dump();
      default:
        break;
    }
  }
  ASSERT_EQ(acked, 6) << coord_->Log();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 6);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts"), 6) << "an attempt was refused and retried";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results WHERE compute_seconds >= 0 AND json_extract(result, "
                  "'$.compute_seconds_source') LIKE '%protocol-1 worker%'"), 6);
  EXPECT_NE(coord_->Log().find("protocol 1: served as such"), std::string::npos) << coord_->Log();
}

TEST_F(ProtocolVersionsTest, AnUnservedVersionIsRefusedNamingBoth) {
  StartCoordinator();
  zmq::context_t ctx(1);
  for (int version : {0, kProtocolVersion + 1}) {
    V1Peer peer(ctx, ep_["workers"].get<std::string>());
    peer.Send(MsgType::kHello, {{"protocol", version}, {"worker_id", "x"}, {"device", "cpu"}, {"slots", 1}});
    std::optional<WireMessage> m;
    ASSERT_TRUE(WaitUntil([&] { return (m = peer.Receive()).has_value(); }, 10));
    ASSERT_EQ(m->type, MsgType::kRefused);
    const std::string reason = m->body.value("reason", "");
    EXPECT_NE(reason.find(fmt::format("protocol version {} is not supported", version)), std::string::npos) << reason;
    EXPECT_NE(reason.find(fmt::format("speaks version {}", kProtocolVersion)), std::string::npos) << reason;
    EXPECT_NE(reason.find(fmt::format("serves versions {} to {}", kOldestProtocolVersion, kProtocolVersion)),
              std::string::npos) << reason;
  }
  EXPECT_TRUE(coord_->running());
}

}  // namespace
}  // namespace avctl
