// A live avcoord under abuse, all on loopback and bounded in count and time:
// a few thousand malformed and hostile HTTP requests (huge numbers, invalid
// UTF-8, long paths and headers, bodies over the limit, bad methods, random
// bytes), connections that stall or half-close, more connections at once
// than the cap, and a flood of malformed control messages. Afterwards it
// still answers, a sweep submitted before the abuse finishes with every job
// stored once, and the record passes integrity_check.
#include <sys/socket.h>
#include <unistd.h>

#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <zmq.hpp>

#include "common/protocol.h"
#include "net/zmq_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/raw_http.h"

namespace avctl {
namespace {

using testutil::WaitUntil;

class AbuseTest : public testutil::ClusterTest {
 protected:
  int HttpPort() {
    const std::string http = ep_["http"].get<std::string>();
    return std::stoi(http.substr(http.rfind(':') + 1));
  }
};

// Hostile request n of a deterministic mix.
std::string HostileRequest(int n, std::mt19937& rng) {
  auto random_bytes = [&](size_t len) {
    std::string s(len, '\0');
    for (char& c : s) c = static_cast<char>(rng() & 0xFF);
    return s;
  };
  const std::string big_number(400, '9');
  switch (n % 14) {
    case 0: return "GET /api/sweeps/" + big_number + " HTTP/1.1\r\nHost: x\r\n\r\n";
    case 1: return "GET /api/events?after=" + big_number + " HTTP/1.1\r\nHost: x\r\n\r\n";
    case 2: return "GET /\xff\xfe\xc0\x80/api HTTP/1.1\r\nHost: x\r\n\r\n";
    case 3: return "GET /api/sweeps/" + random_bytes(64) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    case 4: return "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n";  // beyond the header limit
    case 5: return "GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + std::string(30000, 'b') + "\r\n\r\n";
    case 6: return "POST /api/sweeps HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + std::string(100000, 'c');
    case 7: return "DELETE /api/sweeps/1 HTTP/1.1\r\nHost: x\r\n\r\n";
    case 8: return random_bytes(1 + rng() % 2000);
    case 9: return "GET /report/" + big_number + "/index.html HTTP/1.1\r\nHost: x\r\n\r\n";
    case 10: return "GET /api/sweeps/abuse/jobs?state=" + random_bytes(32) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    case 11: return "GET /api/sweeps/-1 HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n";
    case 12: return "GET /metrics HTTP/9.9\r\nHost: x\r\n\r\n";
    default: return "GET /api/sweeps/abuse/results?" + std::string(5000, '&') + " HTTP/1.1\r\nHost: x\r\n\r\n";
  }
}

TEST_F(AbuseTest, HostileRequestsLeaveItAnsweringDispatchingAndIntact) {
  StartCoordinator();
  const Json spec = {{"name", "abuse"},
                     {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
                     {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
                     {"seeds", 20},
                     {"kind", "sleep"},
                     {"sleep_seconds", 0.02}};
  ASSERT_EQ(Call({{"op", "submit"}, {"spec", spec}, {"source", "abuse.json"}}).value("jobs", 0), 40);
  const int port = HttpPort();
  std::mt19937 rng(24);

  // 1. Malformed and hostile requests, one connection each.
  int answered = 0;
  for (int n = 0; n < 2800; ++n) {
    // Half-closed after the bytes: an incomplete request ends there instead of waiting out the read timeout.
    const std::string reply = testutil::RawHttp(port, HostileRequest(n, rng), 5000, /*half_close=*/true);
    answered += reply.empty() ? 0 : 1;
    if (n % 500 == 0) ASSERT_TRUE(coord_->running()) << "after request " << n << ":\n" << coord_->Log();
  }
  EXPECT_GT(answered, 2000) << "most hostile requests should get an error reply, not a silent close";

  // 2. Half-closed: the request, then no more from the client; the answer still comes.
  {
    const int fd = testutil::ConnectLoopback(port);
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(testutil::SendAll(fd, "GET /api/sweeps HTTP/1.1\r\nHost: x\r\n\r\n"));
    ::shutdown(fd, SHUT_WR);
    const std::string r = testutil::ReadUntilClosed(fd, 10000);
    ::close(fd);
    EXPECT_EQ(testutil::HttpStatus(r), 200) << r.substr(0, 200);
  }

  // 3. More connections at once than the cap (256), half of them stalling
  //    mid-request: the ones beyond the cap are closed at once, the stalled
  //    ones when the read timeout (10 s) passes, and the server answers
  //    again as soon as they are gone.
  std::vector<int> held;
  for (int i = 0; i < 300; ++i) {
    const int fd = testutil::ConnectLoopback(port);
    if (fd < 0) continue;
    if (i % 2 == 0) testutil::SendAll(fd, "GET /api/sweeps HTTP/1.1\r\nHost: x\r\n");  // no blank line: stalls
    held.push_back(fd);
  }
  ASSERT_GE(held.size(), 290u);
  int closed_by_server = 0;
  for (int fd : held) {
    bool closed = false;
    testutil::ReadUntilClosed(fd, 20000, &closed);
    closed_by_server += closed ? 1 : 0;
    ::close(fd);
  }
  EXPECT_EQ(closed_by_server, static_cast<int>(held.size())) << "a connection outlived the read timeout";

  // 4. A flood of malformed control messages.
  zmq::context_t ctx(1);
  zmq::socket_t dealer(ctx, zmq::socket_type::dealer);
  ConfigureSocket(dealer, 0);
  dealer.set(zmq::sockopt::rcvtimeo, 5000);
  dealer.connect(ep_["control"].get<std::string>());
  const std::vector<std::string> bodies = {
      R"({"op": "status", "sweep": "99999999999999999999"})", R"({"op": "events", "after": "x", "limit": -1})",
      R"({"op": "jobs", "sweep": 1e308, "state": {}})", "{\"op\": \"ping\xff\"}", "[]", "nul",
      R"({"op": "submit", "spec": {"name": 7}})", R"({"op": "cancel", "sweep": "no-such-sweep"})",
      R"({"op": "drain_worker", "worker": ["a"]})", R"({"op": "results", "sweep": -9223372036854775808})"};
  int replies = 0;
  for (int n = 0; n < 1000; ++n) {
    std::vector<std::string> frames = {"", kControlSignature, bodies[n % bodies.size()]};
    if (n % 7 == 3) frames = {"", "NOT-AVCTL", "{}"};
    if (n % 11 == 5) frames = {"", kControlSignature, bodies[0], "extra"};
    ASSERT_TRUE(SendFrames(dealer, frames, true).ok());
  }
  while (auto r = RecvFrames(dealer, true)) {
    ++replies;
    if (replies == 1000) break;
  }
  EXPECT_EQ(replies, 1000) << "every control message gets an answer";

  // Still answering, still dispatching, nothing lost.
  ASSERT_TRUE(coord_->running()) << coord_->Log();
  EXPECT_EQ(testutil::HttpStatus(testutil::HttpGet(port, "/api/sweeps")), 200);
  EXPECT_TRUE(Call({{"op", "ping"}}).contains("version"));
  StartWorker(1, {"--slots", "2"});
  ASSERT_TRUE(WaitUntil([&] { return Status("abuse").value("finished", false); }, 120)) << coord_->Log();
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 40);
  EXPECT_EQ(Count("SELECT COUNT(DISTINCT job_id) FROM results"), 40);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 40);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM sweeps"), 1) << "a hostile message created a sweep";
  EXPECT_EQ(Text("PRAGMA integrity_check"), "ok");
  const std::string metrics = testutil::HttpGet(port, "/metrics");
  EXPECT_NE(metrics.find("avctl_http_timeouts_total"), std::string::npos);
  EXPECT_NE(metrics.find("avctl_handler_errors_total 0\n"), std::string::npos) << "a handler failed unexpectedly:\n"
                                                                                << metrics;
}

}  // namespace
}  // namespace avctl
