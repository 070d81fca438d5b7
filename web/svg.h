// Small SVG charts drawn by the project for the static report (pure: data
// in, markup out; every label escaped). Fixed sizes in pixels, no scripts.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "common/text.h"  // XmlEscape

namespace avctl {

struct BoxGroup {
  std::string label;
  std::vector<std::pair<std::string, double>> points;  // (pair key, value): same key = same partition and seed
};
// Box (quartiles, median, whiskers to the extremes within 1.5 IQR) and the
// points of every group; grey lines join each point of group `reference`
// to the point with the same key in every other group (paired runs).
std::string BoxPlotSvg(const std::vector<BoxGroup>& groups, const std::string& y_label, int reference);

struct LineSeries {
  std::string label;
  std::vector<std::pair<double, double>> points;
};
// Curves with a legend under the plot (labels wrapped, never cut).
std::string LineChartSvg(const std::vector<LineSeries>& series, const std::string& x_label, const std::string& y_label);

// A square matrix of counts; cells shaded by the row share (recall), with
// the count written in each.
std::string HeatmapSvg(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                       const std::string& title);

// One value of a swept hyperparameter: the runs' metric values with their
// mean and 95% interval (computed by the caller).
struct ParamPoint {
  double x = 0;
  std::vector<double> values;
  double mean = 0, low = 0, high = 0;
};
struct ParamSeries {
  std::string label;  // a variant
  std::vector<ParamPoint> points;
};
// Metric against a hyperparameter, one series per variant: each run as a
// faint dot, the mean as a square with its interval as a whisker, means
// joined; a log axis (decades) when log_x and every value is positive.
// The legend sits under the plot, labels wrapped.
std::string ParamChartSvg(const std::vector<ParamSeries>& series, const std::string& x_label,
                          const std::string& y_label, bool log_x);

// A label broken into lines of at most max_chars, after a separator
// (space, _ , = [ / . -) where one leaves a line of at least a third.
std::vector<std::string> WrapLabel(const std::string& label, size_t max_chars);

}  // namespace avctl
