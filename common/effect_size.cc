#include "common/effect_size.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/random.h"

namespace avctl {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// 1 when a beats b in the tested direction, 1/2 on a tie, else 0.
double Win(double a, double b, Tail tail) {
  if (a == b) return 0.5;
  return (tail == Tail::kGreater ? a > b : a < b) ? 1.0 : 0.0;
}

// numpy.percentile's default (linear interpolation between order statistics).
double Percentile(std::vector<double>* v, double q) {
  std::sort(v->begin(), v->end());
  const double pos = q * static_cast<double>(v->size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, v->size() - 1);
  return (*v)[lo] + (pos - static_cast<double>(lo)) * ((*v)[hi] - (*v)[lo]);
}

// One stratified resample of `from` (runs drawn with replacement within each
// stratum) into `into`; `index` gets the drawn positions (for pairs).
void Resample(const Strata& from, Rng* rng, Strata* into, std::vector<std::vector<size_t>>* index) {
  into->resize(from.size());
  if (index != nullptr) index->resize(from.size());
  for (size_t s = 0; s < from.size(); ++s) {
    const size_t n = from[s].size();
    (*into)[s].resize(n);
    if (index != nullptr) (*index)[s].resize(n);
    for (size_t i = 0; i < n; ++i) {
      const size_t j = static_cast<size_t>(rng->Below(n));
      (*into)[s][i] = from[s][j];
      if (index != nullptr) (*index)[s][i] = j;
    }
  }
}

template <typename Statistic>
EffectInterval Interval(double estimate, const BootstrapOptions& options, Statistic replicate) {
  EffectInterval out;
  if (std::isnan(estimate) || options.reps < 1) return out;
  out.defined = true;
  out.estimate = estimate;
  std::vector<double> values;
  values.reserve(static_cast<size_t>(options.reps));
  for (int r = 0; r < options.reps; ++r) {
    const double v = replicate();
    if (!std::isnan(v)) values.push_back(v);
  }
  if (values.empty()) {
    out.low = out.high = estimate;
    return out;
  }
  const double tail = (1 - options.confidence) / 2;
  out.low = Percentile(&values, tail);
  out.high = Percentile(&values, 1 - tail);
  return out;
}

}  // namespace

double InterquartileMean(const Strata& scores) {
  std::vector<double> all;
  for (const auto& s : scores) all.insert(all.end(), s.begin(), s.end());
  if (all.empty()) return kNaN;
  std::sort(all.begin(), all.end());
  const size_t cut = static_cast<size_t>(0.25 * static_cast<double>(all.size()));
  double sum = 0;
  for (size_t i = cut; i < all.size() - cut; ++i) sum += all[i];
  return sum / static_cast<double>(all.size() - 2 * cut);
}

double ProbabilityOfImprovement(const Strata& x, const Strata& y, Tail tail) {
  double total = 0;
  int strata = 0;
  for (size_t s = 0; s < std::min(x.size(), y.size()); ++s) {
    if (x[s].empty() || y[s].empty()) continue;
    double wins = 0;
    for (double a : x[s]) {
      for (double b : y[s]) wins += Win(a, b, tail);
    }
    total += wins / (static_cast<double>(x[s].size()) * static_cast<double>(y[s].size()));
    ++strata;
  }
  return strata == 0 ? kNaN : total / strata;
}

double PairedProbabilityOfImprovement(const Strata& x, const Strata& y, Tail tail) {
  double wins = 0;
  size_t pairs = 0;
  for (size_t s = 0; s < std::min(x.size(), y.size()); ++s) {
    for (size_t i = 0; i < std::min(x[s].size(), y[s].size()); ++i) wins += Win(x[s][i], y[s][i], tail);
    pairs += std::min(x[s].size(), y[s].size());
  }
  return pairs == 0 ? kNaN : wins / static_cast<double>(pairs);
}

EffectInterval InterquartileMeanInterval(const Strata& scores, const BootstrapOptions& options) {
  Rng rng(DeriveSeed(options.seed, "bootstrap-iqm"));
  Strata sample;
  return Interval(InterquartileMean(scores), options, [&] {
    Resample(scores, &rng, &sample, nullptr);
    return InterquartileMean(sample);
  });
}

EffectInterval ProbabilityOfImprovementInterval(const Strata& x, const Strata& y, Tail tail,
                                                const BootstrapOptions& options) {
  Rng rng(DeriveSeed(options.seed, "bootstrap-poi"));
  Strata sx, sy;
  return Interval(ProbabilityOfImprovement(x, y, tail), options, [&] {
    Resample(x, &rng, &sx, nullptr);
    Resample(y, &rng, &sy, nullptr);
    return ProbabilityOfImprovement(sx, sy, tail);
  });
}

EffectInterval PairedProbabilityOfImprovementInterval(const Strata& x, const Strata& y, Tail tail,
                                                      const BootstrapOptions& options) {
  // The pairs of each stratum (its first min(|x_s|, |y_s|) runs), resampled
  // as pairs: the same drawn positions on both sides.
  Strata px(std::min(x.size(), y.size())), py(px.size());
  for (size_t s = 0; s < px.size(); ++s) {
    const size_t n = std::min(x[s].size(), y[s].size());
    px[s].assign(x[s].begin(), x[s].begin() + static_cast<std::ptrdiff_t>(n));
    py[s].assign(y[s].begin(), y[s].begin() + static_cast<std::ptrdiff_t>(n));
  }
  Rng rng(DeriveSeed(options.seed, "bootstrap-paired-poi"));
  Strata sx, sy(px.size());
  std::vector<std::vector<size_t>> index;
  return Interval(PairedProbabilityOfImprovement(px, py, tail), options, [&] {
    Resample(px, &rng, &sx, &index);
    for (size_t s = 0; s < index.size(); ++s) {
      sy[s].resize(index[s].size());
      for (size_t i = 0; i < index[s].size(); ++i) sy[s][i] = py[s][index[s][i]];
    }
    return PairedProbabilityOfImprovement(sx, sy, tail);
  });
}

}  // namespace avctl
