#include "common/crossing_probability.h"

#include <cmath>

namespace avctl {
namespace {

constexpr int kGridR = 32;  // Jennison & Turnbull's r: 6r - 1 points before the cut

double NormalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }
double NormalUpper(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }
double NormalDensity(double x) { return std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI); }

// Jennison & Turnbull's grid around `mean` (in sd units of 1), cut to
// (lower, upper) with the finite bounds themselves added, then doubled with
// midpoints; `weight` gets Simpson's weights.
LookDensity SimpsonGrid(double mean, double lower, double upper) {
  LookDensity g;
  if (!(lower < upper)) return g;
  std::vector<double> x;
  const double r = kGridR;
  if (std::isfinite(lower)) x.push_back(lower);
  for (int i = 1; i <= 6 * kGridR - 1; ++i) {
    double offset;
    if (i < kGridR) offset = -3 - 4 * std::log(r / i);
    else if (i <= 5 * kGridR) offset = -3 + 3 * (i - r) / (2 * r);
    else offset = 3 + 4 * std::log(r / (6 * r - i));
    const double p = mean + offset;
    if (p > lower && p < upper) x.push_back(p);
  }
  if (std::isfinite(upper)) x.push_back(upper);
  if (x.size() < 2) {
    // The region lies in a far tail, between two grid points: one interval.
    x = {std::isfinite(lower) ? lower : upper - 1, std::isfinite(upper) ? upper : lower + 1};
  }
  const size_t m = x.size() - 1;
  g.z.resize(2 * m + 1);
  g.weight.assign(2 * m + 1, 0.0);
  for (size_t j = 0; j < m; ++j) {
    const double d = x[j + 1] - x[j];
    g.z[2 * j] = x[j];
    g.z[2 * j + 1] = 0.5 * (x[j] + x[j + 1]);
    g.weight[2 * j] += d / 6;
    g.weight[2 * j + 1] += 4 * d / 6;
    g.weight[2 * j + 2] += d / 6;
  }
  g.z[2 * m] = x[m];
  return g;
}

}  // namespace

LookDensity FirstLookDensity(double information, double lower, double upper, double drift) {
  const double mean = drift * std::sqrt(information);
  LookDensity g = SimpsonGrid(mean, lower, upper);
  for (size_t i = 0; i < g.z.size(); ++i) g.weight[i] *= NormalDensity(g.z[i] - mean);
  return g;
}

LookDensity NextLookDensity(const LookDensity& previous, double t_prev, double t, double lower, double upper,
                            double drift) {
  const double delta = t - t_prev;
  const double sd = std::sqrt(delta);
  const double root_t = std::sqrt(t), root_prev = std::sqrt(t_prev);
  LookDensity g = SimpsonGrid(drift * root_t, lower, upper);
  for (size_t j = 0; j < g.z.size(); ++j) {
    // Z_k = z: the score sqrt(t) z came from sqrt(t_prev) z_i plus an
    // increment N(drift delta, delta); the Jacobian is sqrt(t) / sd.
    double density = 0;
    for (size_t i = 0; i < previous.z.size(); ++i) {
      density += previous.weight[i] * NormalDensity((g.z[j] * root_t - previous.z[i] * root_prev - drift * delta) / sd);
    }
    g.weight[j] *= density * root_t / sd;
  }
  return g;
}

namespace {

// The probability that the statistic at information t lies beyond `bound`
// (`tail`: NormalUpper above, NormalCdf below), given the previous look's
// sub-density (null: t is the first look).
template <typename Tail>
double Cross(const LookDensity* previous, double t_prev, double t, double bound, double drift, Tail tail) {
  if (previous == nullptr) return tail(bound - drift * std::sqrt(t));
  if (!std::isfinite(bound)) {
    // Beyond an infinite bound: nothing, or everything still running.
    if (tail(bound) == 0) return 0;
    double reach = 0;
    for (double w : previous->weight) reach += w;
    return reach;
  }
  const double delta = t - t_prev;
  const double sd = std::sqrt(delta);
  double p = 0;
  for (size_t i = 0; i < previous->z.size(); ++i) {
    p += previous->weight[i] * tail((bound * std::sqrt(t) - previous->z[i] * std::sqrt(t_prev) - drift * delta) / sd);
  }
  return p;
}

}  // namespace

double CrossAbove(const LookDensity* previous, double t_prev, double t, double upper, double drift) {
  return Cross(previous, t_prev, t, upper, drift, NormalUpper);
}

double CrossBelow(const LookDensity* previous, double t_prev, double t, double lower, double drift) {
  return Cross(previous, t_prev, t, lower, drift, NormalCdf);
}

CrossingProbabilities CrossingProbabilitiesOf(const std::vector<double>& information,
                                              const std::vector<double>& lower,
                                              const std::vector<double>& upper, double drift) {
  CrossingProbabilities out;
  LookDensity density;
  for (size_t k = 0; k < information.size(); ++k) {
    const LookDensity* prev = k == 0 ? nullptr : &density;
    const double t_prev = k == 0 ? 0.0 : information[k - 1];
    out.upper.push_back(CrossAbove(prev, t_prev, information[k], upper[k], drift));
    out.lower.push_back(CrossBelow(prev, t_prev, information[k], lower[k], drift));
    if (k + 1 < information.size()) {
      density = k == 0 ? FirstLookDensity(information[0], lower[0], upper[0], drift)
                       : NextLookDensity(density, t_prev, information[k], lower[k], upper[k], drift);
    }
  }
  return out;
}

}  // namespace avctl
