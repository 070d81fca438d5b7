#include "common/power.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <boost/math/distributions/non_central_t.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/tools/roots.hpp>

namespace avctl {

double PairedTTestPower(double delta, double sd, int n, double alpha) {
  if (n < 2 || !(sd >= 0) || !(alpha > 0 && alpha < 1)) return std::numeric_limits<double>::quiet_NaN();
  if (sd == 0) return delta > 0 ? 1.0 : 0.0;
  const double df = n - 1;
  const double critical = boost::math::quantile(boost::math::complement(boost::math::students_t(df), alpha));
  const double ncp = delta * std::sqrt(static_cast<double>(n)) / sd;
  return boost::math::cdf(boost::math::complement(boost::math::non_central_t(df, ncp), critical));
}

double MinDetectableDifference(double sd, int n, double alpha, double power) {
  if (n < 2 || !(sd >= 0)) return std::numeric_limits<double>::quiet_NaN();
  if (sd == 0 || power <= alpha) return 0;  // power(0) = alpha: no difference needed
  // Power grows with delta: bracket the root in units of sd, then bisect to
  // a relative width of 2^-50 (TOMS 748 converges in a handful of steps).
  auto f = [&](double d) { return PairedTTestPower(d * sd, sd, n, alpha) - power; };
  double hi = 1;
  while (f(hi) < 0) hi *= 2;
  boost::uintmax_t iterations = 200;
  auto [lo_root, hi_root] =
      boost::math::tools::toms748_solve(f, 0.0, hi, boost::math::tools::eps_tolerance<double>(50), iterations);
  return 0.5 * (lo_root + hi_root) * sd;
}

int PairsNeeded(double delta, double sd, double alpha, double power) {
  if (!(delta > 0) || !(sd >= 0)) return 0;
  if (sd == 0) return 2;
  // Power is increasing in n for delta > 0: doubling, then bisection.
  int lo = 1, hi = 2;
  while (PairedTTestPower(delta, sd, hi, alpha) < power) {
    lo = hi;
    if (hi >= kMaxPlannedPairs) return 0;
    hi = std::min(2 * hi, kMaxPlannedPairs);
  }
  while (hi - lo > 1) {
    const int mid = lo + (hi - lo) / 2;
    (PairedTTestPower(delta, sd, mid, alpha) >= power ? hi : lo) = mid;
  }
  return hi;
}

SeedPlan PlanSeeds(int n, double observed, double sd, double alpha, int family_size, double min_effect) {
  SeedPlan p;
  p.n = n;
  p.observed = observed;
  p.sd = sd;
  p.alpha = alpha;
  p.alpha_holm = alpha / std::max(1, family_size);
  p.min_effect = min_effect;
  p.defined = n >= 2 && sd >= 0;
  if (!p.defined) return p;
  p.power = PairedTTestPower(observed, sd, n, p.alpha);
  p.power_holm = PairedTTestPower(observed, sd, n, p.alpha_holm);
  p.detectable = MinDetectableDifference(sd, n, p.alpha);
  p.detectable_holm = MinDetectableDifference(sd, n, p.alpha_holm);
  p.pairs = PairsNeeded(observed, sd, p.alpha);
  p.pairs_holm = PairsNeeded(observed, sd, p.alpha_holm);
  if (min_effect > 0) {
    p.power_min_effect = PairedTTestPower(min_effect, sd, n, p.alpha);
    p.power_min_effect_holm = PairedTTestPower(min_effect, sd, n, p.alpha_holm);
    p.pairs_min_effect = PairsNeeded(min_effect, sd, p.alpha);
    p.pairs_min_effect_holm = PairsNeeded(min_effect, sd, p.alpha_holm);
  }
  return p;
}

}  // namespace avctl
