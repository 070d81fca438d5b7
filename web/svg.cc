#include "web/svg.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace avctl {

namespace {

constexpr const char* kPalette[] = {"#1b6ca8", "#d1495b", "#00798c", "#edae49", "#66a182", "#8d5a97", "#30638e",
                                    "#e07a5f"};

struct Axis {
  double lo = 0, hi = 1;
  double px_lo = 0, px_hi = 1;  // pixel positions of lo and hi
  bool log = false;
  double Map(double v) const {
    if (log) {
      v = std::log10(std::max(v, 1e-300));
      return px_lo + (v - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) * (px_hi - px_lo);
    }
    return px_lo + (v - lo) / (hi - lo) * (px_hi - px_lo);
  }
};

// Round limits and about n ticks.
std::vector<double> NiceTicks(double* lo, double* hi, int n) {
  if (!(*hi > *lo)) {
    const double pad = std::max(std::fabs(*lo) * 0.05, 0.01);
    *lo -= pad;
    *hi += pad;
  }
  const double raw = (*hi - *lo) / n;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    step = m * mag;
    if (raw <= step) break;
  }
  *lo = std::floor(*lo / step) * step;
  *hi = std::ceil(*hi / step) * step;
  std::vector<double> ticks;
  for (double t = *lo; t <= *hi + step * 1e-9; t += step) ticks.push_back(std::fabs(t) < step * 1e-9 ? 0 : t);
  return ticks;
}

std::string Num(double v) { return fmt::format("{:.1f}", v); }

std::string TickLabel(double v) {
  std::string s = fmt::format("{:.4g}", v);
  return s;
}

std::string Open(int w, int h, const std::string& title) {
  return fmt::format("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" viewBox=\"0 0 {} {}\" "
                     "role=\"img\" font-family=\"sans-serif\" font-size=\"11\"><title>{}</title>",
                     w, h, w, h, XmlEscape(title));
}

std::string YAxis(const Axis& y, const std::vector<double>& ticks, double x0, double x1, const std::string& label) {
  std::string s;
  for (double t : ticks) {
    const double py = y.Map(t);
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#e5e5e5\"/>", Num(x0), Num(x1), Num(py),
                     Num(py));
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>", Num(x0 - 4),
                     Num(py), XmlEscape(TickLabel(t)));
  }
  s += fmt::format("<text transform=\"translate(12,{}) rotate(-90)\" text-anchor=\"middle\">{}</text>",
                   Num((y.px_lo + y.px_hi) / 2), XmlEscape(label));
  return s;
}

// Tick labels under the plot at baseline `y0` and the axis label below them.
std::string XAxis(const Axis& x, const std::vector<double>& ticks, int y0, int label_y, const std::string& label) {
  std::string s;
  for (double t : ticks) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", Num(x.Map(t)), y0 + 14,
                     XmlEscape(TickLabel(t)));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", Num((x.px_lo + x.px_hi) / 2),
                   label_y, XmlEscape(label));
  return s;
}

double Quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t i = static_cast<size_t>(pos);
  const double f = pos - static_cast<double>(i);
  return i + 1 < v.size() ? v[i] * (1 - f) + v[i + 1] * f : v[i];
}

}  // namespace

