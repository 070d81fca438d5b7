#include "coordinator/failure_streak.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(FailureStreak, TripsWhenThreeDifferentJobsFailInARow) {
  FailureStreak s;
  EXPECT_FALSE(s.OnFailure(1, "exit 1"));
  EXPECT_FALSE(s.OnFailure(2, "exit 1"));
  EXPECT_TRUE(s.OnFailure(3, "CUDA driver version is insufficient"));
  EXPECT_EQ(s.Why(), "3 attempts of 3 different jobs failed here in a row; last: CUDA driver version is insufficient");
}

TEST(FailureStreak, TheSameJobFailingAgainIsNotANodeFault) {
  FailureStreak s;
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(s.OnFailure(7, "boom")) << i;
  EXPECT_FALSE(s.OnFailure(8, "boom"));
  EXPECT_EQ(s.failures(), 6);
  EXPECT_TRUE(s.OnFailure(9, "boom"));
}

TEST(FailureStreak, ASuccessEndsTheStreak) {
  FailureStreak s;
  EXPECT_FALSE(s.OnFailure(1, "x"));
  EXPECT_FALSE(s.OnFailure(2, "x"));
  s.OnSuccess();
  EXPECT_EQ(s.failures(), 0);
  EXPECT_FALSE(s.OnFailure(3, "x"));
  EXPECT_FALSE(s.OnFailure(4, "x"));
  EXPECT_TRUE(s.OnFailure(5, "x"));
}

TEST(FailureStreak, TheThresholdIsAnOption) {
  FailureStreak s(FailureStreakOptions{2});
  EXPECT_FALSE(s.OnFailure(1, "x"));
  EXPECT_TRUE(s.OnFailure(2, "x"));
}

}  // namespace
}  // namespace avctl
