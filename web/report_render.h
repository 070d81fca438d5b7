// Renders a sweep's static report (pure): a site that opens from file://
// with no network, inline CSS and SVG, a few lines of inline JavaScript to
// sort tables. Every user-given string is escaped.
#pragma once

#include <map>
#include <string>

#include "web/report_analysis.h"
#include "web/report_data.h"

namespace avctl {

// File name -> content: index.html, variant-N.html per group, table.csv,
// table.json and table.tex (the main table as a paper-ready LaTeX tabular).
std::map<std::string, std::string> RenderReport(const ReportData& data, const ReportAnalysis& analysis);

std::string MainTableCsv(const ReportAnalysis& a);
std::string MainTableJson(const ReportData& d, const ReportAnalysis& a);
std::string MainTableLatex(const ReportData& d, const ReportAnalysis& a);

}  // namespace avctl
