// Classification metrics, torch-free (used by the worker and the report):
// confusion matrix, per-class precision/recall/F1, macro and micro averages,
// accuracy.
//
// Definitions (scikit-learn's, with zero_division = 0):
//  - precision of a class never predicted = 0; recall of a class absent from
//    the truth = 0; F1 = 0 when precision + recall = 0;
//  - macro P/R/F1 = unweighted mean over the classes that occur in the truth
//    or in the predictions (a class absent from both is excluded and marked
//    present = false); macro F1 is the mean of per-class F1, not the F1 of
//    macro P and macro R;
//  - micro P/R/F1 from summed TP/FP/FN over the classes averaged; for
//    single-label multiclass data they all equal accuracy;
//  - empty input: every figure 0, n = 0.
#pragma once

#include <cstdint>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int num_classes) : k_(num_classes), counts_(static_cast<size_t>(num_classes * num_classes), 0) {}

  int num_classes() const { return k_; }
  // row = true class, column = predicted class.
  int64_t at(int truth, int pred) const { return counts_[static_cast<size_t>(truth * k_ + pred)]; }
  void Add(int truth, int pred, int64_t count = 1) { counts_[static_cast<size_t>(truth * k_ + pred)] += count; }
  int64_t total() const;
  const std::vector<int64_t>& counts() const { return counts_; }

 private:
  int k_;
  std::vector<int64_t> counts_;
};

// Errors name the index and value at fault (size mismatch, label out of range).
Result<ConfusionMatrix> ConfusionFromLabels(const std::vector<int>& truth, const std::vector<int>& pred,
                                            int num_classes);

struct ClassMetrics {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;    // true count
  int64_t predicted = 0;  // predicted count
  bool present = false;   // in the truth or in the predictions
};

struct ClassificationMetrics {
  std::vector<ClassMetrics> per_class;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double micro_precision = 0, micro_recall = 0, micro_f1 = 0;
  double accuracy = 0;
  int64_t n = 0;
  int classes_averaged = 0;
};

ClassificationMetrics ComputeMetrics(const ConfusionMatrix& cm);

Json MetricsToJson(const ClassificationMetrics& m);
Result<ClassificationMetrics> MetricsFromJson(const Json& j, const std::string& path);

}  // namespace avctl
