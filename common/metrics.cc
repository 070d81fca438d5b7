#include "common/metrics.h"

#include <fmt/format.h>

namespace avctl {

namespace {

double Ratio(int64_t num, int64_t den) { return den > 0 ? static_cast<double>(num) / static_cast<double>(den) : 0.0; }

double HarmonicMean(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

// `what` is "true" or "predicted", `field` the argument's name.
Status OutOfRange(const char* what, const char* field, int label, size_t index, int num_classes) {
  return Status::InvalidArgument(
             fmt::format("{} label {} at index {} outside 0..{}", what, label, index, num_classes - 1))
      .WithField(field);
}

// A JSON integer that must be >= 0.
Result<int64_t> GetCount(const Json& j, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(int64_t v, GetInt(j, key, path));
  if (v < 0) {
    const std::string full = JoinJsonPath(path, key);
    return Status::InvalidArgument(fmt::format("{}: must be >= 0, got {}", full, v)).WithField(full);
  }
  return v;
}

}  // namespace

int64_t ConfusionMatrix::total() const {
  int64_t t = 0;
  for (int64_t c : counts_) t += c;
  return t;
}

Result<ConfusionMatrix> ConfusionFromLabels(const std::vector<int>& truth, const std::vector<int>& pred,
                                            int num_classes) {
  if (num_classes <= 0) {
    return Status::InvalidArgument(fmt::format("num_classes must be positive, got {}", num_classes));
  }
  if (truth.size() != pred.size()) {
    return Status::InvalidArgument(fmt::format("{} true labels but {} predictions", truth.size(), pred.size()));
  }
  ConfusionMatrix cm(num_classes);
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= num_classes) return OutOfRange("true", "truth", truth[i], i, num_classes);
    if (pred[i] < 0 || pred[i] >= num_classes) return OutOfRange("predicted", "pred", pred[i], i, num_classes);
    cm.Add(truth[i], pred[i]);
  }
  return cm;
}

ClassificationMetrics ComputeMetrics(const ConfusionMatrix& cm) {
  const int k = cm.num_classes();
  ClassificationMetrics m;
  m.per_class.resize(static_cast<size_t>(k));
  m.n = cm.total();
  int64_t tp_sum = 0, fp_sum = 0, fn_sum = 0;
  for (int c = 0; c < k; ++c) {
    ClassMetrics& pc = m.per_class[static_cast<size_t>(c)];
    const int64_t tp = cm.at(c, c);
    for (int o = 0; o < k; ++o) {
      pc.support += cm.at(c, o);
      pc.predicted += cm.at(o, c);
    }
    pc.present = pc.support > 0 || pc.predicted > 0;
    if (!pc.present) continue;  // all zeros, left out of the averages
    pc.precision = Ratio(tp, pc.predicted);
    pc.recall = Ratio(tp, pc.support);
    pc.f1 = HarmonicMean(pc.precision, pc.recall);
    ++m.classes_averaged;
    m.macro_precision += pc.precision;
    m.macro_recall += pc.recall;
    m.macro_f1 += pc.f1;
    tp_sum += tp;
    fp_sum += pc.predicted - tp;
    fn_sum += pc.support - tp;
  }
  if (m.classes_averaged > 0) {
    m.macro_precision /= m.classes_averaged;
    m.macro_recall /= m.classes_averaged;
    m.macro_f1 /= m.classes_averaged;
  }
  m.micro_precision = Ratio(tp_sum, tp_sum + fp_sum);
  m.micro_recall = Ratio(tp_sum, tp_sum + fn_sum);
  m.micro_f1 = HarmonicMean(m.micro_precision, m.micro_recall);
  m.accuracy = Ratio(tp_sum, m.n);  // tp_sum is the trace
  return m;
}

Json MetricsToJson(const ClassificationMetrics& m) {
  Json per_class = Json::array();
  for (const ClassMetrics& c : m.per_class) {
    per_class.push_back({{"precision", c.precision},
                         {"recall", c.recall},
                         {"f1", c.f1},
                         {"support", c.support},
                         {"predicted", c.predicted},
                         {"present", c.present}});
  }
  return {{"accuracy", m.accuracy},
          {"macro_precision", m.macro_precision},
          {"macro_recall", m.macro_recall},
          {"macro_f1", m.macro_f1},
          {"micro_precision", m.micro_precision},
          {"micro_recall", m.micro_recall},
          {"micro_f1", m.micro_f1},
          {"n", m.n},
          {"classes_averaged", m.classes_averaged},
          {"per_class", std::move(per_class)}};
}

Result<ClassificationMetrics> MetricsFromJson(const Json& j, const std::string& path) {
  ClassificationMetrics m;
  AVCTL_ASSIGN_OR_RETURN(m.accuracy, GetNumber(j, "accuracy", path));
  AVCTL_ASSIGN_OR_RETURN(m.macro_precision, GetNumber(j, "macro_precision", path));
  AVCTL_ASSIGN_OR_RETURN(m.macro_recall, GetNumber(j, "macro_recall", path));
  AVCTL_ASSIGN_OR_RETURN(m.macro_f1, GetNumber(j, "macro_f1", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_precision, GetNumber(j, "micro_precision", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_recall, GetNumber(j, "micro_recall", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_f1, GetNumber(j, "micro_f1", path));
  AVCTL_ASSIGN_OR_RETURN(m.n, GetCount(j, "n", path));
  AVCTL_ASSIGN_OR_RETURN(int64_t averaged, GetCount(j, "classes_averaged", path));

  AVCTL_ASSIGN_OR_RETURN(const Json* pcs, GetMember(j, "per_class", path));
  const std::string pc_path = JoinJsonPath(path, "per_class");
  if (!pcs->is_array()) {
    return Status::InvalidArgument(fmt::format("{}: expected an array, got {}", pc_path, DescribeJson(*pcs)))
        .WithField(pc_path);
  }
  for (size_t i = 0; i < pcs->size(); ++i) {
    const Json& e = (*pcs)[i];
    const std::string p = JoinJsonPath(pc_path, i);
    ClassMetrics c;
    AVCTL_ASSIGN_OR_RETURN(c.precision, GetNumber(e, "precision", p));
    AVCTL_ASSIGN_OR_RETURN(c.recall, GetNumber(e, "recall", p));
    AVCTL_ASSIGN_OR_RETURN(c.f1, GetNumber(e, "f1", p));
    AVCTL_ASSIGN_OR_RETURN(c.support, GetCount(e, "support", p));
    AVCTL_ASSIGN_OR_RETURN(c.predicted, GetCount(e, "predicted", p));
    AVCTL_ASSIGN_OR_RETURN(c.present, GetBool(e, "present", p));
    m.per_class.push_back(c);
  }
  if (averaged > static_cast<int64_t>(m.per_class.size())) {
    const std::string full = JoinJsonPath(path, "classes_averaged");
    return Status::InvalidArgument(
               fmt::format("{}: {} classes averaged but only {} in per_class", full, averaged, m.per_class.size()))
        .WithField(full);
  }
  m.classes_averaged = static_cast<int>(averaged);
  return m;
}

}  // namespace avctl
