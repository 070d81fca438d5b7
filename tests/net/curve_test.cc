// CURVE keys, the allowlist, loopback detection and the ZAP decision (pure).
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/json_util.h"
#include "net/curve.h"
#include "net/zap_handler.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

class CurveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("curve");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

std::string Binary(const std::string& z85) {
  uint8_t bin[32];
  EXPECT_NE(zmq_z85_decode(bin, z85.c_str()), nullptr);
  return std::string(reinterpret_cast<const char*>(bin), 32);
}

TEST_F(CurveTest, KeyFilesRoundTripWithSafePermissions) {
  auto keys = GenerateCurveKeyPair();
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  EXPECT_TRUE(IsZ85Key(keys->public_key));
  EXPECT_TRUE(IsZ85Key(keys->secret_key));
  const std::string name = (dir_ / "node7").string();
  ASSERT_TRUE(WriteCurveKeyFiles(name, *keys).ok());
  struct stat st {};
  ASSERT_EQ(::stat((name + ".key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto back = ReadCurveKeyFile(name + ".key", true);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->public_key, keys->public_key);
  EXPECT_EQ(back->secret_key, keys->secret_key);
  auto pub = ReadCurveKeyFile(name + ".pub", false);
  ASSERT_TRUE(pub.ok());
  EXPECT_EQ(pub->public_key, keys->public_key);
  EXPECT_TRUE(pub->secret_key.empty());
  // Never overwritten.
  auto again = WriteCurveKeyFiles(name, *keys);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  // The .pub where a secret is needed names the field; a readable secret is refused.
  auto no_secret = ReadCurveKeyFile(name + ".pub", true);
  ASSERT_FALSE(no_secret.ok());
  EXPECT_NE(no_secret.status().ToString().find("curve_secret"), std::string::npos) << no_secret.status().ToString();
  ASSERT_EQ(::chmod((name + ".key").c_str(), 0644), 0);
  auto open = ReadCurveKeyFile(name + ".key", true);
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().ToString().find("chmod 600"), std::string::npos) << open.status().ToString();
  // Garbage in the public key field.
  ASSERT_TRUE(WriteJsonFileAtomic((dir_ / "bad.pub").string(), Json{{"curve_public", "short"}}).ok());
  auto bad = ReadCurveKeyFile((dir_ / "bad.pub").string(), false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("curve_public"), std::string::npos);
}

TEST(CurveAllowlist, KeysNamesCommentsAndErrorsWithLines) {
  const std::string a = GenerateCurveKeyPair()->public_key;
  const std::string b = GenerateCurveKeyPair()->public_key;
  // '#' is a Z85 digit but cannot start a key (its first group would overflow 32 bits).
  std::string hash_key = a;
  hash_key[0] = '#';
  EXPECT_FALSE(IsZ85Key(hash_key));
  auto list = ParseCurveAllowlist(fmt::format("# fleet\n\n{} gpu-node-7\n  {}\n#{}\n", a, b, a), "allow.txt");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ(list->at(Binary(a)), "gpu-node-7");
  EXPECT_EQ(list->at(Binary(b)), b);  // unnamed: the key itself
  auto bad = ParseCurveAllowlist(fmt::format("{}\nnot-a-key name\n", a), "allow.txt");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("allow.txt"), std::string::npos);
  EXPECT_NE(bad.status().ToString().find("line 2"), std::string::npos) << bad.status().ToString();
}

TEST(CurveLoopback, EndpointsAndHosts) {
  for (const char* ep : {"tcp://127.0.0.1:5555", "tcp://127.0.0.1:*", "tcp://localhost:1", "tcp://[::1]:5",
                         "ipc:///tmp/x", "inproc://x", "tcp://127.1.2.3:9"}) {
    EXPECT_TRUE(IsLoopbackEndpoint(ep)) << ep;
  }
  for (const char* ep : {"tcp://*:5555", "tcp://0.0.0.0:5555", "tcp://10.0.0.5:1", "tcp://login1:5555",
                         "tcp://eth0:5555", "tcp://[::]:5"}) {
    EXPECT_FALSE(IsLoopbackEndpoint(ep)) << ep;
  }
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
}

TEST(ZapDecision, AdmitsListedKeysOnlyOverCurve) {
  const std::string key = Binary(GenerateCurveKeyPair()->public_key);
  const std::string other = Binary(GenerateCurveKeyPair()->public_key);
  const std::map<std::string, std::string> allow = {{key, "node7"}};
  std::string line;
  auto ok = ZapHandler::Reply({"1.0", "id1", "avctl", "10.0.0.7", "", "CURVE", key}, allow, &line);
  EXPECT_EQ(ok, (std::vector<std::string>{"1.0", "id1", "200", "OK", "node7", ""}));
  EXPECT_TRUE(line.empty());
  auto unknown = ZapHandler::Reply({"1.0", "id2", "avctl", "10.0.0.8", "", "CURVE", other}, allow, &line);
  EXPECT_EQ(unknown[2], "400");
  EXPECT_NE(line.find("10.0.0.8"), std::string::npos) << line;
  EXPECT_NE(line.find("not in the allowlist"), std::string::npos) << line;
  auto plain = ZapHandler::Reply({"1.0", "id3", "avctl", "10.0.0.9", "", "NULL"}, allow, &line);
  EXPECT_EQ(plain[2], "400");
  EXPECT_NE(line.find("CURVE is required"), std::string::npos);
  auto junk = ZapHandler::Reply({"2.0", "id4"}, allow, &line);
  EXPECT_EQ(junk[1], "id4");
  EXPECT_EQ(junk[2], "500");
}

}  // namespace
}  // namespace avctl
