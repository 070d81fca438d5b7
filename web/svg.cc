#include "web/svg.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace avctl {

namespace {

// Okabe and Ito's colour-universal-design palette (2008), told apart with
// every common colour-vision deficiency; their yellow (#F0E442) is replaced
// by grey, too light on white for lines and small marks.
constexpr const char* kPalette[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000",
                                    "#999999"};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

// An upper bound of the width of one character of the charts' 11 px
// sans-serif text (DejaVu Sans averages about 6.4 px): labels wrapped to
// it never run past their box.
constexpr double kCharPx = 7.0;
constexpr int kLinePx = 13;

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


// Lines already wrapped (WrapLabel), one <tspan> each, anchored at x.
std::string TextLines(const std::vector<std::string>& lines, double x, double y, const char* anchor) {
  std::string s = fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"{}\">", Num(x), Num(y), anchor);
  for (size_t i = 0; i < lines.size(); ++i) {
    s += fmt::format("<tspan x=\"{}\" dy=\"{}\">{}</tspan>", Num(x), i == 0 ? 0 : kLinePx, XmlEscape(lines[i]));
  }
  return s + "</text>";
}

size_t CharsIn(double px) { return static_cast<size_t>(std::max(4.0, std::floor(px / kCharPx))); }

// A legend under a chart: one swatch and wrapped label per series, from y
// down; returns the markup and moves *y below it.
std::string Legend(const std::vector<std::string>& labels, double x, double width, double* y) {
  std::string s;
  for (size_t i = 0; i < labels.size(); ++i) {
    const std::vector<std::string> lines = WrapLabel(labels[i], CharsIn(width - 18));
    s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"10\" height=\"10\" fill=\"{}\"/>", Num(x), Num(*y),
                     kPalette[i % kPaletteSize]);
    s += TextLines(lines, x + 16, *y + 9, "start");
    *y += static_cast<double>(lines.size()) * kLinePx + 5;
  }
  return s;
}

}  // namespace

std::vector<std::string> WrapLabel(const std::string& label, size_t max_chars) {
  max_chars = std::max<size_t>(max_chars, 4);
  std::vector<std::string> lines;
  std::string rest = label;
  while (rest.size() > max_chars) {
    // Break after the last separator that leaves a line of at least a third; else hard.
    size_t cut = std::string::npos;
    for (size_t k = max_chars; k >= max_chars / 3 && k > 0; --k) {
      const char c = rest[k - 1];
      if (c == ' ' || c == '_' || c == ',' || c == '=' || c == '[' || c == '/' || c == '.' || c == '-') {
        cut = k;
        break;
      }
    }
    if (cut == std::string::npos) cut = max_chars;
    std::string line = rest.substr(0, cut);
    while (!line.empty() && line.back() == ' ') line.pop_back();
    lines.push_back(line);
    rest = rest.substr(cut);
    while (!rest.empty() && rest.front() == ' ') rest.erase(0, 1);
  }
  if (!rest.empty() || lines.empty()) lines.push_back(rest);
  return lines;
}

std::string BoxPlotSvg(const std::vector<BoxGroup>& groups, const std::string& y_label, int reference) {
  const int slot = 100, left = 60, top = 14, plot_h = 220;
  // Variant names wrapped under their boxes, never cut.
  std::vector<std::vector<std::string>> names;
  size_t max_lines = 1;
  for (const auto& g : groups) {
    names.push_back(WrapLabel(g.label, CharsIn(slot - 8)));
    max_lines = std::max(max_lines, names.back().size());
  }
  const int bottom = 22 + static_cast<int>(max_lines) * kLinePx;
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
    const char* color = kPalette[i % kPaletteSize];
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
    s += TextLines(names[i], cx(i), top + plot_h + 16, "middle");
  }
  return s + "</svg>";
}

std::string LineChartSvg(const std::vector<LineSeries>& series, const std::string& x_label,
                         const std::string& y_label) {
  const int w = 520, plot_h = 246, left = 60, right = 20, top = 14, axis = 40;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      xlo = std::min(xlo, x), xhi = std::max(xhi, x), ylo = std::min(ylo, y), yhi = std::max(yhi, y);
    }
  }
  if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  std::vector<double> yt = NiceTicks(&ylo, &yhi, 5);
  std::vector<double> xt = NiceTicks(&xlo, &xhi, 6);
  const int y0 = top + plot_h;
  Axis X{xlo, xhi, static_cast<double>(left), static_cast<double>(w - right), false};
  Axis Y{ylo, yhi, static_cast<double>(y0), static_cast<double>(top), false};
  std::string body = YAxis(Y, yt, left, w - right, y_label);
  body += XAxis(X, xt, y0, y0 + 32, x_label);
  std::vector<std::string> labels;
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kPalette[i % kPaletteSize];
    std::string path;
    for (const auto& [x, y] : series[i].points) {
      path += fmt::format("{}{},{} ", path.empty() ? "M" : "L", Num(X.Map(x)), Num(Y.Map(y)));
    }
    if (!path.empty()) {
      body += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.8\"/>", path, color);
    }
    if (series[i].points.size() <= 40) {  // markers, so that short curves (one epoch) show
      for (const auto& [x, y] : series[i].points) {
        body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"2.5\" fill=\"{}\"/>", Num(X.Map(x)), Num(Y.Map(y)),
                            color);
      }
    }
    labels.push_back(series[i].label);
  }
  double ly = y0 + axis + 6;
  body += Legend(labels, left, w - left - right, &ly);
  const int h = static_cast<int>(std::ceil(ly)) + 4;
  return Open(w, h, y_label + " by " + x_label) + body + "</svg>";
}

