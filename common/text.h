// Small text helpers: splitting the line-oriented files avctl reads (label
// CSVs, openSMILE CSVs; views into the caller's text, no copies), and
// escaping what it writes (CSV fields, HTML/SVG text).
#pragma once

#include <cstdint>
#include <optional>
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

// Decimal digits (an optional leading '-') as an int64; nullopt for anything
// else: empty, signs or spaces elsewhere, or a value out of int64's range.
std::optional<int64_t> ParseInt64(std::string_view s);

// Text from outside (a request target, a routing id) made safe to quote in
// JSON and logs: bytes that are not valid UTF-8 become U+FFFD, control
// characters '?', and it is clipped to `max_bytes` (with "..." after).
std::string SanitizeText(std::string_view s, size_t max_bytes = 200);

}  // namespace avctl
