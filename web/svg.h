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
std::string LineChartSvg(const std::vector<LineSeries>& series, const std::string& x_label, const std::string& y_label);

// A square matrix of counts; cells shaded by the row share (recall), with
// the count written in each.
std::string HeatmapSvg(const std::vector<int64_t>& counts, const std::vector<std::string>& labels,
                       const std::string& title);

std::string ScatterSvg(const std::vector<std::pair<double, double>>& points, const std::string& x_label,
                       const std::string& y_label, bool log_x);

}  // namespace avctl
