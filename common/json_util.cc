#include "common/json_util.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "common/file_util.h"

namespace avctl {

Result<Json> ParseJson(std::string_view text, const std::string& source) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {  // nlohmann reports the byte offset only through its exception
    return Status::InvalidArgument(fmt::format("invalid JSON at byte {}: {}", e.byte, e.what())).WithFile(source);
  } catch (const Json::out_of_range& e) {
    // A number too large for a double ("1e999"): found by fuzzing, it escaped
    // as an exception and would have ended the coordinator.
    return Status::InvalidArgument(fmt::format("invalid JSON: {}", e.what())).WithFile(source);
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  return ParseJson(text, path);
}

Status WriteJsonFileAtomic(const std::string& path, const Json& value) {
  return WriteFileAtomic(path, DumpJson(value, 2) + "\n");
}

std::string DumpJson(const Json& value, int indent) {
  return value.dump(indent, ' ', false, Json::error_handler_t::replace);
}

std::string JoinJsonPath(const std::string& parent, const std::string& key) {
  return parent.empty() ? key : parent + "." + key;
}

std::string JoinJsonPath(const std::string& parent, size_t index) { return fmt::format("{}[{}]", parent, index); }

std::string DescribeJson(const Json& value) {
  std::string dump = DumpJson(value);
  if (dump.size() > 60) dump = dump.substr(0, 57) + "...";
  if (value.is_string()) return dump;
  return fmt::format("{} {}", value.type_name(), dump);
}

namespace {

Status Expected(const std::string& path, const char* what, const Json& got) {
  return Status::InvalidArgument(fmt::format("{}: expected {}, got {}", path, what, DescribeJson(got))).WithField(path);
}

}  // namespace

Result<const Json*> GetMember(const Json& obj, const std::string& key, const std::string& path) {
  std::string full = JoinJsonPath(path, key);
  if (!obj.is_object()) return Expected(path.empty() ? "(top level)" : path, "an object", obj);
  auto it = obj.find(key);
  if (it == obj.end()) return Status::InvalidArgument(fmt::format("{}: missing", full)).WithField(full);
  return &*it;
}

Result<std::string> GetString(const Json& obj, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(const Json* v, GetMember(obj, key, path));
  if (!v->is_string()) return Expected(JoinJsonPath(path, key), "a string", *v);
  return v->get<std::string>();
}

Result<int64_t> GetInt(const Json& obj, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(const Json* v, GetMember(obj, key, path));
  if (!v->is_number_integer()) return Expected(JoinJsonPath(path, key), "an integer", *v);
  if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    return Expected(JoinJsonPath(path, key), "an integer below 2^63", *v);
  }
  return v->get<int64_t>();
}

Result<double> GetNumber(const Json& obj, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(const Json* v, GetMember(obj, key, path));
  if (!v->is_number()) return Expected(JoinJsonPath(path, key), "a number", *v);
  return v->get<double>();
}

Result<bool> GetBool(const Json& obj, const std::string& key, const std::string& path) {
  AVCTL_ASSIGN_OR_RETURN(const Json* v, GetMember(obj, key, path));
  if (!v->is_boolean()) return Expected(JoinJsonPath(path, key), "a boolean", *v);
  return v->get<bool>();
}

Result<std::string> GetStringOr(const Json& obj, const std::string& key, const std::string& path,
                                std::string fallback) {
  if (!obj.is_object()) return Expected(path.empty() ? "(top level)" : path, "an object", obj);
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return GetString(obj, key, path);
}

Result<int64_t> GetIntOr(const Json& obj, const std::string& key, const std::string& path, int64_t fallback) {
  if (!obj.is_object()) return Expected(path.empty() ? "(top level)" : path, "an object", obj);
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return fallback;
  return GetInt(obj, key, path);
}

Result<std::vector<double>> GetNumberArray(const Json& obj, const std::string& key, const std::string& path,
                                           int64_t length) {
  AVCTL_ASSIGN_OR_RETURN(const Json* v, GetMember(obj, key, path));
  std::string full = JoinJsonPath(path, key);
  if (!v->is_array()) return Expected(full, "an array", *v);
  if (length >= 0 && static_cast<int64_t>(v->size()) != length) {
    return Status::InvalidArgument(fmt::format("{}: expected {} numbers, got {}", full, length, v->size()))
        .WithField(full);
  }
  std::vector<double> out;
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const Json& e = (*v)[i];
    if (!e.is_number()) return Expected(JoinJsonPath(full, i), "a number", e);
    out.push_back(e.get<double>());
  }
  return out;
}

Json NumberOrNonFinite(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  return v;
}

Result<double> GetNumberOrNonFinite(const Json& obj, const std::string& key, const std::string& path) {
  auto it = obj.find(key);
  if (it != obj.end() && it->is_string()) {
    const std::string& s = it->get_ref<const std::string&>();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    const std::string field = JoinJsonPath(path, key);
    return Status::InvalidArgument(fmt::format("{}: expected a number, \"inf\" or \"-inf\", got \"{}\"", field, s))
        .WithField(field);
  }
  return GetNumber(obj, key, path);
}

}  // namespace avctl
