#include "web/html_table.h"

#include <cmath>

#include <fmt/format.h>

namespace avctl {

HtmlCell NumberCell(double value, std::string html) {
  HtmlCell c(std::move(html));
  c.sort = std::isfinite(value) ? fmt::format("{:.6e}", value) : (value > 0 ? "1e300" : "-1e300");
  return c;
}

HtmlTable::HtmlTable(std::vector<std::string> headers, std::string classes)
    : headers_(std::move(headers)), classes_(std::move(classes)) {}

void HtmlTable::AddRow(std::vector<HtmlCell> cells) { rows_.push_back(std::move(cells)); }

std::string HtmlText(const std::string& html) {
  std::string out;
  bool tag = false;
  for (char ch : html) {
    if (ch == '<') {
      tag = true;
    } else if (ch == '>') {
      tag = false;
    } else if (!tag) {
      out += ch == '"' ? '\'' : ch;
    }
  }
  return out;
}

std::string HtmlTable::Render() const {
  std::string s = "<div class=\"scroll\"><table class=\"stack" + (classes_.empty() ? "" : " " + classes_) +
                  "\"><thead><tr>";
  std::vector<std::string> labels;
  for (const auto& h : headers_) {
    s += "<th scope=\"col\">" + h + "</th>";
    labels.push_back(HtmlText(h));
  }
  s += "</tr></thead><tbody>";
  for (const auto& row : rows_) {
    s += "<tr>";
    size_t col = 0;
    for (const auto& c : row) {
      s += "<td";
      if (c.colspan > 1) {
        s += fmt::format(" colspan=\"{}\"", c.colspan);
      } else if (col < labels.size()) {
        s += " data-label=\"" + labels[col] + "\"";
      }
      if (!c.sort.empty()) s += " data-v=\"" + c.sort + "\"";
      if (!c.css_class.empty()) s += " class=\"" + c.css_class + "\"";
      s += ">" + c.html + "</td>";
      col += static_cast<size_t>(std::max(1, c.colspan));
    }
    s += "</tr>";
  }
  return s + "</tbody></table></div>";
}

}  // namespace avctl
