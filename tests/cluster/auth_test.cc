// The authenticated fleet with real processes: avcoord with CURVE and a ZAP
// allowlist admits an enrolled worker and avctl, refuses (and logs) an
// unknown key, a client holding a wrong server key and a plain-text client,
// none of which changes the record; SIGHUP reloads the allowlist; a bind
// beyond loopback without CURVE is refused unless --insecure.
#include <stdlib.h>

#include <fstream>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "cli/control_client.h"
#include "net/curve.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::ChildProcess;
using testutil::kBin;
using testutil::WaitUntil;

class AuthTest : public testutil::ClusterTest {
 protected:
  std::string Key(const std::string& name) {
    const std::string prefix = (dir_ / name).string();
    auto r = testutil::RunCommand(kBin + "avctl keys gen " + prefix + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return prefix;
  }
  std::string PublicKey(const std::string& prefix) {
    auto k = ReadCurveKeyFile(prefix + ".pub", false);
    EXPECT_TRUE(k.ok()) << k.status().ToString();
    return k.ok() ? k->public_key : "";
  }
  void TearDown() override {
    ::unsetenv("AVCTL_CURVE_SERVER_KEY");
    ::unsetenv("AVCTL_CURVE_KEY");
    ClusterTest::TearDown();
  }
  size_t LogCount(const std::string& needle) {
    const std::string log = coord_->Log();
    size_t n = 0;
    for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++n;
    return n;
  }
};

TEST_F(AuthTest, AllowlistAdmitsEnrolledKeysAndRefusesTheRest) {
  const std::string server = Key("server"), good = Key("good"), intruder = Key("intruder"), client = Key("client"),
                    impostor = Key("impostor");
  const std::string allow = (dir_ / "allow.txt").string();
  {
    std::ofstream f(allow);
    f << "# enrolled keys\n" << PublicKey(good) << " good-worker\n" << PublicKey(client) << " operator\n";
  }
  coordinator_args_ = {"--curve-secret", server + ".key", "--allow", allow};
  ::setenv("AVCTL_CURVE_SERVER_KEY", (server + ".pub").c_str(), 1);
  ::setenv("AVCTL_CURVE_KEY", (client + ".key").c_str(), 1);
  StartCoordinator();
  ASSERT_NE(coord_->Log().find("CURVE on"), std::string::npos) << coord_->Log();

  // The enrolled worker connects; avctl (enrolled) reads the fleet.
  StartWorker(1, {"--curve-server-key", server + ".pub", "--curve-key", good + ".key"});
  ASSERT_TRUE(WaitUntil([&] { return Call({{"op", "ping"}}).value("workers", 0) == 1; }, 30)) << coord_->Log();
  int code = 0;
  std::string out = Avctl("workers", &code);
  EXPECT_EQ(code, 0) << out;
  EXPECT_NE(out.find("w1"), std::string::npos) << out;

  // Refused, each logged: an unknown key, a wrong server key, plain text.
  StartWorker(2, {"--curve-server-key", server + ".pub", "--curve-key", intruder + ".key"});
  StartWorker(3, {"--curve-server-key", impostor + ".pub", "--curve-key", good + ".key"});
  ChildProcess* plain_worker = StartWorker(4);
  EXPECT_TRUE(WaitUntil([&] { return LogCount("not in the allowlist") >= 1; }, 20)) << coord_->Log();
  EXPECT_TRUE(WaitUntil([&] { return LogCount("cryptographic error") >= 1; }, 20)) << coord_->Log();
  // The plain-text worker is refused in the handshake. libzmq names it a
  // mechanism mismatch when the server reads the client's greeting first;
  // when the client hangs up first (its side saw the mismatch too: common on
  // a loaded machine) the event has no detail. Either way the worker never
  // gets a welcome.
  EXPECT_TRUE(WaitUntil([&] {
    return LogCount("mechanism mismatch") >= 1 ||
           (LogCount("handshake failed") >= 1 && plain_worker->Log().find("no welcome from the coordinator") != std::string::npos);
  }, 20)) << coord_->Log() << plain_worker->Log();
  EXPECT_EQ(Call({{"op", "ping"}}).value("workers", 0), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workers"), 1);  // nothing recorded of the refused
  EXPECT_EQ(Count("SELECT COUNT(*) FROM workers WHERE id = 'w1'"), 1);

  // avctl without keys gets no answer.
  ::unsetenv("AVCTL_CURVE_KEY");
  ::unsetenv("AVCTL_CURVE_SERVER_KEY");
  auto plain = cli::CallCoordinator(ep_["control"].get<std::string>(), {{"op", "ping"}}, 1500);
  EXPECT_FALSE(plain.ok());
  ::setenv("AVCTL_CURVE_SERVER_KEY", (server + ".pub").c_str(), 1);
  ::setenv("AVCTL_CURVE_KEY", (client + ".key").c_str(), 1);

  // Enrol the intruder's key and reload with SIGHUP: it gets in (it keeps retrying).
  {
    std::ofstream f(allow, std::ios::app);
    f << PublicKey(intruder) << " late-worker\n";
  }
  coord_->Signal(SIGHUP);
  ASSERT_TRUE(WaitUntil([&] { return LogCount("allowlist reloaded: 3 client key(s)") == 1; }, 10)) << coord_->Log();
  EXPECT_TRUE(WaitUntil([&] { return Call({{"op", "ping"}}).value("workers", 0) == 2; }, 40)) << coord_->Log();
  // A broken allowlist keeps the previous one.
  {
    std::ofstream f(allow, std::ios::app);
    f << "not-a-key\n";
  }
  coord_->Signal(SIGHUP);
  EXPECT_TRUE(WaitUntil([&] { return LogCount("keeping the previous allowlist (3 key(s))") == 1; }, 10))
      << coord_->Log();
  EXPECT_EQ(Call({{"op", "ping"}}).value("workers", 0), 2);

  coord_->Signal(SIGTERM);
  EXPECT_EQ(coord_->Wait(20000), 0) << coord_->Log();
}

TEST_F(AuthTest, BindingBeyondLoopbackNeedsCurveOrInsecure) {
  ChildProcess c;
  ASSERT_TRUE(c.Start({kBin + "avcoord", "--db", db_, "--workers", "tcp://0.0.0.0:0", "--http", "-1"},
                      (dir_ / "open.log").string()));
  EXPECT_EQ(c.Wait(20000), 1);
  EXPECT_NE(c.Log().find("--workers"), std::string::npos) << c.Log();
  EXPECT_NE(c.Log().find("--insecure"), std::string::npos) << c.Log();
  EXPECT_FALSE(fs::exists(db_)) << "refused before the record is opened";

  ChildProcess http;
  ASSERT_TRUE(http.Start({kBin + "avcoord", "--db", db_, "--workers", "tcp://127.0.0.1:0", "--control",
                          "tcp://127.0.0.1:0", "--http", "0", "--http-address", "0.0.0.0"},
                         (dir_ / "http.log").string()));
  EXPECT_EQ(http.Wait(20000), 1);
  EXPECT_NE(http.Log().find("--http-address"), std::string::npos) << http.Log();

  ChildProcess lone;
  ASSERT_TRUE(lone.Start({kBin + "avcoord", "--db", db_, "--curve-secret", (dir_ / "x.key").string()},
                         (dir_ / "lone.log").string()));
  EXPECT_EQ(lone.Wait(20000), 1);
  EXPECT_NE(lone.Log().find("--allow"), std::string::npos) << lone.Log();

  ChildProcess insecure;
  const std::string endpoints = (dir_ / "insecure.json").string();
  ASSERT_TRUE(insecure.Start({kBin + "avcoord", "--db", db_, "--workers", "tcp://0.0.0.0:*", "--control",
                              "tcp://127.0.0.1:*", "--http", "-1", "--insecure", "--endpoints-file", endpoints},
                             (dir_ / "insecure.log").string()));
  EXPECT_TRUE(WaitUntil([&] { return fs::exists(endpoints) || !insecure.running(); }, 20)) << insecure.Log();
  EXPECT_TRUE(insecure.running()) << insecure.Log();
  insecure.Signal(SIGTERM);
  EXPECT_EQ(insecure.Wait(20000), 0) << insecure.Log();
}

}  // namespace
}  // namespace avctl
