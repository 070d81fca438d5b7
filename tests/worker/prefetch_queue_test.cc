#include "worker/prefetch_queue.h"

#include <atomic>
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
  std::atomic<int> made{0};
  const int depth = 2;
  PrefetchQueue<int> q(20, depth, [&](size_t i) -> Result<int> {
    ++made;
    return static_cast<int>(i);
  });
  for (int taken = 0; taken < 20; ++taken) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));  // let the producer run ahead if it would
    // Made so far: the taken ones, at most `depth` waiting, and at most one in the making.
    EXPECT_LE(made.load(), taken + depth + 1);
    ASSERT_TRUE(q.Next().ok());
  }
}

TEST(PrefetchQueueTest, AnErrorArrivesInItsPlaceAndStopsTheProducer) {
  std::atomic<int> made{0};
  PrefetchQueue<int> q(10, 4, [&](size_t i) -> Result<int> {
    ++made;
    if (i == 3) return Status::IOError("clip 3 unreadable");
    return static_cast<int>(i);
  });
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*q.Next(), i);
  auto bad = q.Next();
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("clip 3 unreadable"), std::string::npos);
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_EQ(made.load(), 4);
}

TEST(PrefetchQueueTest, AThrowingMakerBecomesAnError) {
  PrefetchQueue<int> q(2, 1, [&](size_t) -> Result<int> { throw std::runtime_error("out of pinned memory"); });
  auto v = q.Next();
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().ToString().find("out of pinned memory"), std::string::npos);
}

TEST(PrefetchQueueTest, DestroyedEarlyJoinsTheProducer) {
  std::atomic<int> made{0};
  {
    PrefetchQueue<int> q(1000, 2, [&](size_t i) -> Result<int> {
      ++made;
      return static_cast<int>(i);
    });
    ASSERT_TRUE(q.Next().ok());
  }
  const int after = made.load();
  std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(made.load(), after);
  EXPECT_LE(after, 4);
}

}  // namespace
}  // namespace avctl
