#include "common/sequential_family.h"

#include <fmt/format.h>

namespace avctl {

const char* SequentialDecisionName(SequentialDecision d) {
  switch (d) {
    case SequentialDecision::kContinue: return "continue";
    case SequentialDecision::kEfficacy: return "efficacy";
    case SequentialDecision::kFutility: return "futility";
    case SequentialDecision::kAccepted: return "accepted";
  }
  return "?";
}

Result<const SequentialDesign*> SequentialDesignCache::Get(const SequentialDesignSpec& spec) {
  std::string key = fmt::format("{:.17g}|{}|{}|{:.17g}|{}|", spec.alpha, static_cast<int>(spec.spending), spec.futility,
                                spec.beta, spec.strict);
  for (int n : spec.looks) key += fmt::format("{},", n);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = designs_.find(key);
    if (it != designs_.end()) return &it->second;
  }
  AVCTL_ASSIGN_OR_RETURN(SequentialDesign d, MakeSequentialDesign(spec));
  std::lock_guard<std::mutex> lock(mu_);
  return &designs_.emplace(key, std::move(d)).first->second;  // made twice at once: the first one stays
}

SequentialFamily::SequentialFamily(SequentialDesignSpec design, int m, SequentialDesignCache* cache)
    : spec_(std::move(design)),
      own_cache_(cache != nullptr ? nullptr : std::make_unique<SequentialDesignCache>()),
      cache_(cache != nullptr ? cache : own_cache_.get()) {
  states_.resize(static_cast<size_t>(std::max(m, 0)));
  for (auto& s : states_) s.level = spec_.alpha / std::max(m, 1);
}

bool SequentialFamily::all_decided() const {
  for (const auto& s : states_) {
    if (s.decision == SequentialDecision::kContinue) return false;
  }
  return true;
}

Result<const SequentialDesign*> SequentialFamily::DesignFor(const std::vector<int>& pairs_so_far, double level) {
  SequentialDesignSpec spec = spec_;
  spec.alpha = level;
  spec.looks = pairs_so_far;
  // The planned looks after this one; at the last look the pairs reached are
  // the maximum information, so the rest of alpha is spent there.
  for (size_t k = static_cast<size_t>(next_look_) + 1; k < spec_.looks.size(); ++k) spec.looks.push_back(spec_.looks[k]);
  return cache_->Get(spec);
}

Status SequentialFamily::AnalyseLook(int look, const std::vector<LookData>& data) {
  if (look != next_look_) {
    return Status::FailedPrecondition(fmt::format("look {} analysed out of order: look {} is next", look + 1,
                                                  next_look_ + 1));
  }
  if (look >= static_cast<int>(spec_.looks.size())) {
    return Status::FailedPrecondition(fmt::format("the design has {} looks; look {} asked for", spec_.looks.size(),
                                                  look + 1));
  }
  if (data.size() != states_.size()) {
    return Status::InvalidArgument(fmt::format("{} comparisons' data for a family of {}", data.size(), states_.size()));
  }
  const bool last = look + 1 == static_cast<int>(spec_.looks.size());
  // Which undecided comparisons have new pairs to test at this look.
  std::vector<bool> tested(states_.size(), false);
  for (size_t i = 0; i < states_.size(); ++i) {
    ComparisonState& s = states_[i];
    if (s.decision != SequentialDecision::kContinue) continue;
    const int before = s.pairs.empty() ? 0 : s.pairs.back();
    if (data[i].pairs > spec_.looks[static_cast<size_t>(look)]) {
      return Status::InvalidArgument(fmt::format("comparison {}: {} pairs at look {}, planned {}", i + 1,
                                                 data[i].pairs, look + 1, spec_.looks[static_cast<size_t>(look)]));
    }
    if (data[i].pairs < 2 || data[i].pairs <= before) continue;  // nothing new to test: no alpha spent here
    s.pairs.push_back(data[i].pairs);
    tested[i] = true;
  }
  // Efficacy, re-tested at this look whenever a rejection frees alpha.
  const int m = static_cast<int>(states_.size());
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t i = 0; i < states_.size(); ++i) {
      ComparisonState& s = states_[i];
      if (!tested[i] || s.decision != SequentialDecision::kContinue) continue;
      AVCTL_ASSIGN_OR_RETURN(const SequentialDesign* d, DesignFor(s.pairs, s.level));
      s.bound_p = d->nominal_alpha[s.pairs.size() - 1];
      if (data[i].p <= s.bound_p) {
        s.decision = SequentialDecision::kEfficacy;
        s.decided_look = look;
        changed = true;
      }
    }
    if (changed) {
      int rejected = 0;
      for (const auto& s : states_) rejected += s.decision == SequentialDecision::kEfficacy;
      for (auto& s : states_) {
        if (s.decision != SequentialDecision::kEfficacy && rejected < m) s.level = spec_.alpha / (m - rejected);
      }
    }
  }
  // Futility (non-binding) before the last look, then the last look's end.
  for (size_t i = 0; i < states_.size(); ++i) {
    ComparisonState& s = states_[i];
    if (s.decision != SequentialDecision::kContinue) continue;
    if (last) {
      s.decision = SequentialDecision::kAccepted;
      s.decided_look = look;
      continue;
    }
    if (!tested[i] || !spec_.futility) continue;
    AVCTL_ASSIGN_OR_RETURN(const SequentialDesign* d, DesignFor(s.pairs, s.level));
    if (data[i].t < d->futility_t[s.pairs.size() - 1]) {
      s.decision = SequentialDecision::kFutility;
      s.decided_look = look;
    }
  }
  ++next_look_;
  return Status::OK();
}

}  // namespace avctl
