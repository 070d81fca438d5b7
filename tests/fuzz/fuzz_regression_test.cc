// Every input that once crashed a libFuzzer target (fuzz/regressions/<target>/)
// goes through the same code as the target and must come back as an error or
// a value, never a crash or an escaped exception.
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/json_util.h"
#include "common/protocol.h"
#include "sweeps/sweep_spec.h"
#include "features/npy.h"
#include "features/opensmile_csv.h"
#include "fuzz/coordinator_fixture.h"
#include "fuzz/label_source_input.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> Inputs(const std::string& target) {
  std::vector<std::string> out;
  const fs::path dir = fs::path(AVCTL_SOURCE_DIR) / "fuzz" / "regressions" / target;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::directory_iterator(dir)) {
    auto text = ReadFileToString(e.path().string());
    EXPECT_TRUE(text.ok()) << text.status().ToString();
    if (text.ok()) out.push_back(*text);
  }
  return out;
}

std::vector<std::string> Frames(const std::string& data) {  // as protocol_fuzz splits them
  std::vector<std::string> frames(1);
  for (char c : data) {
    if (static_cast<unsigned char>(c) == 0xFF) {
      frames.emplace_back();
    } else {
      frames.back().push_back(c);
    }
  }
  return frames;
}

TEST(FuzzRegressions, ProtocolDecoders) {
  const auto inputs = Inputs("protocol");
  EXPECT_FALSE(inputs.empty());
  for (const std::string& in : inputs) {
    EXPECT_NO_THROW({
      (void)DecodeWorkerMessage(Frames(in));
      (void)DecodeControl(Frames(in));
    });
  }
}

TEST(FuzzRegressions, SweepSpecParser) {
  const auto inputs = Inputs("sweep_spec");
  EXPECT_FALSE(inputs.empty());
  for (const std::string& in : inputs) {
    EXPECT_NO_THROW({
      auto json = ParseJson(in, "regression.json");
      if (json.ok()) {
        auto spec = ParseSweepSpec(*json, "regression.json");
        if (spec.ok()) (void)ExpandSweep(*spec);
      }
    });
  }
}

TEST(FuzzRegressions, FeatureReaders) {
  for (const std::string& in : Inputs("opensmile_csv")) EXPECT_NO_THROW((void)ParseOpenSmileLldCsv(in, "r.csv"));
  for (const std::string& in : Inputs("npy")) EXPECT_NO_THROW((void)ParseNpy(in, "r.npy"));
  for (const std::string& in : Inputs("label_source")) {
    if (!in.empty()) {
      EXPECT_NO_THROW(fuzz::ReadLabelInput(in));
    }
  }
}

// The coordinator's handlers, as http_fuzz and control_fuzz drive them.
TEST(FuzzRegressions, CoordinatorHttpAndControl) {
  fuzz::CoordinatorFixture fx;
  const auto http = Inputs("http");
  EXPECT_GE(http.size(), 2u);
  for (const std::string& in : http) {
    int status = 0;
    EXPECT_EQ(fuzz::HandleHttpBytes(fx, in, &status), 1) << in;
    EXPECT_TRUE(status == 400 || status == 404) << status << " for " << in;
  }
  const auto control = Inputs("control");
  EXPECT_GE(control.size(), 1u);
  for (const std::string& in : control) {
    bool internal = true;
    auto reply = fuzz::HandleControlBytes(fx, in, &internal);
    ASSERT_TRUE(reply.has_value()) << in;
    EXPECT_FALSE(internal) << *reply;
    EXPECT_NE(reply->find("\"ok\":false"), std::string::npos) << *reply;
  }
  fs::remove_all(fx.dir);
}

TEST(FuzzRegressions, NumbersBeyondADoubleAreInvalidJsonNotACrash) {
  // The first finding: nlohmann throws out_of_range for 1e999, which escaped ParseJson.
  auto r = ParseJson(R"({"op": "status", "sweep": 963e97776})", "control message");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().ToString().find("control message"), std::string::npos) << r.status().ToString();
  EXPECT_FALSE(DecodeControl({kControlSignature, R"({"op": 1e400})"}).ok());
}

}  // namespace
}  // namespace avctl
