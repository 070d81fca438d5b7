#include "worker/epoch_schedule.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(EpochSelectorTest, KeepsTheLowestDevLossAndTheEarlierOfTies) {
  EpochSelector s(/*by_f1=*/false, 0);
  EXPECT_TRUE(s.Offer(1, 1.5, 0.2));
  EXPECT_TRUE(s.Offer(2, 1.2, 0.1));
  EXPECT_FALSE(s.Offer(3, 1.2, 0.9));  // a tie keeps epoch 2
  EXPECT_FALSE(s.Offer(4, 1.3, 0.9));
  EXPECT_EQ(s.best_epoch(), 2);
  EXPECT_FALSE(s.ShouldStop());  // no early stop without patience
}

TEST(EpochSelectorTest, MacroF1SelectsTheHighest) {
  EpochSelector s(/*by_f1=*/true, 0);
  s.Offer(1, 1.0, 0.30);
  s.Offer(2, 0.9, 0.25);
  s.Offer(3, 1.1, 0.40);
  EXPECT_EQ(s.best_epoch(), 3);
}

TEST(EpochSelectorTest, StopsAfterMoreThanPatienceEpochsWithoutANewBest) {
  EpochSelector s(/*by_f1=*/false, 2);
  s.Offer(1, 1.0, 0);
  s.Offer(2, 1.1, 0);
  s.Offer(3, 1.1, 0);
  EXPECT_FALSE(s.ShouldStop());  // two epochs without a new best: still within patience
  s.Offer(4, 1.1, 0);
  EXPECT_TRUE(s.ShouldStop());
}

TEST(PlateauScheduleTest, ReducesAfterPatienceAndCountsAgain) {
  PlateauSchedule p(1.0, 1, 0.1);
  EXPECT_DOUBLE_EQ(p.Step(2.0), 1.0);   // first epoch: improvement over infinity
  EXPECT_DOUBLE_EQ(p.Step(2.0), 1.0);   // 1 bad epoch: within patience
  EXPECT_DOUBLE_EQ(p.Step(2.0), 0.1);   // 2 > patience: reduced, count reset
  EXPECT_DOUBLE_EQ(p.Step(2.0), 0.1);
  EXPECT_NEAR(p.Step(2.0), 0.01, 1e-15);
  EXPECT_NEAR(p.Step(1.0), 0.01, 1e-15);  // an improvement resets the count
}

TEST(PlateauScheduleTest, ImprovementsBelowTheRelativeThresholdDoNotCount) {
  PlateauSchedule p(1.0, 0, 0.5);
  p.Step(1.0);
  EXPECT_DOUBLE_EQ(p.Step(1.0 - 1e-5), 0.5);  // less than 1e-4 relative: a bad epoch
  EXPECT_DOUBLE_EQ(p.Step(0.5), 0.5);         // a real improvement
}

}  // namespace
}  // namespace avctl
