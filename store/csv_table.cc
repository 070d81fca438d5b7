#include "store/csv_table.h"

#include <fmt/format.h>

#include "common/text.h"

namespace avctl {

Result<CsvTable> CsvTable::Parse(std::string_view text, const std::string& source) {
  CsvTable t;
  t.source_ = source;
  if (text.size() >= 3 && text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<std::string_view> lines;
  for (std::string_view line : SplitOn(text, '\n')) {
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
  }
  while (!lines.empty() && Trim(lines.back()).empty()) lines.pop_back();
  if (lines.empty()) return Status::InvalidArgument("empty file: expected a header row").WithFile(source);
  for (std::string_view h : SplitOn(lines[0], ',')) {
    std::string name(Trim(h));
    for (const auto& seen : t.header_) {
      if (seen == name) {
        return Status::InvalidArgument(fmt::format("column '{}' named twice", name)).WithFile(source).WithLine(1).WithField(name);
      }
    }
    t.header_.push_back(std::move(name));
  }
  for (size_t n = 1; n < lines.size(); ++n) {
    if (Trim(lines[n]).empty()) {
      return Status::InvalidArgument("blank line inside the table").WithFile(source).WithLine(static_cast<int64_t>(n) + 1);
    }
    std::vector<std::string_view> cells = SplitOn(lines[n], ',');
    if (cells.size() != t.header_.size()) {
      return Status::InvalidArgument(fmt::format("{} cells for {} columns (quoted fields are not read)", cells.size(),
                                                 t.header_.size()))
          .WithFile(source).WithLine(static_cast<int64_t>(n) + 1);
    }
    std::vector<std::string> row;
    row.reserve(cells.size());
    for (auto c : cells) row.emplace_back(Trim(c));
    t.rows_.push_back(std::move(row));
  }
  return t;
}

std::optional<size_t> CsvTable::Find(const std::string& name) const {
  for (size_t i = 0; i < header_.size(); ++i)
    if (header_[i] == name) return i;
  return std::nullopt;
}

Result<size_t> CsvTable::Require(const std::string& name, const std::string& option) const {
  if (auto i = Find(name)) return *i;
  std::string have;
  for (const auto& h : header_) have += (have.empty() ? "" : ", ") + h;
  return Status::InvalidArgument(fmt::format("no column '{}' ({}) in the header; the columns are: {}", name, option, have))
      .WithFile(source_).WithLine(1).WithField(option);
}

}  // namespace avctl
