#include "worker/prefetch_queue.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <vector>
#include <thread>

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(PrefetchQueueTest, ItemsArriveInOrderFromOneSequentialMaker) {
  for (int depth : {0, 1, 3}) {
    int state = 0;  // a maker with its own state, as a random stream is
    PrefetchQueue<int> q(50, depth, [&](size_t i) -> Result<int> { return static_cast<int>(i) * 1000 + state++; });
    for (int i = 0; i < 50; ++i) {
      auto v = q.Next();
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(*v, i * 1000 + i) << "depth " << depth;
    }
  }
}

TEST(PrefetchQueueTest, DepthZeroMakesOnTheCallersThread) {
  const auto caller = std::this_thread::get_id();
  PrefetchQueue<bool> q(3, 0, [&](size_t) -> Result<bool> { return std::this_thread::get_id() == caller; });
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(*q.Next());
}

TEST(PrefetchQueueTest, NeverMoreThanDepthAhead) {
  // The maker checks the bound each time it is called: item k may be made
  // only once item k - depth has been handed out (`taken` counts the Next
  // calls begun; it is raised before each call, so a correct queue never
  // makes an item the check refuses). Before each Next the test waits until
  // the producer has filled the queue, the moment a queue without the bound
  // would go on to make more.
  const int depth = 2;
  const int n = 20;
  std::mutex mu;
  std::condition_variable cv;
  int made = 0, taken = 0;
  std::vector<std::string> violations;
  PrefetchQueue<int> q(n, depth, [&](size_t i) -> Result<int> {
    std::lock_guard<std::mutex> lock(mu);
    if (static_cast<int>(i) > taken + depth - 1) {
      violations.push_back("item " + std::to_string(i) + " made with " + std::to_string(taken) + " handed out");
    }
    ++made;
    cv.notify_all();
    return static_cast<int>(i);
  });
  for (int k = 0; k < n; ++k) {
    {
      std::unique_lock<std::mutex> lock(mu);
      ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return made >= std::min(taken + depth, n); }))
          << "the producer stopped short of the queue's depth";
      ++taken;
    }
    auto v = q.Next();
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(*v, k);
  }
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_EQ(made, n);
  EXPECT_TRUE(violations.empty()) << violations.front();
}

TEST(PrefetchQueueTest, AnErrorArrivesInItsPlaceAndStopsTheProducer) {
  std::atomic<int> made{0};
  {
    PrefetchQueue<int> q(10, 4, [&](size_t i) -> Result<int> {
      ++made;
      if (i == 3) return Status::IOError("clip 3 unreadable");
      return static_cast<int>(i);
    });
    for (int i = 0; i < 3; ++i) EXPECT_EQ(*q.Next(), i);
    auto bad = q.Next();
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.status().ToString().find("clip 3 unreadable"), std::string::npos);
  }  // joined: whatever the producer would still make, it has made
  EXPECT_EQ(made.load(), 4);
}

TEST(PrefetchQueueTest, AThrowingMakerBecomesAnError) {
  PrefetchQueue<int> q(2, 1, [&](size_t) -> Result<int> { throw std::runtime_error("out of pinned memory"); });
  auto v = q.Next();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().ToString().find("out of pinned memory"), std::string::npos);
}

TEST(PrefetchQueueTest, DestroyedEarlyJoinsTheProducer) {
  // Each item takes a while to make (the work, not a synchronisation), so
  // the producer is almost always inside the maker. A destructor that did
  // not join would return while it is; a joining one cannot, and nothing is
  // made after it returns.
  std::atomic<int> made{0}, inside{0};
  {
    PrefetchQueue<int> q(1000, 2, [&](size_t i) -> Result<int> {
      ++inside;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++made;
      --inside;
      return static_cast<int>(i);
    });
    ASSERT_TRUE(q.Next().ok());
  }
  EXPECT_EQ(inside.load(), 0) << "the destructor returned while the producer was making an item";
  EXPECT_LE(made.load(), 4) << "the producer went on after the queue was destroyed";  // 1 taken, 2 waiting, 1 in the making
}

}  // namespace
}  // namespace avctl
