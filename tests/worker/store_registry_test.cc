// StoreRegistry: a worker daemon prepares each dataset's store once (built,
// opened, verified off its event loop), holds it open, and reports stores it
// cannot prepare with the reason.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "worker/store_registry.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

StoreRegistry::Lookup WaitReady(StoreRegistry* r, const Json& dataset) {
  for (int i = 0; i < 1200; ++i) {
    r->Poll();
    StoreRegistry::Lookup l = r->Get(dataset);
    if (l.state != StoreRegistry::State::kPreparing) return l;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return r->Get(dataset);
}

class StoreRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("registry");
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  Logger log_{stderr, LogLevel::kWarn};
};

TEST_F(StoreRegistryTest, PreparesOnceAndHoldsTheStoreOpen) {
  StoreRegistry r((dir_ / "cache").string(), &log_);
  const Json synth = {{"synth", {{"profile", "tiny"}, {"seed", 3}}}};
  EXPECT_EQ(r.Get(synth).state, StoreRegistry::State::kPreparing);  // started, not waited for
  StoreRegistry::Lookup l = WaitReady(&r, synth);
  ASSERT_EQ(l.state, StoreRegistry::State::kReady) << l.error.ToString();
  EXPECT_TRUE(fs::exists(fs::path(l.dir) / "manifest.json"));
  EXPECT_EQ(r.open_stores(), 1u);
  // Later jobs get it at once, and a store given by path is the same store.
  EXPECT_EQ(r.Get(synth).state, StoreRegistry::State::kReady);
  EXPECT_TRUE(r.Poll().empty());
  const Json by_path = {{"store", l.dir}};
  ASSERT_EQ(WaitReady(&r, by_path).state, StoreRegistry::State::kReady);
  EXPECT_EQ(r.Get(by_path).dir, l.dir);
  EXPECT_EQ(r.open_stores(), 2u);
}

TEST_F(StoreRegistryTest, ReportsStoresItCannotPrepare) {
  StoreRegistry r((dir_ / "cache").string(), &log_);
  // A bad spec: the field is named.
  StoreRegistry::Lookup bad = WaitReady(&r, Json{{"synth", {{"profile", "huge"}}}});
  ASSERT_EQ(bad.state, StoreRegistry::State::kFailed);
  EXPECT_EQ(bad.error.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.error.ToString().find("dataset.synth"), std::string::npos) << bad.error.ToString();
  // A missing store.
  StoreRegistry::Lookup missing = WaitReady(&r, Json{{"store", (dir_ / "nowhere").string()}});
  ASSERT_EQ(missing.state, StoreRegistry::State::kFailed);
  EXPECT_NE(missing.error.ToString().find("nowhere"), std::string::npos) << missing.error.ToString();

  // A store whose data no longer matches its checksum: the daemon's one
  // verification catches it, naming the file.
  const Json synth = {{"synth", {{"profile", "tiny"}, {"seed", 4}}}};
  StoreRegistry::Lookup good = WaitReady(&r, synth);
  ASSERT_EQ(good.state, StoreRegistry::State::kReady) << good.error.ToString();
  const fs::path copy = dir_ / "corrupt";
  fs::copy(good.dir, copy, fs::copy_options::recursive);
  {
    std::fstream f(copy / "audio.f32", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekp(1000);
    const char junk[4] = {'b', 'a', 'd', '!'};
    f.write(junk, 4);
  }
  StoreRegistry::Lookup corrupt = WaitReady(&r, Json{{"store", copy.string()}});
  ASSERT_EQ(corrupt.state, StoreRegistry::State::kFailed);
  EXPECT_NE(corrupt.error.ToString().find("audio.f32"), std::string::npos) << corrupt.error.ToString();
  // Forgotten, a failed store is prepared again on the next request.
  r.Forget(StoreRegistry::Key(Json{{"store", copy.string()}}));
  EXPECT_EQ(r.Get(Json{{"store", copy.string()}}).state, StoreRegistry::State::kPreparing);
}

}  // namespace
}  // namespace avctl
