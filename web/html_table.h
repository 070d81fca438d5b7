// One table of the static report, built from cells rather than spliced
// markup: a header row and body rows. Every cell carries its column's
// header as data-label, which the report's narrow-screen stylesheet shows in
// front of the value when rows are stacked (phones), so a stacked table stays
// readable without its header. Pure.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace avctl {

struct HtmlCell {
  HtmlCell(std::string html_, std::string css_class_ = "", int colspan_ = 1)  // NOLINT: implicit from markup
      : html(std::move(html_)), css_class(std::move(css_class_)), colspan(colspan_) {}
  HtmlCell(const char* html_) : html(html_) {}  // NOLINT
  std::string html;       // already escaped
  std::string sort;       // data-v for the click-to-sort script; "" = sort by text
  std::string css_class;  // "", "wrap" (long text that may wrap), "fail", ...
  int colspan = 1;
};

// A number cell: shown as `html`, sorted by `value`.
HtmlCell NumberCell(double value, std::string html);

class HtmlTable {
 public:
  // Header cells as HTML (escaped by the caller); classes of the <table>.
  explicit HtmlTable(std::vector<std::string> headers, std::string classes = "");
  void AddRow(std::vector<HtmlCell> cells);
  size_t rows() const { return rows_.size(); }
  // <div class="scroll"><table ...>...</table></div>
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::string classes_;
  std::vector<std::vector<HtmlCell>> rows_;
};

// The text of an HTML fragment: tags dropped, entities kept (for attributes).
std::string HtmlText(const std::string& html);

}  // namespace avctl
