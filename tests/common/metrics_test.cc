#include "common/metrics.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

ClassificationMetrics Compute(const std::vector<int>& truth, const std::vector<int>& pred, int k) {
  auto cm = ConfusionFromLabels(truth, pred, k);
  EXPECT_TRUE(cm.ok()) << cm.status().ToString();
  return ComputeMetrics(*cm);
}

TEST(MetricsTest, ThreeClassHandComputed) {
  // truth 0 0 0 1 1 2, pred 0 0 1 1 2 2
  // confusion rows (truth) x cols (pred): [2 1 0; 0 1 1; 0 0 1]
  // class 0: P = 2/2, R = 2/3, F1 = 2*(2/3)/(5/3) = 0.8
  // class 1: P = 1/2, R = 1/2, F1 = 0.5
  // class 2: P = 1/2, R = 1/1, F1 = 2*(1/2)/(3/2) = 2/3
  // macro P = (1 + .5 + .5)/3 = 2/3; macro R = (2/3 + 1/2 + 1)/3 = 13/18; macro F1 = (0.8 + 0.5 + 2/3)/3
  // accuracy = micro = 4/6
  auto m = Compute({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
  EXPECT_DOUBLE_EQ(m.per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(m.per_class[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.per_class[0].f1, 0.8);
  EXPECT_DOUBLE_EQ(m.per_class[1].f1, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.macro_precision, 2.0 / 3);
  EXPECT_DOUBLE_EQ(m.macro_recall, 13.0 / 18);
  EXPECT_NEAR(m.macro_f1, (0.8 + 0.5 + 2.0 / 3) / 3, 1e-15);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro_precision, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro_recall, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro_f1, 4.0 / 6);
  EXPECT_EQ(m.n, 6);
  EXPECT_EQ(m.per_class[0].support, 3);
  EXPECT_EQ(m.per_class[1].predicted, 2);
}

TEST(MetricsTest, SixClassHandComputed) {
  // Second half: 0->1, 1->1, 2->2, 3->4, 4->4, 5->0.
  // per class (P, R, F1): 0 (1/2, 1/2, .5); 1 (2/3, 1, .8); 2 (1, 1, 1); 3 (1, 1/2, 2/3);
  //                       4 (2/3, 1, .8); 5 (1, 1/2, 2/3)
  // macro P = (1/2 + 2/3 + 1 + 1 + 2/3 + 1)/6 = 29/36; macro R = 4.5/6 = .75
  // macro F1 = (.5 + .8 + 1 + 2/3 + .8 + 2/3)/6; accuracy = 9/12
  auto m = Compute({0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5, 1, 1, 2, 4, 4, 0}, 6);
  EXPECT_NEAR(m.macro_precision, 29.0 / 36, 1e-15);
  EXPECT_DOUBLE_EQ(m.macro_recall, 0.75);
  EXPECT_NEAR(m.macro_f1, (0.5 + 0.8 + 1 + 2.0 / 3 + 0.8 + 2.0 / 3) / 6, 1e-15);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_EQ(m.classes_averaged, 6);
  EXPECT_DOUBLE_EQ(m.per_class[3].recall, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[4].precision, 2.0 / 3);
}

TEST(MetricsTest, ClassNeverPredictedHasZeroPrecision) {
  // truth 0 1 2 2, pred 0 1 1 1: class 2 never predicted -> P = 0, R = 0, F1 = 0
  // class 1: P = 1/3, R = 1, F1 = 2*(1/3)/(4/3) = .5; macro F1 = (1 + .5 + 0)/3 = .5
  auto m = Compute({0, 1, 2, 2}, {0, 1, 1, 1}, 3);
  EXPECT_EQ(m.per_class[2].predicted, 0);
  EXPECT_DOUBLE_EQ(m.per_class[2].precision, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 0.0);
  EXPECT_TRUE(m.per_class[2].present);
  EXPECT_DOUBLE_EQ(m.per_class[1].f1, 0.5);
  EXPECT_DOUBLE_EQ(m.macro_f1, 0.5);
  EXPECT_EQ(m.classes_averaged, 3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
}

TEST(MetricsTest, ClassAbsentFromBothIsExcludedFromMacro) {
  // k = 3, class 2 nowhere. class 0: P 1, R 1/2, F1 2/3; class 1: P 2/3, R 1, F1 .8
  // macro F1 = (2/3 + .8)/2, averaged over 2 classes
  auto m = Compute({0, 0, 1, 1}, {0, 1, 1, 1}, 3);
  EXPECT_FALSE(m.per_class[2].present);
  EXPECT_EQ(m.classes_averaged, 2);
  EXPECT_NEAR(m.macro_f1, (2.0 / 3 + 0.8) / 2, 1e-15);
  EXPECT_NEAR(m.macro_precision, (1 + 2.0 / 3) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
}

TEST(MetricsTest, ClassPredictedButAbsentFromTruthCounts) {
  // truth 0 0, pred 0 1: class 1 has support 0, is present (predicted), P = R = F1 = 0.
  // class 0: P 1, R 1/2, F1 2/3; macro F1 = (2/3 + 0)/2 = 1/3
  auto m = Compute({0, 0}, {0, 1}, 2);
  EXPECT_TRUE(m.per_class[1].present);
  EXPECT_EQ(m.per_class[1].support, 0);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.0);
  EXPECT_NEAR(m.macro_f1, 1.0 / 3, 1e-15);
}

TEST(MetricsTest, PerfectAndEmpty) {
  auto perfect = Compute({0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, 6);
  EXPECT_DOUBLE_EQ(perfect.macro_f1, 1.0);
  EXPECT_DOUBLE_EQ(perfect.micro_f1, 1.0);
  EXPECT_DOUBLE_EQ(perfect.accuracy, 1.0);
  auto empty = Compute({}, {}, 6);
  EXPECT_EQ(empty.n, 0);
  EXPECT_EQ(empty.classes_averaged, 0);
  EXPECT_DOUBLE_EQ(empty.macro_f1, 0.0);
  EXPECT_DOUBLE_EQ(empty.accuracy, 0.0);
}

TEST(MetricsTest, BadInputsNameTheIndex) {
  auto size = ConfusionFromLabels({0, 1}, {0}, 2);
  ASSERT_FALSE(size.ok());
  EXPECT_NE(size.status().message().find("2 true labels but 1 predictions"), std::string::npos);
  auto range = ConfusionFromLabels({0, 7}, {0, 1}, 6);
  ASSERT_FALSE(range.ok());
  EXPECT_NE(range.status().message().find("true label 7 at index 1 outside 0..5"), std::string::npos);
  auto neg = ConfusionFromLabels({0, 1}, {0, -1}, 6);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().field(), "pred");
  EXPECT_FALSE(ConfusionFromLabels({}, {}, 0).ok());
}

TEST(MetricsTest, JsonRoundTrip) {
  auto m = Compute({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
  Json j = MetricsToJson(m);
  auto back = MetricsFromJson(j, "result.metrics");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_DOUBLE_EQ(back->macro_f1, m.macro_f1);
  EXPECT_EQ(back->per_class.size(), 3u);
  EXPECT_EQ(back->per_class[2].support, 1);
  j["macro_f1"] = "high";
  auto bad = MetricsFromJson(j, "result.metrics");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().field(), "result.metrics.macro_f1");
}

}  // namespace
}  // namespace avctl