std::string BoxPlotSvg(const std::vector<BoxGroup>& groups, const std::string& y_label, int reference) {
  const int slot = 90, left = 60, top = 14, plot_h = 220, bottom = 70;
  const int w = left + std::max<int>(1, static_cast<int>(groups.size())) * slot + 20;
  const int h = top + plot_h + bottom;
  double lo = 1e300, hi = -1e300;
  for (const auto& g : groups) {
    for (const auto& [k, v] : g.points) {
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (lo > hi) lo = 0, hi = 1;
  std::vector<double> ticks = NiceTicks(&lo, &hi, 5);
  Axis y{lo, hi, static_cast<double>(top + plot_h), static_cast<double>(top), false};
  std::string s = Open(w, h, y_label + " per run");
  s += YAxis(y, ticks, left, w - 10, y_label);
  auto cx = [&](size_t i) { return left + static_cast<double>(i) * slot + slot / 2.0; };
  // Deterministic horizontal jitter by rank within the group.
  std::vector<std::map<std::string, std::pair<double, double>>> pos(groups.size());
  for (size_t i = 0; i < groups.size(); ++i) {
    const auto& pts = groups[i].points;
    for (size_t j = 0; j < pts.size(); ++j) {
      const double jitter = pts.size() > 1 ? (static_cast<double>(j) / static_cast<double>(pts.size() - 1) - 0.5) * 24 : 0;
      pos[i][pts[j].first] = {cx(i) + jitter, y.Map(pts[j].second)};
    }
  }
  if (reference >= 0 && reference < static_cast<int>(groups.size())) {
    for (size_t i = 0; i < groups.size(); ++i) {
      if (static_cast<int>(i) == reference) continue;
      for (const auto& [key, p] : pos[reference]) {
        auto it = pos[i].find(key);
        if (it == pos[i].end()) continue;
        s += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#bbb\" stroke-width=\"0.7\"/>",
                         Num(p.first), Num(p.second), Num(it->second.first), Num(it->second.second));
      }
    }
  }
  for (size_t i = 0; i < groups.size(); ++i) {
    std::vector<double> v;
    for (const auto& [k, x] : groups[i].points) v.push_back(x);
    const char* color = kPalette[i % 8];
    if (!v.empty()) {
      const double q1 = Quantile(v, 0.25), q2 = Quantile(v, 0.5), q3 = Quantile(v, 0.75);
      const double iqr = q3 - q1;
      double wlo = q3, whi = q1;
      for (double x : v) {
        if (x >= q1 - 1.5 * iqr) wlo = std::min(wlo, x);
        if (x <= q3 + 1.5 * iqr) whi = std::max(whi, x);
      }
      const double x0 = cx(i) - 22, x1 = cx(i) + 22;
      s += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\"/>", Num(cx(i)),
                       Num(y.Map(wlo)), Num(y.Map(whi)), color);
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"44\" height=\"{}\" fill=\"{}\" fill-opacity=\"0.15\" "
                       "stroke=\"{}\"/>", Num(x0), Num(y.Map(q3)), Num(std::max(1.0, y.Map(q1) - y.Map(q3))), color,
                       color);
      s += fmt::format("<line x1=\"{0}\" x2=\"{1}\" y1=\"{2}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"2\"/>", Num(x0),
                       Num(x1), Num(y.Map(q2)), color);
    }
    for (const auto& [key, p] : pos[i]) {
      s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.6\" fill=\"{}\"><title>{}</title></circle>", Num(p.first),
                       Num(p.second), color, XmlEscape(key));
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" transform=\"rotate(-30 {} {})\">{}</text>",
                     Num(cx(i) + 6), top + plot_h + 14, Num(cx(i) + 6), top + plot_h + 14,
                     XmlEscape(groups[i].label.size() > 28 ? groups[i].label.substr(0, 27) + "..." : groups[i].label));
  }
  return s + "</svg>";
}

std::string LineChartSvg(const std::vector<LineSeries>& series, const std::string& x_label,
                         const std::string& y_label) {
  const int w = 520, h = 300, left = 60, right = 150, top = 14, bottom = 40;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  }
  if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  std::vector<double> yt = NiceTicks(&ylo, &yhi, 5);
  std::vector<double> xt = NiceTicks(&xlo, &xhi, 6);
  Axis X{xlo, xhi, static_cast<double>(left), static_cast<double>(w - right), false};
  Axis Y{ylo, yhi, static_cast<double>(h - bottom), static_cast<double>(top), false};
  std::string out = Open(w, h, y_label + " by " + x_label);
  out += YAxis(Y, yt, left, w - right, y_label);
  out += XAxis(X, xt, h - bottom, h - 6, x_label);
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kPalette[i % 8];
    std::string path;
    for (const auto& [x, y] : series[i].points) {
      path += fmt::format("{}{},{} ", path.empty() ? "M" : "L", Num(X.Map(x)), Num(Y.Map(y)));
    }
    if (!path.empty()) {
      out += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>", path, color);
    }
    if (series[i].points.size() <= 40) {  // markers, so that short curves (one epoch) show
      for (const auto& [x, y] : series[i].points) {
        out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>", Num(X.Map(x)), Num(Y.Map(y)),
                           color);
      }
    }
    const int ly = top + 10 + static_cast<int>(i) * 16;
    out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>", w - right + 10, ly - 8,
                       color);
    const std::string& label = series[i].label;
    out += fmt::format("<text x=\"{}\" y=\"{}\">{}</text>", w - right + 24, ly + 1,
                       XmlEscape(label.size() > 22 ? label.substr(0, 21) + "..." : label));
  }
  return out + "</svg>";
}

