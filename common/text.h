// Small text helpers for the line-oriented files avctl reads (label CSVs,
// openSMILE CSVs): views into the caller's text, no copies.
#pragma once

#include <string_view>
#include <vector>

namespace avctl {

// Without leading spaces/tabs and trailing spaces/tabs/'\r'.
std::string_view Trim(std::string_view s);

// The pieces between `sep` characters ("a,,b" -> "a", "", "b").
std::vector<std::string_view> SplitOn(std::string_view s, char sep);

// Lines without their '\n' and a trailing '\r'; trailing blank lines dropped.
std::vector<std::string_view> SplitLines(std::string_view text);

}  // namespace avctl
