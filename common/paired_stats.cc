#include "common/paired_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include <boost/math/distributions/normal.hpp>
#include <boost/math/distributions/students_t.hpp>

namespace avctl {

const char* TailName(Tail t) { return t == Tail::kGreater ? "greater" : "less"; }

std::optional<Tail> ParseTail(const std::string& s) {
  if (s == "greater") return Tail::kGreater;
  if (s == "less") return Tail::kLess;
  return std::nullopt;
}

MatchedPairs MatchPairs(const std::map<PairKey, double>& x, const std::map<PairKey, double>& y) {
  MatchedPairs m;
  for (const auto& [k, v] : x) {
    auto it = y.find(k);
    if (it == y.end()) {
      ++m.unmatched_x;
      continue;
    }
    m.keys.push_back(k);
    m.x.push_back(v);
    m.y.push_back(it->second);
  }
  for (const auto& [k, v] : y) {
    if (!x.count(k)) ++m.unmatched_y;
  }
  return m;
}

PairedTTest PairedTTestOneTailed(const std::vector<double>& x, const std::vector<double>& y, Tail tail,
                                 double confidence) {
  PairedTTest r;
  const size_t n = std::min(x.size(), y.size());
  r.n = static_cast<int>(n);
  if (n < 2) {
    r.note = n == 0 ? "no complete pairs" : "one pair: no variance to test against";
    return r;
  }
  std::vector<double> d(n);
  for (size_t i = 0; i < n; ++i) d[i] = x[i] - y[i];
  const double mean = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(n);
  double ss = 0;
  for (double v : d) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  r.defined = true;
  r.mean_diff = mean;
  r.sd_diff = sd;
  r.df = static_cast<double>(n - 1);
  const double se = sd / std::sqrt(static_cast<double>(n));
  const double sign = tail == Tail::kGreater ? 1.0 : -1.0;
  // Differences equal up to rounding (0.6 - 0.5 vs 0.7 - 0.6) count as zero variance.
  double max_abs = 0;
  for (double v : d) max_abs = std::max(max_abs, std::fabs(v));
  if (sd <= 1e-12 * max_abs || sd == 0) {
    const double inf = std::numeric_limits<double>::infinity();
    if (mean == 0) {
      r.t = 0;
      r.p = 1;
      r.dz = 0;
      r.note = "every difference is zero";
    } else {
      r.t = mean > 0 ? inf : -inf;
      r.dz = r.t;
      r.p = sign * mean > 0 ? 0.0 : 1.0;
      r.note = "zero variance: every difference equals the mean";
    }
    r.ci_low = r.ci_high = mean;
    return r;
  }
  boost::math::students_t dist(r.df);
  r.t = mean / se;
  r.p = tail == Tail::kGreater ? boost::math::cdf(boost::math::complement(dist, r.t)) : boost::math::cdf(dist, r.t);
  const double q = boost::math::quantile(boost::math::complement(dist, (1 - confidence) / 2));
  r.ci_low = mean - q * se;
  r.ci_high = mean + q * se;
  r.dz = mean / sd;
  return r;
}

WilcoxonTest WilcoxonSignedRank(const std::vector<double>& x, const std::vector<double>& y, Tail tail) {
  WilcoxonTest r;
  const size_t n_all = std::min(x.size(), y.size());
  std::vector<double> d;
  for (size_t i = 0; i < n_all; ++i) {
    const double v = x[i] - y[i];
    if (v == 0) {
      ++r.zeros;
    } else {
      d.push_back(v);
    }
  }
  const size_t n = d.size();
  r.n = static_cast<int>(n);
  if (n == 0) {
    r.note = n_all == 0 ? "no complete pairs" : "every difference is zero";
    return r;
  }
  r.defined = true;
  // Average ranks of |d|.
  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(d[a]) < std::fabs(d[b]); });
  std::vector<double> rank(n);
  double tie_term = 0;  // sum of (t^3 - t) over tie groups
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j + 1 < n && std::fabs(d[order[j + 1]]) == std::fabs(d[order[i]])) ++j;
    const double avg = (static_cast<double>(i + 1) + static_cast<double>(j + 1)) / 2.0;
    for (size_t k = i; k <= j; ++k) rank[order[k]] = avg;
    const double t = static_cast<double>(j - i + 1);
    if (t > 1) {
      r.ties = true;
      tie_term += t * t * t - t;
    }
    i = j + 1;
  }
  for (size_t i = 0; i < n; ++i) (d[i] > 0 ? r.w_plus : r.w_minus) += rank[i];
  // The statistic whose large values support H1.
  const double w = tail == Tail::kGreater ? r.w_plus : r.w_minus;
  if (n <= 50 && !r.ties) {
    // Exact: counts of subsets of {1..n} by rank sum.
    const int max_sum = static_cast<int>(n * (n + 1) / 2);
    std::vector<double> count(max_sum + 1, 0.0);
    count[0] = 1;
    for (int k = 1; k <= static_cast<int>(n); ++k) {
      for (int s = max_sum; s >= k; --s) count[s] += count[s - k];
    }
    const double total = std::ldexp(1.0, static_cast<int>(n));
    double upper = 0;
    for (int s = static_cast<int>(std::ceil(w - 1e-9)); s <= max_sum; ++s) upper += count[s];
    r.exact = true;
    r.p = std::min(1.0, upper / total);
    if (r.zeros > 0) r.note = "zero differences dropped (Wilcoxon's method)";
    return r;
  }
  const double nn = static_cast<double>(n);
  const double mean = nn * (nn + 1) / 4;
  const double var = nn * (nn + 1) * (2 * nn + 1) / 24 - tie_term / 48;
  if (var <= 0) {
    r.p = 1;
    r.note = "no variance in the ranks";
    return r;
  }
  r.z = (w - mean - 0.5) / std::sqrt(var);  // continuity correction toward the null
  boost::math::normal normal;
  r.p = boost::math::cdf(boost::math::complement(normal, r.z));
  r.note = r.ties ? "normal approximation with tie and continuity corrections" : "normal approximation (n > 50)";
  return r;
}

MeanInterval MeanConfidenceInterval(const std::vector<double>& x, double confidence) {
  MeanInterval r;
  r.n = static_cast<int>(x.size());
  if (x.empty()) return r;
  r.mean = std::accumulate(x.begin(), x.end(), 0.0) / static_cast<double>(x.size());
  r.low = r.high = r.mean;
  if (x.size() < 2) return r;
  double ss = 0;
  for (double v : x) ss += (v - r.mean) * (v - r.mean);
  const double se = std::sqrt(ss / static_cast<double>(x.size() - 1) / static_cast<double>(x.size()));
  boost::math::students_t dist(static_cast<double>(x.size() - 1));
  const double q = boost::math::quantile(boost::math::complement(dist, (1 - confidence) / 2));
  r.low = r.mean - q * se;
  r.high = r.mean + q * se;
  r.defined = true;
  return r;
}

std::vector<double> HolmAdjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] < p[b]; });
  std::vector<double> out(m);
  double running = 0;
  for (size_t i = 0; i < m; ++i) {
    const double adj = std::min(1.0, static_cast<double>(m - i) * p[order[i]]);
    running = std::max(running, adj);
    out[order[i]] = running;
  }
  return out;
}

}  // namespace avctl