std::string HeatmapSvg(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                       const std::string& title) {
  const int n = static_cast<int>(labels.size());
  const int cell = 34, left = 44, top = 30;
  const int w = left + n * cell + 10, h = top + n * cell + 30;
  std::string s = Open(w, h, title);
  s += fmt::format("<text x=\"{}\" y=\"12\" text-anchor=\"middle\">{}</text>", left + n * cell / 2,
                   XmlEscape("predicted →"));
  for (int j = 0; j < n; ++j) {
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>", left + j * cell + cell / 2, top - 4,
                     XmlEscape(labels[j]));
  }
  for (int i = 0; i < n; ++i) {
    int64_t row = 0;
    for (int j = 0; j < n; ++j) {
      const size_t idx = static_cast<size_t>(i * n + j);
      row += idx < counts.size() ? counts[idx] : 0;
    }
    s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"end\" dominant-baseline=\"middle\">{}</text>", left - 4,
                     top + i * cell + cell / 2, XmlEscape(labels[i]));
    for (int j = 0; j < n; ++j) {
      const size_t idx = static_cast<size_t>(i * n + j);
      const int64_t c = idx < counts.size() ? counts[idx] : 0;
      const double share = row > 0 ? static_cast<double>(c) / static_cast<double>(row) : 0;
      s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#1b6ca8\" fill-opacity=\"{:.3f}\" "
                       "stroke=\"#fff\"><title>{} as {}: {} ({:.0f}%)</title></rect>",
                       left + j * cell, top + i * cell, cell, cell, 0.05 + 0.95 * share, XmlEscape(labels[i]),
                       XmlEscape(labels[j]), c, 100 * share);
      s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\" dominant-baseline=\"middle\" fill=\"{}\">{}"
                       "</text>", left + j * cell + cell / 2, top + i * cell + cell / 2,
                       share > 0.5 ? "#fff" : "#222", c);
    }
  }
  s += fmt::format("<text x=\"8\" y=\"{}\" transform=\"rotate(-90 8 {})\" text-anchor=\"middle\">{}</text>",
                   top + n * cell / 2, top + n * cell / 2, XmlEscape("true"));
  return s + "</svg>";
}

std::string ScatterSvg(const std::vector<std::pair<double, double>>& points, const std::string& x_label,
                       const std::string& y_label, bool log_x) {
  const int w = 420, h = 280, left = 60, right = 14, top = 14, bottom = 40;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  for (const auto& [x, y] : points) {
    xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
  }
  if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  log_x = log_x && xlo > 0;
  std::vector<double> yt = NiceTicks(&ylo, &yhi, 5);
  std::vector<double> xt;
  if (log_x) {
    if (xhi <= xlo) xhi = xlo * 10;
    for (double t = std::pow(10, std::floor(std::log10(xlo))); t <= xhi * 1.0001; t *= 10) xt.push_back(t);
    xlo = std::min(xlo, xt.front());
  } else {
    xt = NiceTicks(&xlo, &xhi, 5);
  }
  Axis X{xlo, xhi, static_cast<double>(left), static_cast<double>(w - right), log_x};
  Axis Y{ylo, yhi, static_cast<double>(h - bottom), static_cast<double>(top), false};
  std::string s = Open(w, h, y_label + " against " + x_label);
  s += YAxis(Y, yt, left, w - right, y_label);
  s += XAxis(X, xt, h - bottom, h - 6, x_label + (log_x ? " (log scale)" : ""));
  for (const auto& [x, y] : points) {
    s += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"3\" fill=\"#1b6ca8\" fill-opacity=\"0.7\"/>", Num(X.Map(x)),
                     Num(Y.Map(y)));
  }
  return s + "</svg>";
}

}  // namespace avctl
