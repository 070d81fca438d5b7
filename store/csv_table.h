// A small CSV table as label files are written: a header row, comma-
// separated cells, no quoted fields (a quoted comma would split a cell, so
// a row with the wrong cell count is refused naming its line). A UTF-8 BOM
// and CR line ends are accepted; trailing blank lines are ignored, blank
// lines inside the table are refused.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace avctl {

class CsvTable {
 public:
  // Errors name `source` and the line.
  static Result<CsvTable> Parse(std::string_view text, const std::string& source);

  const std::string& source() const { return source_; }
  const std::vector<std::string>& header() const { return header_; }
  size_t rows() const { return rows_.size(); }
  // The row's cell in column `col`, trimmed.
  const std::string& cell(size_t row, size_t col) const { return rows_[row][col]; }
  int64_t line(size_t row) const { return static_cast<int64_t>(row) + 2; }  // 1-based file line
  std::optional<size_t> Find(const std::string& name) const;
  // The column `name`; an error naming the column, the option that named it
  // and the columns there are.
  Result<size_t> Require(const std::string& name, const std::string& option) const;

 private:
  std::string source_;
  std::vector<std::string> header_;
  std::vector<std::vector<std::string>> rows_;
};

}  // namespace avctl
