// The queue of spooled results to make durable: due a delay after they are
// written unless acknowledged first (times are given, no clock is read).
#include "worker/spool_sync.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

using namespace std::chrono_literals;
using Clock = SpoolSyncQueue::Clock;

TEST(SpoolSyncQueue, AResultIsDueADelayAfterItIsWrittenUnlessAcknowledgedFirst) {
  SpoolSyncQueue q(1s);
  const Clock::time_point t0{};
  EXPECT_FALSE(q.NextDue().has_value());
  q.Written(7, t0);
  q.Written(3, t0 + 200ms);
  q.Written(9, t0 + 100ms);
  EXPECT_EQ(q.NextDue(), t0 + 1s);
  EXPECT_TRUE(q.TakeDue(t0 + 999ms).empty());
  q.Forget(9);  // acknowledged: never synced
  EXPECT_EQ(q.TakeDue(t0 + 1s), (std::vector<int64_t>{7}));
  EXPECT_EQ(q.NextDue(), t0 + 1200ms);
  q.Written(5, t0 + 150ms);
  // Oldest first, each taken once.
  EXPECT_EQ(q.TakeDue(t0 + 5s), (std::vector<int64_t>{5, 3}));
  EXPECT_TRUE(q.TakeDue(t0 + 6s).empty());
  EXPECT_EQ(q.size(), 0u);
  // Written again (a restarted daemon reports it again): due from then.
  q.Written(3, t0 + 10s);
  q.Written(3, t0 + 11s);
  EXPECT_EQ(q.NextDue(), t0 + 12s);
  q.Forget(42);  // unknown: nothing happens
  EXPECT_EQ(q.size(), 1u);
}

TEST(SpoolSyncQueue, SyncingAFolderThatIsGoneIsAnErrorNamingIt) {
  const auto dir = testutil::FreshTestDir("spool-sync");
  const std::string attempt = (dir / "12").string();
  std::filesystem::create_directories(attempt);
  ASSERT_TRUE(WriteFileAtomic(attempt + "/result.json", "{}\n", Durability::kProcessLifetime).ok());
  EXPECT_TRUE(SyncSpooledFile(attempt, "result.json").ok());
  EXPECT_TRUE(SyncSpooledFile(attempt, "no-such-file.json").ok()) << "a folder without the file is synced all the same";
  Status gone = SyncSpooledFile((dir / "13").string(), "result.json");
  EXPECT_FALSE(gone.ok());
  EXPECT_NE(gone.ToString().find((dir / "13").string()), std::string::npos) << gone.ToString();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace avctl
