#include "common/wakeup.h"

#include <thread>

#include <gtest/gtest.h>

#include "tests/wait.h"

namespace avctl {
namespace {

using testutil::Readable;

TEST(WakeupTest, ReadableFromNotifyUntilClear) {
  auto w = Wakeup::Create();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_FALSE(Readable((*w)->fd(), 0));
  (*w)->Notify();
  (*w)->Notify();  // notifications coalesce
  EXPECT_TRUE(Readable((*w)->fd(), 0));
  (*w)->Clear();
  EXPECT_FALSE(Readable((*w)->fd(), 0));
  (*w)->Clear();  // clearing an unset one does not block
  EXPECT_FALSE(Readable((*w)->fd(), 0));
}

TEST(WakeupTest, AnotherThreadWakesAPollingLoop) {
  auto w = Wakeup::Create();
  ASSERT_TRUE(w.ok());
  std::shared_ptr<Wakeup> wake = *w;
  std::thread t([wake] { wake->Notify(); });
  EXPECT_TRUE(Readable(wake->fd(), 10000));  // the event, not a sleep, ends the wait
  t.join();
}

}  // namespace
}  // namespace avctl
