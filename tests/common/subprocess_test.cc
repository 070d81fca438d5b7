#include "common/subprocess.h"

#include <sys/wait.h>

#include <chrono>

#include <gtest/gtest.h>

namespace avctl {
namespace {

using std::chrono::milliseconds;

TEST(RunCaptured, OutputAndExitStatus) {
  auto run = RunCaptured({"sh", "-c", "echo out; echo err >&2; exit 3"}, ProcessEnvironment(), "", milliseconds(10000));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(run->output, "out\nerr\n");
  EXPECT_FALSE(run->timed_out);
  ASSERT_TRUE(WIFEXITED(run->wait_status));
  EXPECT_EQ(WEXITSTATUS(run->wait_status), 3);
  EXPECT_FALSE(run->succeeded());
}

// A program that closes its output before it exits: its exit is waited for
// (on a pidfd), not taken for a hang.
TEST(RunCaptured, AProgramThatClosesItsOutputFirstIsWaitedFor) {
  auto run = RunCaptured({"sh", "-c", "exec >/dev/null 2>&1; sleep 0.3; exit 0"}, ProcessEnvironment(), "",
                         milliseconds(10000));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->succeeded());
  EXPECT_FALSE(run->timed_out);
}

TEST(RunCaptured, OneThatKeepsRunningPastTheTimeoutIsKilled) {
  const auto start = std::chrono::steady_clock::now();
  auto run = RunCaptured({"sh", "-c", "exec >/dev/null 2>&1; exec sleep 30"}, ProcessEnvironment(), "",
                         milliseconds(300));
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_TRUE(run->timed_out);
  EXPECT_FALSE(run->succeeded());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  ASSERT_TRUE(WIFSIGNALED(run->wait_status));
  EXPECT_EQ(WTERMSIG(run->wait_status), SIGKILL);
}

}  // namespace
}  // namespace avctl
