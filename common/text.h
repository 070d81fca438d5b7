// Small text helpers: splitting the line-oriented files avctl reads (label
// CSVs, openSMILE CSVs; views into the caller's text, no copies), and
// escaping what it writes (CSV fields, HTML/SVG text).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace avctl {

// Without leading spaces/tabs and trailing spaces/tabs/'\r'.
std::string_view Trim(std::string_view s);

// The pieces between `sep` characters ("a,,b" -> "a", "", "b").
std::vector<std::string_view> SplitOn(std::string_view s, char sep);

// Lines without their '\n' and a trailing '\r'; trailing blank lines dropped.
std::vector<std::string_view> SplitLines(std::string_view text);

// A CSV field: quoted (with doubled quotes) when it holds a comma, quote or newline.
std::string CsvField(std::string_view s);

// Escapes &, <, >, " and ' for HTML, SVG and XML text and attribute values.
std::string XmlEscape(std::string_view s);

}  // namespace avctl
