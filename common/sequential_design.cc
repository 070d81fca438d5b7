#include "common/sequential_design.h"

#include <cmath>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>
#include <boost/math/tools/roots.hpp>
#include <fmt/format.h>

#include "common/crossing_probability.h"
#include "common/sequential_simulation.h"

namespace avctl {
namespace {

const boost::math::normal kStandardNormal;

double UpperQuantile(double p) { return boost::math::quantile(boost::math::complement(kStandardNormal, p)); }
double UpperTail(double z) { return boost::math::cdf(boost::math::complement(kStandardNormal, z)); }

// The root of an increasing or decreasing f on [lo, hi] (f(lo), f(hi) of
// opposite signs) to double precision.
template <typename F>
double Solve(F f, double lo, double hi) {
  const double f_lo = f(lo), f_hi = f(hi);
  if (f_lo == 0) return lo;
  if (f_hi == 0) return hi;
  if ((f_lo > 0) == (f_hi > 0)) return (std::abs(f_lo) < std::abs(f_hi)) ? lo : hi;  // no sign change: the nearer end
  boost::uintmax_t iterations = 200;
  auto [a, b] = boost::math::tools::toms748_solve(f, lo, hi, f_lo, f_hi,
                                                  boost::math::tools::eps_tolerance<double>(45), iterations);
  return 0.5 * (a + b);
}

// The t quantile with the same upper tail as z, at df degrees of freedom.
double TScale(double z, int df) {
  if (!std::isfinite(z)) return z;
  const double p = UpperTail(z);
  if (p <= 0) return kNoBound;
  if (p >= 1) return -kNoBound;
  return boost::math::quantile(boost::math::complement(boost::math::students_t(df), p));
}

}  // namespace

Status CheckSequentialDesignSpec(const SequentialDesignSpec& spec) {
  if (spec.looks.empty()) return Status::InvalidArgument("expected at least one look").WithField("looks");
  for (size_t k = 0; k < spec.looks.size(); ++k) {
    const std::string field = fmt::format("looks[{}]", k);
    if (k == 0 && spec.looks[0] < 2) {
      return Status::InvalidArgument(fmt::format("the first look needs at least 2 pairs (a paired t-test), got {}",
                                                 spec.looks[0])).WithField(field);
    }
    if (k > 0 && spec.looks[k] <= spec.looks[k - 1]) {
      return Status::InvalidArgument(fmt::format("looks must grow: {} pairs after {}", spec.looks[k],
                                                 spec.looks[k - 1])).WithField(field);
    }
  }
  if (!(spec.alpha > 0 && spec.alpha < 0.5)) {
    return Status::InvalidArgument(fmt::format("expected a one-sided level in (0, 0.5), got {}", spec.alpha))
        .WithField("alpha");
  }
  if (spec.futility && !(spec.beta > 0 && spec.beta < 1 - spec.alpha)) {
    return Status::InvalidArgument(fmt::format("expected beta in (0, 1 - alpha) = (0, {}), got {}", 1 - spec.alpha,
                                               spec.beta)).WithField("beta");
  }
  return Status::OK();
}

namespace {

// Efficacy bounds with no futility bound (non-binding futility leaves them
// as they are): look k's bound spends alpha(t_k) - alpha(t_{k-1}) under no effect.
std::vector<double> EfficacyBounds(const SequentialDesignSpec& spec, const std::vector<double>& t) {
  std::vector<double> c;
  LookDensity density;
  for (size_t k = 0; k < t.size(); ++k) {
    const double t_prev = k == 0 ? 0.0 : t[k - 1];
    const double increment = AlphaSpent(spec.spending, spec.alpha, t[k]) - AlphaSpent(spec.spending, spec.alpha, t_prev);
    const LookDensity* prev = k == 0 ? nullptr : &density;
    c.push_back(Solve([&](double z) { return CrossAbove(prev, t_prev, t[k], z, 0) - increment; }, -10, 40));
    if (k + 1 < t.size()) {
      density = k == 0 ? FirstLookDensity(t[0], -kNoBound, c[0], 0)
                       : NextLookDensity(density, t_prev, t[k], -kNoBound, c[k], 0);
    }
  }
  return c;
}

// Futility bounds under `drift`: the cumulative chance of stopping for
// futility by look k is beta(t_k), with the efficacy bounds `c` in place.
std::vector<double> FutilityBounds(double beta, const std::vector<double>& t, const std::vector<double>& c,
                                   double drift) {
  std::vector<double> f;
  LookDensity density;
  double spent = 0;
  for (size_t k = 0; k < t.size(); ++k) {
    const double t_prev = k == 0 ? 0.0 : t[k - 1];
    const double target = BetaSpent(beta, t[k]) - spent;
    const LookDensity* prev = k == 0 ? nullptr : &density;
    f.push_back(Solve([&](double z) { return CrossBelow(prev, t_prev, t[k], z, drift) - target; }, -12, 12));
    spent += CrossBelow(prev, t_prev, t[k], f[k], drift);
    if (k + 1 < t.size()) {
      density = k == 0 ? FirstLookDensity(t[0], f[0], c[0], drift)
                       : NextLookDensity(density, t_prev, t[k], f[k], c[k], drift);
    }
  }
  return f;
}

}  // namespace

const char* AlphaSpendingName(AlphaSpending s) {
  return s == AlphaSpending::kPocock ? "pocock" : "obrien_fleming";
}

Result<AlphaSpending> ParseAlphaSpending(const std::string& name) {
  if (name == "obrien_fleming") return AlphaSpending::kOBrienFleming;
  if (name == "pocock") return AlphaSpending::kPocock;
  return Status::InvalidArgument(fmt::format("expected \"obrien_fleming\" or \"pocock\", got \"{}\"", name));
}

double AlphaSpent(AlphaSpending s, double alpha, double t) {
  if (t <= 0) return 0;
  if (t >= 1) return alpha;
  if (s == AlphaSpending::kPocock) return alpha * std::log(1 + (std::exp(1.0) - 1) * t);
  return 2 * UpperTail(UpperQuantile(alpha / 2) / std::sqrt(t));
}

double BetaSpent(double beta, double t) {
  if (t <= 0) return 0;
  if (t >= 1) return beta;
  return 2 * UpperTail(UpperQuantile(beta / 2) / std::sqrt(t));
}

Result<SequentialDesign> MakeSequentialDesign(const SequentialDesignSpec& spec) {
  if (Status s = CheckSequentialDesignSpec(spec); !s.ok()) return s;
  SequentialDesign d;
  d.spec = spec;
  const double n_max = spec.looks.back();
  for (int n : spec.looks) d.information.push_back(n / n_max);
  d.efficacy_z = EfficacyBounds(spec, d.information);
  for (size_t k = 0; k < d.information.size(); ++k) {
    d.alpha_spent.push_back(AlphaSpent(spec.spending, spec.alpha, d.information[k]));
    d.nominal_alpha.push_back(UpperTail(d.efficacy_z[k]));
    d.efficacy_t.push_back(TScale(d.efficacy_z[k], spec.looks[k] - 1));
  }
  if (spec.strict) {
    d.efficacy_t = CalibrateStrictBounds(d, kStrictCalibrationPaths, kStrictCalibrationSeed);
    for (size_t k = 0; k < d.information.size(); ++k) {
      d.nominal_alpha[k] =
          std::isfinite(d.efficacy_t[k])
              ? boost::math::cdf(boost::math::complement(boost::math::students_t(spec.looks[k] - 1), d.efficacy_t[k]))
              : 0.0;
    }
  }
  if (!spec.futility) return d;
  // The drift at which the futility bounds meet the efficacy bound at the
  // last look: the design's power there is then 1 - beta (rpact's search,
  // on the same interval).
  d.drift = Solve(
      [&](double drift) { return FutilityBounds(spec.beta, d.information, d.efficacy_z, drift).back() - d.efficacy_z.back(); },
      -4, 10);
  d.futility_z = FutilityBounds(spec.beta, d.information, d.efficacy_z, d.drift);
  d.futility_z.back() = d.efficacy_z.back();
  const CrossingProbabilities p = CrossingProbabilitiesOf(d.information, d.futility_z, d.efficacy_z, d.drift);
  double beta = 0, power = 0;
  for (size_t k = 0; k < d.information.size(); ++k) {
    beta += p.lower[k];
    power += p.upper[k];
    d.beta_spent.push_back(beta);
    d.power.push_back(power);
    d.futility_t.push_back(TScale(d.futility_z[k], spec.looks[k] - 1));
  }
  return d;
}

}  // namespace avctl