std::string HeatmapSvg(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                       const std::string& title) {
  const int n = static_cast<int>(labels.size());
  const int cell = 34, left = 50, top = 30;
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
  s += fmt::format("<text x=\"12\" y=\"{}\" transform=\"rotate(-90 12 {})\" text-anchor=\"middle\">{}</text>",
                   top + n * cell / 2, top + n * cell / 2, XmlEscape("true"));
  return s + "</svg>";
}

std::string ParamChartSvg(const std::vector<ParamSeries>& series, const std::string& x_label,
                          const std::string& y_label, bool log_x) {
  const int w = 460, plot_h = 230, left = 60, right = 20, top = 14, axis = 40;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  for (const auto& s : series) {
    for (const auto& p : s.points) {
      xlo = std::min(xlo, p.x), xhi = std::max(xhi, p.x);
      for (double v : p.values) ylo = std::min(ylo, v), yhi = std::max(yhi, v);
      ylo = std::min(ylo, p.low), yhi = std::max(yhi, p.high);
    }
  }
  if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  log_x = log_x && xlo > 0;
  std::vector<double> yt = NiceTicks(&ylo, &yhi, 5);
  std::vector<double> xt;
  if (log_x) {
    // Decades, with a decade either side when the values sit inside one.
    double lo = std::pow(10, std::floor(std::log10(xlo))), hi = std::pow(10, std::ceil(std::log10(xhi)));
    if (hi <= lo) hi = lo * 10;
    for (double t = lo; t <= hi * 1.0001; t *= 10) xt.push_back(t);
    xlo = lo, xhi = hi;
  } else {
    xt = NiceTicks(&xlo, &xhi, 5);
  }
  const int y0 = top + plot_h;
  // Inset the extreme values from the frame so that their whiskers show.
  Axis X{xlo, xhi, static_cast<double>(left + 12), static_cast<double>(w - right - 12), log_x};
  Axis Y{ylo, yhi, static_cast<double>(y0), static_cast<double>(top), false};
  std::string body = YAxis(Y, yt, left, w - right, y_label);
  body += XAxis(X, xt, y0, y0 + 32, x_label + (log_x ? " (log scale)" : ""));
  std::vector<std::string> labels;
  const double n = static_cast<double>(series.size());
  for (size_t i = 0; i < series.size(); ++i) {
    const char* color = kPalette[i % kPaletteSize];
    const double dx = (static_cast<double>(i) - (n - 1) / 2) * 7;  // series side by side at one value
    std::string path;
    for (const auto& p : series[i].points) {
      const double px = X.Map(p.x) + dx;
      for (double v : p.values) {
        body += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"1.8\" fill=\"{}\" fill-opacity=\"0.35\"/>", Num(px),
                            Num(Y.Map(v)), color);
      }
      body += fmt::format("<line x1=\"{0}\" x2=\"{0}\" y1=\"{1}\" y2=\"{2}\" stroke=\"{3}\" stroke-width=\"1.4\"/>",
                          Num(px), Num(Y.Map(p.low)), Num(Y.Map(p.high)), color);
      body += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"7\" height=\"7\" fill=\"{}\"><title>{}</title></rect>",
                          Num(px - 3.5), Num(Y.Map(p.mean) - 3.5), color,
                          XmlEscape(fmt::format("{} at {:.4g}: mean {:.4f}, 95% CI [{:.4f}, {:.4f}], {} runs",
                                                series[i].label, p.x, p.mean, p.low, p.high, p.values.size())));
      path += fmt::format("{}{},{} ", path.empty() ? "M" : "L", Num(px), Num(Y.Map(p.mean)));
    }
    if (series[i].points.size() > 1) {
      body += fmt::format("<path d=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"1.2\" stroke-opacity=\"0.7\"/>",
                          path, color);
    }
    labels.push_back(series[i].label);
  }
  double ly = y0 + axis + 6;
  body += Legend(labels, left, w - left - right, &ly);
  const int h = static_cast<int>(std::ceil(ly)) + 4;
  return Open(w, h, y_label + " against " + x_label) + body + "</svg>";
}

}  // namespace avctl
