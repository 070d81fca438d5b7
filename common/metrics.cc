#include "common/metrics.h"

#include <fmt/format.h>

namespace avctl {

int64_t ConfusionMatrix::total() const {
  int64_t t = 0;
  for (int64_t c : counts_) t += c;
  return t;
}

Result<ConfusionMatrix> ConfusionFromLabels(const std::vector<int>& truth, const std::vector<int>& pred,
                                            int num_classes) {
  if (num_classes <= 0) return Status::InvalidArgument(fmt::format("num_classes must be positive, got {}", num_classes));
  if (truth.size() != pred.size()) {
    return Status::InvalidArgument(fmt::format("{} true labels but {} predictions", truth.size(), pred.size()));
  }
  ConfusionMatrix cm(num_classes);
  for (size_t i = 0; i < truth.size(); ++i) {
    if (truth[i] < 0 || truth[i] >= num_classes) {
      return Status::InvalidArgument(fmt::format("true label {} at index {} outside 0..{}", truth[i], i, num_classes - 1))
          .WithField("truth");
    }
    if (pred[i] < 0 || pred[i] >= num_classes) {
      return Status::InvalidArgument(fmt::format("predicted label {} at index {} outside 0..{}", pred[i], i, num_classes - 1))
          .WithField("pred");
    }
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
    pc.precision = pc.predicted > 0 ? static_cast<double>(tp) / pc.predicted : 0.0;
    pc.recall = pc.support > 0 ? static_cast<double>(tp) / pc.support : 0.0;
    pc.f1 = pc.precision + pc.recall > 0 ? 2 * pc.precision * pc.recall / (pc.precision + pc.recall) : 0.0;
    if (!pc.present) continue;
    m.classes_averaged++;
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
  m.micro_precision = tp_sum + fp_sum > 0 ? static_cast<double>(tp_sum) / (tp_sum + fp_sum) : 0.0;
  m.micro_recall = tp_sum + fn_sum > 0 ? static_cast<double>(tp_sum) / (tp_sum + fn_sum) : 0.0;
  m.micro_f1 = m.micro_precision + m.micro_recall > 0
                   ? 2 * m.micro_precision * m.micro_recall / (m.micro_precision + m.micro_recall)
                   : 0.0;
  int64_t correct = 0;
  for (int c = 0; c < k; ++c) correct += cm.at(c, c);
  m.accuracy = m.n > 0 ? static_cast<double>(correct) / m.n : 0.0;
  return m;
}

Json MetricsToJson(const ClassificationMetrics& m) {
  Json per_class = Json::array();
  for (const auto& c : m.per_class) {
    per_class.push_back({{"precision", c.precision}, {"recall", c.recall}, {"f1", c.f1},
                         {"support", c.support}, {"predicted", c.predicted}, {"present", c.present}});
  }
  return {{"macro_precision", m.macro_precision}, {"macro_recall", m.macro_recall}, {"macro_f1", m.macro_f1},
          {"micro_precision", m.micro_precision}, {"micro_recall", m.micro_recall}, {"micro_f1", m.micro_f1},
          {"accuracy", m.accuracy}, {"n", m.n}, {"classes_averaged", m.classes_averaged}, {"per_class", per_class}};
}

Result<ClassificationMetrics> MetricsFromJson(const Json& j, const std::string& path) {
  ClassificationMetrics m;
  AVCTL_ASSIGN_OR_RETURN(m.macro_precision, GetNumber(j, "macro_precision", path));
  AVCTL_ASSIGN_OR_RETURN(m.macro_recall, GetNumber(j, "macro_recall", path));
  AVCTL_ASSIGN_OR_RETURN(m.macro_f1, GetNumber(j, "macro_f1", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_precision, GetNumber(j, "micro_precision", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_recall, GetNumber(j, "micro_recall", path));
  AVCTL_ASSIGN_OR_RETURN(m.micro_f1, GetNumber(j, "micro_f1", path));
  AVCTL_ASSIGN_OR_RETURN(m.accuracy, GetNumber(j, "accuracy", path));
  AVCTL_ASSIGN_OR_RETURN(m.n, GetInt(j, "n", path));
  AVCTL_ASSIGN_OR_RETURN(int64_t averaged, GetInt(j, "classes_averaged", path));
  m.classes_averaged = static_cast<int>(averaged);
  AVCTL_ASSIGN_OR_RETURN(const Json* pcs, GetMember(j, "per_class", path));
  const std::string pc_path = JoinJsonPath(path, "per_class");
  if (!pcs->is_array()) {
    return Status::InvalidArgument(fmt::format("{}: expected an array, got {}", pc_path, DescribeJson(*pcs)))
        .WithField(pc_path);
  }
  for (size_t i = 0; i < pcs->size(); ++i) {
    const std::string p = JoinJsonPath(pc_path, i);
    ClassMetrics c;
    AVCTL_ASSIGN_OR_RETURN(c.precision, GetNumber((*pcs)[i], "precision", p));
    AVCTL_ASSIGN_OR_RETURN(c.recall, GetNumber((*pcs)[i], "recall", p));
    AVCTL_ASSIGN_OR_RETURN(c.f1, GetNumber((*pcs)[i], "f1", p));
    AVCTL_ASSIGN_OR_RETURN(c.support, GetInt((*pcs)[i], "support", p));
    AVCTL_ASSIGN_OR_RETURN(c.predicted, GetInt((*pcs)[i], "predicted", p));
    AVCTL_ASSIGN_OR_RETURN(c.present, GetBool((*pcs)[i], "present", p));
    m.per_class.push_back(c);
  }
  return m;
}

}  // namespace avctl
