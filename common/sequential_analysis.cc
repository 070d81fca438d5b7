#include "common/sequential_analysis.h"

#include <cmath>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/tools/roots.hpp>

#include "common/crossing_probability.h"

namespace avctl {
namespace {

// P_theta(an outcome at least as extreme as the observed one, stage-wise):
// crossing an earlier look's efficacy bound, or reaching `look` and Z >= z.
double AtLeastAsExtreme(const SequentialDesign& d, int look, double z, double theta, int pairs) {
  const std::vector<double> t(d.information.begin(), d.information.begin() + look + 1);
  // E[Z_j] = theta sqrt(n_j) with n_j = pairs t_j / t_look: the drift at information 1.
  const double drift = theta * std::sqrt(pairs / t.back());
  std::vector<double> lower(t.size(), -kNoBound), upper(d.efficacy_z.begin(), d.efficacy_z.begin() + look + 1);
  upper.back() = z;
  const CrossingProbabilities c = CrossingProbabilitiesOf(t, lower, upper, drift);
  double p = 0;
  for (double u : c.upper) p += u;
  return p;
}

}  // namespace

StagewiseAnalysis AnalyseStagewise(const SequentialDesign& design, int look, double p, int pairs, double mean,
                                   double sd) {
  StagewiseAnalysis out;
  if (look < 0 || look >= static_cast<int>(design.information.size()) || pairs < 2 || !(sd > 0) ||
      !(p > 0 && p < 1)) {
    return out;
  }
  const double alpha = design.spec.alpha;
  if (look == 0) {
    // rpact's interval here uses the normal quantile, t-test or not.
    const double half = boost::math::quantile(boost::math::complement(boost::math::normal(), alpha)) * sd /
                        std::sqrt(static_cast<double>(pairs));
    out.defined = true;
    out.p = p;
    out.estimate = mean;
    out.ci_low = mean - half;
    out.ci_high = mean + half;
    return out;
  }
  const double z = boost::math::quantile(boost::math::complement(boost::math::normal(), p));
  if (z >= 8) return out;
  out.p = AtLeastAsExtreme(design, look, z, 0.0, pairs);
  auto solve = [&](double target) {
    auto f = [&](double theta) { return AtLeastAsExtreme(design, look, z, theta, pairs) - target; };
    boost::uintmax_t iterations = 200;
    auto [a, b] = boost::math::tools::toms748_solve(f, -8.0, 8.0, boost::math::tools::eps_tolerance<double>(40),
                                                    iterations);
    return 0.5 * (a + b) * sd;
  };
  out.ci_low = solve(alpha);
  out.ci_high = solve(1 - alpha);
  out.estimate = solve(0.5);
  out.defined = true;
  return out;
}

RepeatedInterval RepeatedConfidenceInterval(const SequentialDesign& design, int look, int pairs, double mean, double sd,
                                    bool t_scale) {
  RepeatedInterval out;
  if (look < 0 || look >= static_cast<int>(design.information.size()) || pairs < 2 || !(sd >= 0)) return out;
  const double bound = t_scale ? design.efficacy_t[static_cast<size_t>(look)] : design.efficacy_z[static_cast<size_t>(look)];
  if (!std::isfinite(bound)) return out;
  const double half = bound * sd / std::sqrt(static_cast<double>(pairs));
  out.defined = true;
  out.low = mean - half;
  out.high = mean + half;
  return out;
}

}  // namespace avctl
