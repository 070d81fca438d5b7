#include "worker/background_worker.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "tests/wait.h"

namespace avctl {
namespace {

using testutil::Readable;

TEST(BackgroundWorker, ValuesInSubmissionOrderEachWakingTheLoopWhenReady) {
  auto wake = Wakeup::Create();
  ASSERT_TRUE(wake.ok());
  BackgroundWorker<std::string> worker(*wake);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  auto first = worker.Submit([released] {
    released.wait();  // held until the test lets it go
    return std::string("first");
  });
  auto second = worker.Submit([] { return std::string("second"); });
  EXPECT_FALSE(Readable((*wake)->fd(), 0));
  EXPECT_NE(first.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_NE(second.wait_for(std::chrono::seconds(0)), std::future_status::ready) << "one thread, in order";
  release.set_value();
  ASSERT_TRUE(Readable((*wake)->fd(), 10000));
  (*wake)->Clear();
  EXPECT_EQ(first.get(), "first");  // ready when the wakeup came
  EXPECT_EQ(second.get(), "second");
}

TEST(BackgroundWorker, TheDestructorFinishesWhatWasSubmitted) {
  std::vector<std::future<int>> results;
  {
    BackgroundWorker<int> worker(nullptr);
    for (int i = 0; i < 50; ++i) results.push_back(worker.Submit([i] { return i * i; }));
  }
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(results[static_cast<size_t>(i)].wait_for(std::chrono::seconds(0)), std::future_status::ready);
    EXPECT_EQ(results[static_cast<size_t>(i)].get(), i * i);
  }
}

}  // namespace
}  // namespace avctl
