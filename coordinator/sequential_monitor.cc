#include "coordinator/sequential_monitor.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "common/paired_stats.h"

namespace avctl {

namespace {

bool Same(const GroupKey& a, const GroupKey& b) { return a.variant == b.variant && a.point == b.point; }

bool Open(JobState s) {
  return s == JobState::kQueued || s == JobState::kRunning || s == JobState::kHeld || s == JobState::kCancelled;
}

}  // namespace

SequentialMonitor::SequentialMonitor(const SweepSpec& spec, std::vector<GroupKey> groups, std::vector<GroupTest> tests,
                                     SequentialDesignCache* cache)
    : seq_(*spec.sequential),
      seeds_(spec.seeds),
      partitions_(static_cast<int>(spec.partitions.size())),
      groups_(std::move(groups)),
      tests_(std::move(tests)),
      family_(seq_.design, static_cast<int>(tests_.size()), cache) {}

Result<std::unique_ptr<SequentialMonitor>> SequentialMonitor::Make(const SweepSpec& spec,
                                                                   const std::vector<GroupKey>& groups,
                                                                   const std::vector<SequentialLook>& looks,
                                                                   SequentialDesignCache* cache) {
  if (!spec.sequential) {
    return Status::InvalidArgument(fmt::format("sweep {} has no \"sequential\" member", spec.name)).WithField("sequential");
  }
  std::vector<GroupTest> tests = FamilyGroupTests(SpecFamily(spec), groups);
  std::unique_ptr<SequentialMonitor> m(new SequentialMonitor(spec, groups, std::move(tests), cache));
  for (size_t k = 0; k < looks.size(); ++k) {
    const SequentialLook& look = looks[k];
    const std::string where = fmt::format("look {} of sweep {} in the record", k + 1, spec.name);
    if (look.look != static_cast<int>(k)) {
      return Status::FailedPrecondition(fmt::format("{}: stored as look {}", where, look.look + 1));
    }
    if (look.tests.size() != m->tests_.size()) {
      return Status::FailedPrecondition(fmt::format(
          "{} tested {} comparisons and the spec now has {}: the sweep's comparisons changed since", where,
          look.tests.size(), m->tests_.size()));
    }
    std::vector<LookData> data;
    for (size_t i = 0; i < look.tests.size(); ++i) {
      const LookTest& t = look.tests[i];
      const GroupTest& g = m->tests_[i];
      if (t.variant != GroupLabel(g.x.variant, g.x.point) || t.baseline != GroupLabel(g.y.variant, g.y.point) ||
          t.metric != g.test.metric) {
        return Status::FailedPrecondition(fmt::format(
            "{}: test {} was {} vs {} on {}, the spec now has {} vs {} on {}: the sweep's comparisons changed since",
            where, i + 1, t.variant, t.baseline, t.metric, GroupLabel(g.x.variant, g.x.point),
            GroupLabel(g.y.variant, g.y.point), g.test.metric));
      }
      data.push_back({t.pairs, t.p, t.t});
    }
    AVCTL_RETURN_IF_ERROR(m->family_.AnalyseLook(static_cast<int>(k), data).Annotate("replaying " + where));
    m->last_ = look;
    for (size_t i = 0; i < look.tests.size(); ++i) {
      const char* now = SequentialDecisionName(m->family_.comparisons()[i].decision);
      if (look.tests[i].decision != now) {
        return Status::FailedPrecondition(fmt::format(
            "replaying {}: test {} ({} vs {}) decided {} then and {} now: the design changed since", where, i + 1,
            look.tests[i].variant, look.tests[i].baseline, look.tests[i].decision, now));
      }
    }
  }
  return m;
}

bool SequentialMonitor::finished() const {
  return looks_analysed() >= looks_planned() || family_.all_decided();
}

int SequentialMonitor::StageOf(uint64_t seed) const {
  auto it = std::find(seeds_.begin(), seeds_.end(), seed);
  if (it == seeds_.end()) return -1;
  return StageOfSeed(seq_.design, static_cast<int>(it - seeds_.begin()), partitions_);
}

bool SequentialMonitor::UnderTest(const GroupKey& g) const {
  for (size_t i = 0; i < tests_.size(); ++i) {
    if (family_.comparisons()[i].decision != SequentialDecision::kContinue) continue;
    if (Same(tests_[i].x, g) || Same(tests_[i].y, g)) return true;
  }
  return false;
}

bool SequentialMonitor::NextLookReady(const std::vector<JobStageCount>& counts) const {
  if (finished()) return false;
  const int k = looks_analysed();
  for (const JobStageCount& c : counts) {
    if (c.jobs > 0 && c.stage <= k && Open(c.state) && UnderTest({c.variant, c.point})) return false;
  }
  return true;
}

Result<SequentialLook> SequentialMonitor::AnalyseNextLook(const std::vector<ResultRow>& results) {
  const int k = looks_analysed();
  if (finished()) return Status::FailedPrecondition("every look of the sweep is analysed");
  // Each group's values of each tested metric, from the stages this look covers.
  std::map<std::pair<std::string, std::string>, std::map<std::string, std::map<PairKey, double>>> values;
  for (const ResultRow& r : results) {
    const int stage = StageOf(r.seed);
    if (stage < 0 || stage > k) continue;
    auto& by_metric = values[{r.variant, r.point}];
    for (const auto& [metric, v] : r.metrics) by_metric[metric][{r.partition, r.seed}] = v;
  }
  std::vector<LookData> data;
  for (size_t i = 0; i < tests_.size(); ++i) {
    const GroupTest& g = tests_[i];
    if (family_.comparisons()[i].decision != SequentialDecision::kContinue && i < last_.tests.size()) {
      data.push_back({last_.tests[i].pairs, last_.tests[i].p, last_.tests[i].t});  // as decided
      continue;
    }
    const auto& xs = values[{g.x.variant, g.x.point}][g.test.metric];
    const auto& ys = values[{g.y.variant, g.y.point}][g.test.metric];
    const MatchedPairs pairs = MatchPairs(xs, ys);
    const Tail tail = ParseTail(g.test.direction).value_or(Tail::kGreater);
    const PairedTTest t = PairedTTestOneTailed(pairs.x, pairs.y, tail);
    LookData d;
    d.pairs = static_cast<int>(pairs.keys.size());
    d.p = t.p;
    d.t = tail == Tail::kGreater ? t.t : -t.t;
    data.push_back(d);
  }
  std::vector<size_t> before;
  for (const auto& s : family_.comparisons()) before.push_back(s.pairs.size());
  AVCTL_RETURN_IF_ERROR(family_.AnalyseLook(k, data));
  std::vector<bool> tested;
  for (size_t i = 0; i < before.size(); ++i) tested.push_back(family_.comparisons()[i].pairs.size() > before[i]);
  last_ = Snapshot(k, data, tested);
  return last_;
}

SequentialLook SequentialMonitor::Snapshot(int look, const std::vector<LookData>& data,
                                           const std::vector<bool>& tested) const {
  SequentialLook out;
  out.look = look;
  out.planned_pairs = seq_.design.looks[static_cast<size_t>(look)];
  for (size_t i = 0; i < tests_.size(); ++i) {
    const ComparisonState& s = family_.comparisons()[i];
    LookTest t;
    t.kind = tests_[i].test.kind;
    t.variant = GroupLabel(tests_[i].x.variant, tests_[i].x.point);
    t.baseline = GroupLabel(tests_[i].y.variant, tests_[i].y.point);
    t.metric = tests_[i].test.metric;
    t.direction = tests_[i].test.direction;
    t.pairs = data[i].pairs;
    t.p = data[i].p;
    t.t = data[i].t;
    t.tested = tested[i];
    t.decision = SequentialDecisionName(s.decision);
    t.decided_look = s.decided_look;
    t.level = s.level;
    t.bound_p = s.bound_p;
    out.tests.push_back(std::move(t));
  }
  return out;
}

std::vector<GroupRelease> SequentialMonitor::Releases() const {
  const int last = looks_planned() - 1;
  std::vector<GroupRelease> out;
  for (const GroupKey& g : groups_) {
    GroupRelease r;
    r.group = g;
    bool in_test = false, open = false;
    int decided_at = -1;
    std::string why;
    for (size_t i = 0; i < tests_.size(); ++i) {
      if (!Same(tests_[i].x, g) && !Same(tests_[i].y, g)) continue;
      in_test = true;
      const ComparisonState& s = family_.comparisons()[i];
      if (s.decision == SequentialDecision::kContinue) {
        open = true;
        continue;
      }
      decided_at = std::max(decided_at, s.decided_look);
      why += fmt::format("{}{} vs {}: {} at look {}", why.empty() ? "" : "; ",
                         GroupLabel(tests_[i].x.variant, tests_[i].x.point),
                         GroupLabel(tests_[i].y.variant, tests_[i].y.point), SequentialDecisionName(s.decision),
                         s.decided_look + 1);
    }
    if (!in_test) {
      r.through_stage = last;  // not under test: every seed runs
    } else if (open) {
      r.through_stage = seq_.release == StageRelease::kHeld ? std::min(looks_analysed(), last) : last;
    } else {
      r.through_stage = decided_at;
      r.decided = decided_at < last;
      if (r.decided) r.reason = "not needed: its comparisons were decided (" + why + ")";
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace avctl
