// JSON helpers over nlohmann::json with errors that name the JSON path at
// fault ("clips[3].actor: expected an integer, got \"x\"").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/status.h"

namespace avctl {

using Json = nlohmann::json;

// Parses text; a syntax error names the byte offset. `source` names the file.
Result<Json> ParseJson(std::string_view text, const std::string& source);
Result<Json> ReadJsonFile(const std::string& path);
// Pretty-printed (2 spaces), written atomically.
Status WriteJsonFileAtomic(const std::string& path, const Json& value);

// "a.b" + "c" -> "a.b.c"; "" + "c" -> "c"; "a" + 3 -> "a[3]".
std::string JoinJsonPath(const std::string& parent, const std::string& key);
std::string JoinJsonPath(const std::string& parent, size_t index);

// The text of a value for the wire, a reply or a file. Strings that are not
// valid UTF-8 (outside bytes quoted into an error message, say) have their bad
// bytes replaced by U+FFFD: nlohmann's own dump() throws on them.
std::string DumpJson(const Json& value, int indent = -1);

// A short rendering of a value for error messages (type and a clipped dump).
std::string DescribeJson(const Json& value);

// Field getters for objects. `path` is the JSON path of `obj` (for errors).
// Errors are InvalidArgument with field() = the full path of the key.
Result<const Json*> GetMember(const Json& obj, const std::string& key, const std::string& path);
Result<std::string> GetString(const Json& obj, const std::string& key, const std::string& path);
Result<int64_t> GetInt(const Json& obj, const std::string& key, const std::string& path);
Result<double> GetNumber(const Json& obj, const std::string& key, const std::string& path);
Result<bool> GetBool(const Json& obj, const std::string& key, const std::string& path);
// Optional members: `fallback` when absent (or null), an error naming the
// field when present with another type.
Result<std::string> GetStringOr(const Json& obj, const std::string& key, const std::string& path,
                                std::string fallback);
Result<int64_t> GetIntOr(const Json& obj, const std::string& key, const std::string& path, int64_t fallback);
// A number as JSON, with the values JSON cannot hold as the strings "inf",
// "-inf" and "nan"; and its reader (a number, or one of those strings;
// errors name the field).
Json NumberOrNonFinite(double v);
Result<double> GetNumberOrNonFinite(const Json& obj, const std::string& key, const std::string& path);
// Arrays of numbers of an exact length (length < 0: any).
Result<std::vector<double>> GetNumberArray(const Json& obj, const std::string& key, const std::string& path,
                                           int64_t length = -1);

}  // namespace avctl
