#include "common/sequential_simulation.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/random.h"

namespace avctl {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The one-sided paired t statistics of one path of differences N(effect, 1)
// at each look, into t[0..K).
void PathStatistics(Rng* rng, double effect, const std::vector<int>& looks, double* t) {
  double sum = 0, sum_sq = 0;
  int n = 0;
  for (size_t k = 0; k < looks.size(); ++k) {
    for (; n < looks[k]; ++n) {
      const double x = effect + rng->Gaussian();
      sum += x;
      sum_sq += x * x;
    }
    const double mean = sum / n;
    const double var = (sum_sq - sum * mean) / (n - 1);
    t[k] = var > 0 ? mean / std::sqrt(var / n) : (mean > 0 ? kInf : mean < 0 ? -kInf : 0.0);
  }
}

}  // namespace

SequentialOperatingCharacteristics SimulateSequentialTTest(const SequentialDesign& design, double effect,
                                                           const SimulationOptions& options) {
  const std::vector<int>& looks = design.spec.looks;
  const size_t K = looks.size();
  const bool futility = options.futility && !design.futility_t.empty();
  SequentialOperatingCharacteristics out;
  out.paths = options.paths;
  out.effect = effect;
  out.stop_efficacy.assign(K, 0.0);
  out.stop_futility.assign(K, 0.0);
  Rng rng(DeriveSeed(options.seed, "sequential-t-test"));
  std::vector<double> t(K);
  double pairs = 0;
  for (int path = 0; path < options.paths; ++path) {
    PathStatistics(&rng, effect, looks, t.data());
    size_t stop = K - 1;
    for (size_t k = 0; k < K; ++k) {
      if (t[k] >= design.efficacy_t[k]) {
        out.stop_efficacy[k] += 1;
        stop = k;
        break;
      }
      if (futility && k + 1 < K && t[k] < design.futility_t[k]) {
        out.stop_futility[k] += 1;
        stop = k;
        break;
      }
    }
    pairs += looks[stop];
  }
  const double m = options.paths;
  for (size_t k = 0; k < K; ++k) {
    out.stop_efficacy[k] /= m;
    out.stop_futility[k] /= m;
    out.reject += out.stop_efficacy[k];
  }
  out.expected_pairs = pairs / m;
  return out;
}

std::vector<double> CalibrateStrictBounds(const SequentialDesign& design, int paths, uint64_t seed) {
  const std::vector<int>& looks = design.spec.looks;
  const size_t K = looks.size();
  const double alpha = design.spec.alpha;
  const double se = std::sqrt(alpha * (1 - alpha) / paths);
  const double scale = std::max(0.0, alpha - 3 * se) / alpha;
  Rng rng(DeriveSeed(seed, "strict-calibration"));
  std::vector<double> t(static_cast<size_t>(paths) * K);
  for (int p = 0; p < paths; ++p) PathStatistics(&rng, 0.0, looks, &t[static_cast<size_t>(p) * K]);
  std::vector<char> alive(static_cast<size_t>(paths), 1);
  std::vector<double> bounds;
  std::vector<double> values;
  long rejected = 0;
  for (size_t k = 0; k < K; ++k) {
    const double spent = AlphaSpent(design.spec.spending, alpha, design.information[k]) * scale;
    const long need = std::max(0L, static_cast<long>(std::floor(spent * paths)) - rejected);
    values.clear();
    for (size_t p = 0; p < alive.size(); ++p) {
      if (alive[p]) values.push_back(t[p * K + k]);
    }
    double bound = kInf;
    if (need > 0 && static_cast<size_t>(need) < values.size()) {
      // Between the need-th and the (need+1)-th largest: exactly `need` paths reach it.
      const auto nth = values.begin() + need - 1;
      std::nth_element(values.begin(), nth, values.end(), std::greater<double>());
      bound = 0.5 * (*nth + *std::max_element(nth + 1, values.end()));
    }
    bounds.push_back(bound);
    for (size_t p = 0; p < alive.size(); ++p) {
      if (alive[p] && t[p * K + k] >= bound) {
        alive[p] = 0;
        ++rejected;
      }
    }
  }
  return bounds;
}

}  // namespace avctl
