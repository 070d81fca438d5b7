#include "common/metrics.h"

#include <cmath>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace avctl {
namespace {

// Hand-computed fractions are compared with a tolerance of a few ulps: the
// code divides in a different order than the comments do.
constexpr double kTol = 1e-12;

ClassificationMetrics Compute(const std::vector<int>& truth, const std::vector<int>& pred, int k) {
  auto cm = ConfusionFromLabels(truth, pred, k);
  EXPECT_TRUE(cm.ok()) << cm.status().ToString();
  return cm.ok() ? ComputeMetrics(*cm) : ClassificationMetrics();
}

// Label vectors holding rows[t][p] examples of (truth t, prediction p).
void Expand(const std::vector<std::vector<int>>& rows, std::vector<int>* truth, std::vector<int>* pred) {
  for (size_t t = 0; t < rows.size(); ++t) {
    for (size_t p = 0; p < rows[t].size(); ++p) {
      for (int i = 0; i < rows[t][p]; ++i) {
        truth->push_back(static_cast<int>(t));
        pred->push_back(static_cast<int>(p));
      }
    }
  }
}

TEST(ConfusionMatrixTest, RowsAreTruthColumnsArePredictions) {
  ConfusionMatrix cm(3);
  cm.Add(0, 2);
  cm.Add(0, 2);
  cm.Add(2, 1, 5);
  EXPECT_EQ(cm.num_classes(), 3);
  EXPECT_EQ(cm.at(0, 2), 2);
  EXPECT_EQ(cm.at(2, 0), 0);
  EXPECT_EQ(cm.at(2, 1), 5);
  EXPECT_EQ(cm.total(), 7);
  // Row-major: (0,2) is element 2, (2,1) is element 2*3+1 = 7.
  EXPECT_EQ(cm.counts(), (std::vector<int64_t>{0, 0, 2, 0, 0, 0, 0, 5, 0}));

  auto from_labels = ConfusionFromLabels({0, 0, 2, 2, 2, 2, 2}, {2, 2, 1, 1, 1, 1, 1}, 3);
  ASSERT_TRUE(from_labels.ok()) << from_labels.status().ToString();
  EXPECT_EQ(from_labels->counts(), cm.counts());
}

TEST(MetricsTest, ThreeClassHandComputed) {
  // truth 0 0 0 1 1 2, pred 0 0 1 1 2 2
  // confusion (rows truth, cols pred): [2 1 0; 0 1 1; 0 0 1]
  // class 0: TP 2, support 3, predicted 2: P = 2/2 = 1, R = 2/3, F1 = 2*1*(2/3)/(1 + 2/3) = (4/3)/(5/3) = 0.8
  // class 1: TP 1, support 2, predicted 2: P = 1/2, R = 1/2, F1 = 1/2
  // class 2: TP 1, support 1, predicted 2: P = 1/2, R = 1, F1 = 2*(1/2)*1/(3/2) = 2/3
  // macro P = (1 + 1/2 + 1/2)/3 = 2/3
  // macro R = (2/3 + 1/2 + 1)/3 = (13/6)/3 = 13/18
  // macro F1 = (4/5 + 1/2 + 2/3)/3 = (24/30 + 15/30 + 20/30)/3 = 59/90
  // micro: sum TP = 4, sum FP = 0+1+1 = 2, sum FN = 1+1+0 = 2: P = R = F1 = 4/6 = accuracy
  auto m = Compute({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3);
  ASSERT_EQ(m.per_class.size(), 3u);
  EXPECT_DOUBLE_EQ(m.per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(m.per_class[0].recall, 2.0 / 3);
  EXPECT_NEAR(m.per_class[0].f1, 0.8, kTol);
  EXPECT_DOUBLE_EQ(m.per_class[1].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[1].f1, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[2].precision, 0.5);
  EXPECT_DOUBLE_EQ(m.per_class[2].recall, 1.0);
  EXPECT_NEAR(m.per_class[2].f1, 2.0 / 3, kTol);
  EXPECT_EQ(m.per_class[0].support, 3);
  EXPECT_EQ(m.per_class[0].predicted, 2);
  EXPECT_EQ(m.per_class[2].support, 1);
  EXPECT_EQ(m.per_class[2].predicted, 2);
  EXPECT_NEAR(m.macro_precision, 2.0 / 3, kTol);
  EXPECT_NEAR(m.macro_recall, 13.0 / 18, kTol);
  EXPECT_NEAR(m.macro_f1, 59.0 / 90, kTol);
  EXPECT_DOUBLE_EQ(m.accuracy, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro_precision, 4.0 / 6);
  EXPECT_DOUBLE_EQ(m.micro_recall, 4.0 / 6);
  EXPECT_NEAR(m.micro_f1, 4.0 / 6, kTol);
  EXPECT_EQ(m.n, 6);
  EXPECT_EQ(m.classes_averaged, 3);
}

TEST(MetricsTest, SixClassHandComputed) {
  // n = 20, rows = truth, cols = prediction:
  //        p0 p1 p2 p3 p4 p5 | support
  //   t0 [  3  1  0  0  0  0 ]  4
  //   t1 [  0  2  1  0  0  0 ]  3
  //   t2 [  1  0  2  0  1  0 ]  4
  //   t3 [  0  0  0  3  0  0 ]  3
  //   t4 [  0  1  0  1  1  0 ]  3
  //   t5 [  0  0  1  0  0  2 ]  3
  // predicted  4  4  4  4  2  2   (sum 20)
  // TP = 3 2 2 3 1 2, trace 13, accuracy = 13/20 = 0.65
  // P  = 3/4, 2/4, 2/4, 3/4, 1/2, 2/2
  // R  = 3/4, 2/3, 2/4, 3/3, 1/3, 2/3
  // F1 = 2TP/(support + predicted) = 6/(4+4), 4/(3+4), 4/(4+4), 6/(3+4), 2/(3+2), 4/(3+2)
  //    = 3/4, 4/7, 1/2, 6/7, 2/5, 4/5
  // macro P  = (3/4 + 1/2 + 1/2 + 3/4 + 1/2 + 1)/6 = 4/6 = 2/3
  // macro R  = (3/4 + 2/3 + 1/2 + 1 + 1/3 + 2/3)/6 = (9/4 + 5/3)/6 = (47/12)/6 = 47/72
  // macro F1 = (3/4 + 4/7 + 1/2 + 6/7 + 2/5 + 4/5)/6 = (5/4 + 10/7 + 6/5)/6
  //          = ((175 + 200 + 168)/140)/6 = 543/840 = 181/280
  // micro: sum TP 13, sum FP = 20 - 13 = 7, sum FN = 7: P = R = F1 = 13/20
  const std::vector<std::vector<int>> rows = {
      {3, 1, 0, 0, 0, 0}, {0, 2, 1, 0, 0, 0}, {1, 0, 2, 0, 1, 0},
      {0, 0, 0, 3, 0, 0}, {0, 1, 0, 1, 1, 0}, {0, 0, 1, 0, 0, 2},
  };
  std::vector<int> truth, pred;
  Expand(rows, &truth, &pred);
  auto cm = ConfusionFromLabels(truth, pred, 6);
  ASSERT_TRUE(cm.ok()) << cm.status().ToString();
  for (int t = 0; t < 6; ++t) {
    for (int p = 0; p < 6; ++p) EXPECT_EQ(cm->at(t, p), rows[t][p]) << t << "," << p;
  }
  ClassificationMetrics m = ComputeMetrics(*cm);
  const double p[6] = {3.0 / 4, 1.0 / 2, 1.0 / 2, 3.0 / 4, 1.0 / 2, 1.0};
  const double r[6] = {3.0 / 4, 2.0 / 3, 1.0 / 2, 1.0, 1.0 / 3, 2.0 / 3};
  const double f1[6] = {3.0 / 4, 4.0 / 7, 1.0 / 2, 6.0 / 7, 2.0 / 5, 4.0 / 5};
  const int64_t support[6] = {4, 3, 4, 3, 3, 3};
  const int64_t predicted[6] = {4, 4, 4, 4, 2, 2};
  ASSERT_EQ(m.per_class.size(), 6u);
  for (int c = 0; c < 6; ++c) {
    SCOPED_TRACE("class " + std::to_string(c));
    EXPECT_NEAR(m.per_class[c].precision, p[c], kTol);
    EXPECT_NEAR(m.per_class[c].recall, r[c], kTol);
    EXPECT_NEAR(m.per_class[c].f1, f1[c], kTol);
    EXPECT_EQ(m.per_class[c].support, support[c]);
    EXPECT_EQ(m.per_class[c].predicted, predicted[c]);
    EXPECT_TRUE(m.per_class[c].present);
  }
  EXPECT_NEAR(m.macro_precision, 2.0 / 3, kTol);
  EXPECT_NEAR(m.macro_recall, 47.0 / 72, kTol);
  EXPECT_NEAR(m.macro_f1, 181.0 / 280, kTol);
  // Not the F1 of macro P and macro R: 2*(2/3)*(47/72)/(2/3 + 47/72) = 188/285.
  EXPECT_GT(std::abs(m.macro_f1 - 188.0 / 285), 1e-3);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.65);
  EXPECT_NEAR(m.micro_precision, 0.65, kTol);
  EXPECT_NEAR(m.micro_recall, 0.65, kTol);
  EXPECT_NEAR(m.micro_f1, 0.65, kTol);
  EXPECT_EQ(m.n, 20);
  EXPECT_EQ(m.classes_averaged, 6);
}

TEST(MetricsTest, ClassNeverPredictedHasZeroPrecisionAndCounts) {
  // truth 0 1 2 2, pred 0 1 1 1: class 2 is in the truth but never predicted.
  // class 0: P 1/1, R 1/1, F1 1
  // class 1: P 1/3, R 1/1, F1 = 2*(1/3)*1/(4/3) = 1/2
  // class 2: P = 0 (never predicted), R = 0/2 = 0, F1 = 0; present (support 2), so averaged
  // macro P = (1 + 1/3 + 0)/3 = 4/9; macro R = (1 + 1 + 0)/3 = 2/3; macro F1 = (1 + 1/2 + 0)/3 = 1/2
  // accuracy = 2/4
  auto m = Compute({0, 1, 2, 2}, {0, 1, 1, 1}, 3);
  EXPECT_EQ(m.per_class[2].predicted, 0);
  EXPECT_EQ(m.per_class[2].support, 2);
  EXPECT_TRUE(m.per_class[2].present);
  EXPECT_DOUBLE_EQ(m.per_class[2].precision, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[2].recall, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 0.0);
  EXPECT_NEAR(m.per_class[1].f1, 0.5, kTol);
  EXPECT_EQ(m.classes_averaged, 3);
  EXPECT_NEAR(m.macro_precision, 4.0 / 9, kTol);
  EXPECT_NEAR(m.macro_recall, 2.0 / 3, kTol);
  EXPECT_NEAR(m.macro_f1, 0.5, kTol);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_DOUBLE_EQ(m.micro_f1, 0.5);
}

TEST(MetricsTest, ClassPredictedButAbsentFromTruthCounts) {
  // truth 0 0, pred 0 1: class 1 has support 0 but is predicted once, so it is present:
  // P = 0/1 = 0, R = 0 (absent from the truth), F1 = 0.
  // class 0: P 1/1, R 1/2, F1 = 2*(1/2)/(3/2) = 2/3
  // macro over 2 classes: P = (1 + 0)/2 = 1/2, R = (1/2 + 0)/2 = 1/4, F1 = (2/3 + 0)/2 = 1/3
  auto m = Compute({0, 0}, {0, 1}, 2);
  EXPECT_TRUE(m.per_class[1].present);
  EXPECT_EQ(m.per_class[1].support, 0);
  EXPECT_EQ(m.per_class[1].predicted, 1);
  EXPECT_DOUBLE_EQ(m.per_class[1].precision, 0.0);
  EXPECT_DOUBLE_EQ(m.per_class[1].recall, 0.0);
  EXPECT_EQ(m.classes_averaged, 2);
  EXPECT_NEAR(m.macro_precision, 0.5, kTol);
  EXPECT_NEAR(m.macro_recall, 0.25, kTol);
  EXPECT_NEAR(m.macro_f1, 1.0 / 3, kTol);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
}

TEST(MetricsTest, ClassAbsentFromBothIsExcludedFromMacro) {
  // k = 3, truth 0 0 1 1, pred 0 1 1 1: class 2 occurs nowhere.
  // class 0: P 1/1, R 1/2, F1 2/3; class 1: P 2/3, R 2/2, F1 = 2*(2/3)/(5/3) = 4/5
  // macro over 2 classes: P = (1 + 2/3)/2 = 5/6, R = (1/2 + 1)/2 = 3/4, F1 = (2/3 + 4/5)/2 = 11/15
  // (averaging over 3 would give 5/9, 1/2, 22/45)
  auto m = Compute({0, 0, 1, 1}, {0, 1, 1, 1}, 3);
  EXPECT_FALSE(m.per_class[2].present);
  EXPECT_EQ(m.per_class[2].support, 0);
  EXPECT_EQ(m.per_class[2].predicted, 0);
  EXPECT_DOUBLE_EQ(m.per_class[2].f1, 0.0);
  EXPECT_EQ(m.classes_averaged, 2);
  EXPECT_NEAR(m.macro_precision, 5.0 / 6, kTol);
  EXPECT_NEAR(m.macro_recall, 0.75, kTol);
  EXPECT_NEAR(m.macro_f1, 11.0 / 15, kTol);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.75);
  EXPECT_DOUBLE_EQ(m.micro_precision, 0.75);
}

TEST(MetricsTest, PerfectPrediction) {
  // Every class: TP = support = predicted = 1, so P = R = F1 = 1.
  auto m = Compute({0, 1, 2, 3, 4, 5}, {0, 1, 2, 3, 4, 5}, 6);
  for (const ClassMetrics& c : m.per_class) {
    EXPECT_DOUBLE_EQ(c.precision, 1.0);
    EXPECT_DOUBLE_EQ(c.recall, 1.0);
    EXPECT_DOUBLE_EQ(c.f1, 1.0);
  }
  EXPECT_DOUBLE_EQ(m.macro_precision, 1.0);
  EXPECT_DOUBLE_EQ(m.macro_recall, 1.0);
  EXPECT_DOUBLE_EQ(m.macro_f1, 1.0);
  EXPECT_DOUBLE_EQ(m.micro_f1, 1.0);
  EXPECT_DOUBLE_EQ(m.accuracy, 1.0);
  EXPECT_EQ(m.classes_averaged, 6);
}

TEST(MetricsTest, EmptyInputIsAllZeros) {
  auto m = Compute({}, {}, 6);
  EXPECT_EQ(m.n, 0);
  EXPECT_EQ(m.classes_averaged, 0);
  ASSERT_EQ(m.per_class.size(), 6u);
  for (const ClassMetrics& c : m.per_class) {
    EXPECT_FALSE(c.present);
    EXPECT_EQ(c.precision, 0.0);
    EXPECT_EQ(c.recall, 0.0);
    EXPECT_EQ(c.f1, 0.0);
  }
  for (double v : {m.macro_precision, m.macro_recall, m.macro_f1, m.micro_precision, m.micro_recall, m.micro_f1,
                   m.accuracy}) {
    EXPECT_EQ(v, 0.0);
  }
}

TEST(MetricsTest, BadInputsNameTheIndexAndValue) {
  auto size = ConfusionFromLabels({0, 1}, {0}, 2);
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(size.status().message().find("2 true labels but 1 predictions"), std::string::npos);

  auto range = ConfusionFromLabels({0, 7}, {0, 1}, 6);
  ASSERT_FALSE(range.ok());
  EXPECT_EQ(range.status().field(), "truth");
  EXPECT_NE(range.status().message().find("true label 7 at index 1 outside 0..5"), std::string::npos)
      << range.status().ToString();

  auto neg = ConfusionFromLabels({0, 1, 2}, {0, 1, -1}, 6);
  ASSERT_FALSE(neg.ok());
  EXPECT_EQ(neg.status().field(), "pred");
  EXPECT_NE(neg.status().message().find("predicted label -1 at index 2"), std::string::npos)
      << neg.status().ToString();

  auto upper = ConfusionFromLabels({3}, {3}, 3);  // labels are 0-based: 3 is out of range for 3 classes
  ASSERT_FALSE(upper.ok());
  EXPECT_NE(upper.status().message().find("true label 3 at index 0 outside 0..2"), std::string::npos);

  EXPECT_FALSE(ConfusionFromLabels({}, {}, 0).ok());
  EXPECT_FALSE(ConfusionFromLabels({0}, {0}, -2).ok());
}

TEST(MetricsJsonTest, FieldNamesAreStable) {
  Json j = MetricsToJson(Compute({0, 0, 1}, {0, 1, 1}, 3));
  std::set<std::string> keys;
  for (const auto& item : j.items()) keys.insert(item.key());
  EXPECT_EQ(keys, (std::set<std::string>{"accuracy", "macro_precision", "macro_recall", "macro_f1", "micro_precision",
                                         "micro_recall", "micro_f1", "n", "classes_averaged", "per_class"}));
  ASSERT_TRUE(j["per_class"].is_array());
  ASSERT_EQ(j["per_class"].size(), 3u);
  std::set<std::string> class_keys;
  for (const auto& item : j["per_class"][0].items()) class_keys.insert(item.key());
  EXPECT_EQ(class_keys, (std::set<std::string>{"precision", "recall", "f1", "support", "predicted", "present"}));
  EXPECT_EQ(j["n"], 3);
  EXPECT_EQ(j["classes_averaged"], 2);
  EXPECT_EQ(j["per_class"][2]["present"], false);
}

TEST(MetricsJsonTest, RoundTripKeepsEveryField) {
  auto m = Compute({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 4);  // class 3 absent
  Json j = MetricsToJson(m);
  // Through text, as a stored result would go.
  auto parsed = ParseJson(j.dump(), "result.json");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  auto back = MetricsFromJson(*parsed, "metrics");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->macro_precision, m.macro_precision);
  EXPECT_EQ(back->macro_recall, m.macro_recall);
  EXPECT_EQ(back->macro_f1, m.macro_f1);
  EXPECT_EQ(back->micro_precision, m.micro_precision);
  EXPECT_EQ(back->micro_recall, m.micro_recall);
  EXPECT_EQ(back->micro_f1, m.micro_f1);
  EXPECT_EQ(back->accuracy, m.accuracy);
  EXPECT_EQ(back->n, m.n);
  EXPECT_EQ(back->classes_averaged, 3);
  ASSERT_EQ(back->per_class.size(), 4u);
  for (size_t c = 0; c < 4; ++c) {
    EXPECT_EQ(back->per_class[c].precision, m.per_class[c].precision) << c;
    EXPECT_EQ(back->per_class[c].recall, m.per_class[c].recall) << c;
    EXPECT_EQ(back->per_class[c].f1, m.per_class[c].f1) << c;
    EXPECT_EQ(back->per_class[c].support, m.per_class[c].support) << c;
    EXPECT_EQ(back->per_class[c].predicted, m.per_class[c].predicted) << c;
    EXPECT_EQ(back->per_class[c].present, m.per_class[c].present) << c;
  }
}

TEST(MetricsJsonTest, BadJsonNamesTheField) {
  const Json good = MetricsToJson(Compute({0, 0, 0, 1, 1, 2}, {0, 0, 1, 1, 2, 2}, 3));
  struct Case {
    const char* what;
    Json j;
    std::string field;
  };
  std::vector<Case> cases;
  {
    Json j = good;
    j["macro_f1"] = "high";
    cases.push_back({"wrong type", j, "result.metrics.macro_f1"});
  }
  {
    Json j = good;
    j.erase("accuracy");
    cases.push_back({"missing", j, "result.metrics.accuracy"});
  }
  {
    Json j = good;
    j["per_class"][1]["support"] = -2;
    cases.push_back({"negative count", j, "result.metrics.per_class[1].support"});
  }
  {
    Json j = good;
    j["per_class"][2]["present"] = 1;
    cases.push_back({"int for bool", j, "result.metrics.per_class[2].present"});
  }
  {
    Json j = good;
    j["per_class"] = Json::object();
    cases.push_back({"per_class not an array", j, "result.metrics.per_class"});
  }
  {
    Json j = good;
    j["classes_averaged"] = 4;
    cases.push_back({"more classes averaged than exist", j, "result.metrics.classes_averaged"});
  }
  for (const Case& c : cases) {
    auto r = MetricsFromJson(c.j, "result.metrics");
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.what;
    EXPECT_EQ(r.status().field(), c.field) << c.what << ": " << r.status().ToString();
  }
  EXPECT_FALSE(MetricsFromJson(Json::array(), "m").ok());
}

}  // namespace
}  // namespace avctl
