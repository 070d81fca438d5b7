// Group-independent partitions of a labelled corpus, the pure core of
// `avctl data split` (issue 28): k partitions, each assigning every group
// (a speaker, or another group column such as IEMOCAP's sessions) wholly to
// Train, Development or Test, with the given shares of the clips, and
// stratified by class where the groups allow it. Seeded and reproducible:
// partition p draws its group order from DeriveSeed(seed, "split", p).
//
// Assignment, per partition (greedy, as scikit-learn's StratifiedGroupKFold
// assigns, with three splits of unequal size): the groups in a seeded order
// of their own per partition, each to the split whose class counts, with
// it, stay closest to every split's share of every class (the sum of
// squared relative deviations), while every split keeps at least one group.
// Refused, naming the class: a class that fewer than three groups hold
// (it cannot be in Train, Development and Test at once), and a result in
// which a class is missing from a partition's Train or Test split.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/labels.h"

namespace avctl {

struct LabelledItem {
  std::string group;  // speaker or session
  int label = 0;      // class index
};

struct GroupSplitOptions {
  int partitions = 5;
  double train = 0.70, development = 0.15, test = 0.15;  // shares of the clips; they sum to 1
  uint64_t seed = 0;
};

struct GroupSplit {
  std::vector<std::string> groups;              // sorted
  std::vector<std::vector<Split>> assignment;   // [partition][group]
  // Clips per partition, split and class: [partition][split][class].
  std::vector<std::vector<std::vector<int64_t>>> counts;
};

// `class_names` name the classes in errors. Errors name the option at
// fault (--train, --partitions) or the class.
Result<GroupSplit> SplitByGroup(const std::vector<LabelledItem>& items, const std::vector<std::string>& class_names,
                                const GroupSplitOptions& options);

// `avctl data split` on a labels CSV (a header row, comma-separated, no
// quoted fields): the groups from column `group_column`, the classes (the
// distinct values of `label_column`, sorted) from its labels; the output is
// the same rows with one column per partition, "split_1".."split_k", of
// "Train", "Development" or "Test". Errors name the file, line and column.
struct SplitCsv {
  std::string text;                 // the CSV written
  std::vector<std::string> classes;
  GroupSplit split;
};
Result<SplitCsv> SplitLabelsCsv(std::string_view csv, const std::string& source, const std::string& group_column,
                                const std::string& label_column, const GroupSplitOptions& options);

}  // namespace avctl
