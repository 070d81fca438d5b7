#include "store/group_split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include <fmt/format.h>

#include "common/random.h"
#include "store/csv_table.h"

namespace avctl {

Result<GroupSplit> SplitByGroup(const std::vector<LabelledItem>& items, const std::vector<std::string>& class_names,
                                const GroupSplitOptions& o) {
  const int K = static_cast<int>(class_names.size());
  if (o.partitions < 1) {
    return Status::InvalidArgument(fmt::format("--partitions: expected at least 1, got {}", o.partitions))
        .WithField("--partitions");
  }
  const double shares[3] = {o.train, o.development, o.test};
  for (double s : shares) {
    if (!(s > 0 && s < 1)) {
      return Status::InvalidArgument(fmt::format("--train/--dev/--test: each share must be in (0, 1), got {}/{}/{}",
                                                 o.train, o.development, o.test))
          .WithField("--train");
    }
  }
  if (std::fabs(o.train + o.development + o.test - 1) > 1e-6) {
    return Status::InvalidArgument(fmt::format("--train/--dev/--test: the shares sum to {}, not 1",
                                               o.train + o.development + o.test))
        .WithField("--train");
  }
  GroupSplit out;
  std::map<std::string, std::vector<int64_t>> by_group;
  std::vector<int64_t> total(static_cast<size_t>(K), 0);
  for (const LabelledItem& it : items) {
    if (it.label < 0 || it.label >= K) {
      return Status::InvalidArgument(fmt::format("group {}: class index {} outside the {} classes", it.group, it.label, K));
    }
    auto& c = by_group[it.group];
    c.resize(static_cast<size_t>(K), 0);
    ++c[static_cast<size_t>(it.label)];
    ++total[static_cast<size_t>(it.label)];
  }
  if (by_group.size() < 3) {
    return Status::InvalidArgument(fmt::format("{} group(s): Train, Development and Test need at least three",
                                               by_group.size()));
  }
  for (int c = 0; c < K; ++c) {
    int holders = 0;
    for (const auto& [g, counts] : by_group) holders += counts[static_cast<size_t>(c)] > 0;
    if (total[static_cast<size_t>(c)] > 0 && holders < 3) {
      return Status::InvalidArgument(fmt::format(
          "class {} is held by {} group(s): it cannot appear in Train, Development and Test of a group-independent "
          "split; merge or drop it",
          class_names[static_cast<size_t>(c)], holders));
    }
  }
  for (const auto& [g, counts] : by_group) out.groups.push_back(g);
  const size_t G = out.groups.size();
  for (int p = 0; p < o.partitions; ++p) {
    // The order: a seeded shuffle of the groups (each partition its own).
    // Sorting by class unevenness first, as StratifiedGroupKFold does,
    // would leave the shuffle only the ties: every partition the same.
    std::vector<size_t> order(G);
    std::iota(order.begin(), order.end(), 0);
    Rng rng(DeriveSeed(o.seed, "split", static_cast<uint64_t>(p)));
    for (size_t i = G; i > 1; --i) std::swap(order[i - 1], order[rng.Below(i)]);
    std::vector<std::vector<int64_t>> counts(3, std::vector<int64_t>(static_cast<size_t>(K), 0));
    std::vector<int> groups_in(3, 0);
    std::vector<Split> assign(G, Split::kTrain);
    for (size_t n = 0; n < G; ++n) {
      const size_t gi = order[n];
      const std::vector<int64_t>& gc = by_group.at(out.groups[gi]);
      // Splits still without a group must get one of the groups left.
      const int empty = static_cast<int>(std::count(groups_in.begin(), groups_in.end(), 0));
      const bool must_fill = static_cast<int>(G - n) <= empty;
      int best = -1;
      double best_cost = 0;
      for (int s = 0; s < 3; ++s) {
        if (must_fill && groups_in[static_cast<size_t>(s)] > 0) continue;
        double cost = 0;
        for (int t = 0; t < 3; ++t) {
          for (int c = 0; c < K; ++c) {
            const double target = shares[t] * static_cast<double>(total[static_cast<size_t>(c)]);
            if (target <= 0) continue;
            const double have = static_cast<double>(counts[static_cast<size_t>(t)][static_cast<size_t>(c)] +
                                                    (t == s ? gc[static_cast<size_t>(c)] : 0));
            cost += (have - target) * (have - target) / (target * target);
          }
        }
        if (best < 0 || cost < best_cost) best = s, best_cost = cost;
      }
      assign[gi] = static_cast<Split>(best);
      ++groups_in[static_cast<size_t>(best)];
      for (int c = 0; c < K; ++c) counts[static_cast<size_t>(best)][static_cast<size_t>(c)] += gc[static_cast<size_t>(c)];
    }
    for (int c = 0; c < K; ++c) {
      if (total[static_cast<size_t>(c)] == 0) continue;
      for (Split s : {Split::kTrain, Split::kTest}) {
        if (counts[static_cast<size_t>(s)][static_cast<size_t>(c)] == 0) {
          return Status::InvalidArgument(fmt::format(
              "partition {}: class {} has no clip in {} (its {} clips sit in too few groups for these shares); "
              "merge or drop it, or change the shares",
              p + 1, class_names[static_cast<size_t>(c)], SplitName(s), total[static_cast<size_t>(c)]));
        }
      }
    }
    out.assignment.push_back(std::move(assign));
    out.counts.push_back(std::move(counts));
  }
  return out;
}

Result<SplitCsv> SplitLabelsCsv(std::string_view csv, const std::string& source, const std::string& group_column,
                                const std::string& label_column, const GroupSplitOptions& options) {
  AVCTL_ASSIGN_OR_RETURN(CsvTable table, CsvTable::Parse(csv, source));
  if (table.rows() == 0) return Status::InvalidArgument("expected a header row and at least one row").WithFile(source);
  AVCTL_ASSIGN_OR_RETURN(size_t gi, table.Require(group_column, "--group"));
  AVCTL_ASSIGN_OR_RETURN(size_t li, table.Require(label_column, "--label"));
  for (const auto& h : table.header()) {
    if (h.rfind("split_", 0) == 0) {
      return Status::InvalidArgument(fmt::format("the header already has a column {}: split the original labels file", h))
          .WithFile(source).WithLine(1);
    }
  }
  std::set<std::string> labels;
  for (size_t r = 0; r < table.rows(); ++r) {
    if (table.cell(r, gi).empty() || table.cell(r, li).empty()) {
      return Status::InvalidArgument(fmt::format("an empty {} or {}", group_column, label_column))
          .WithFile(source).WithLine(table.line(r));
    }
    labels.insert(table.cell(r, li));
  }
  SplitCsv out;
  out.classes.assign(labels.begin(), labels.end());
  std::vector<LabelledItem> items;
  for (size_t r = 0; r < table.rows(); ++r) {
    items.push_back({table.cell(r, gi), static_cast<int>(std::lower_bound(out.classes.begin(), out.classes.end(),
                                                                          table.cell(r, li)) -
                                                         out.classes.begin())});
  }
  auto split = SplitByGroup(items, out.classes, options);
  if (!split.ok()) {
    Status st = split.status();
    return std::move(st).WithFile(source);
  }
  out.split = std::move(*split);
  std::map<std::string, size_t> group_index;
  for (size_t g = 0; g < out.split.groups.size(); ++g) group_index[out.split.groups[g]] = g;
  // The rows as read (cells trimmed), with one split column per partition.
  auto join = [](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) line += (i ? "," : "") + cells[i];
    return line;
  };
  out.text = join(table.header());
  for (int p = 1; p <= options.partitions; ++p) out.text += fmt::format(",split_{}", p);
  out.text += "\n";
  for (size_t r = 0; r < table.rows(); ++r) {
    std::vector<std::string> cells;
    for (size_t c = 0; c < table.header().size(); ++c) cells.push_back(table.cell(r, c));
    out.text += join(cells);
    const size_t g = group_index.at(table.cell(r, gi));
    for (const auto& a : out.split.assignment) out.text += "," + std::string(SplitName(a[g]));
    out.text += "\n";
  }
  return out;
}

}  // namespace avctl
