// Classification metrics, torch-free (used by the worker and the report):
// a confusion matrix, per-class precision/recall/F1, macro and micro
// averages and accuracy, and their JSON form for results.
//
// Definitions (scikit-learn's, with zero_division = 0 and labels not given).
// For class c: TP = cm(c,c), support = row sum (true count), predicted =
// column sum, FP = predicted - TP, FN = support - TP.
//  - precision = TP / predicted, and 0 for a class never predicted;
//  - recall = TP / support, and 0 for a class absent from the truth;
//  - F1 = 2PR / (P + R), and 0 when P + R = 0;
//  - a class is present when it occurs in the truth or in the predictions;
//    an absent class has all-zero figures and is left out of every average;
//  - macro P / R / F1 = unweighted means over the present classes
//    (classes_averaged of them); macro F1 is the mean of the per-class F1,
//    not the F1 of macro P and macro R;
//  - micro P = sum TP / (sum TP + sum FP), micro R = sum TP / (sum TP +
//    sum FN), micro F1 = their harmonic mean; for single-label multiclass
//    data all three equal accuracy;
//  - accuracy = trace / n;
//  - empty input (n = 0): every figure 0, classes_averaged = 0.
#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

// Counts of (true class, predicted class) pairs; rows are true classes,
// columns predicted ones, stored row-major.
class ConfusionMatrix {
 public:
  // REQUIRES: num_classes >= 0.
  explicit ConfusionMatrix(int num_classes)
      : k_(num_classes), counts_(static_cast<size_t>(num_classes) * static_cast<size_t>(num_classes), 0) {
    assert(num_classes >= 0);
  }

  int num_classes() const { return k_; }
  // REQUIRES: 0 <= truth, pred < num_classes() (ConfusionFromLabels checks
  // labels that come from outside).
  int64_t at(int truth, int pred) const { return counts_[Index(truth, pred)]; }
  void Add(int truth, int pred, int64_t count = 1) { counts_[Index(truth, pred)] += count; }
  // Sum of all counts (the number of labelled examples).
  int64_t total() const;
  // Row-major [num_classes x num_classes].
  const std::vector<int64_t>& counts() const { return counts_; }

 private:
  size_t Index(int truth, int pred) const {
    assert(truth >= 0 && truth < k_ && pred >= 0 && pred < k_);
    return static_cast<size_t>(truth) * static_cast<size_t>(k_) + static_cast<size_t>(pred);
  }

  int k_;
  std::vector<int64_t> counts_;
};

// Counts truth[i] against pred[i]. InvalidArgument when num_classes <= 0,
// when the sizes differ, or when a label is outside [0, num_classes) (the
// message names the index and the value, field() is "truth" or "pred").
Result<ConfusionMatrix> ConfusionFromLabels(const std::vector<int>& truth, const std::vector<int>& pred,
                                            int num_classes);

struct ClassMetrics {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  int64_t support = 0;    // examples whose true class is this one
  int64_t predicted = 0;  // examples predicted as this class
  bool present = false;   // support > 0 or predicted > 0
};

struct ClassificationMetrics {
  std::vector<ClassMetrics> per_class;  // one per class, absent ones included
  double macro_precision = 0;
  double macro_recall = 0;
  double macro_f1 = 0;
  double micro_precision = 0;
  double micro_recall = 0;
  double micro_f1 = 0;
  double accuracy = 0;
  int64_t n = 0;             // examples counted
  int classes_averaged = 0;  // present classes, the macro denominators
};

ClassificationMetrics ComputeMetrics(const ConfusionMatrix& cm);

// JSON form with stable field names (stored in results; renaming one breaks
// old results):
//   {"accuracy", "macro_precision", "macro_recall", "macro_f1",
//    "micro_precision", "micro_recall", "micro_f1", "n", "classes_averaged",
//    "per_class": [{"precision", "recall", "f1", "support", "predicted",
//                   "present"}, ...]}
Json MetricsToJson(const ClassificationMetrics& m);
// The inverse; `path` is the JSON path of `j`, used to name the field at
// fault. Unknown keys are ignored; counts must be non-negative and
// classes_averaged at most the number of classes.
Result<ClassificationMetrics> MetricsFromJson(const Json& j, const std::string& path);

}  // namespace avctl
