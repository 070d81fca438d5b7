#include "common/label_provenance.h"

#include <fmt/format.h>

namespace avctl {

namespace {

template <typename Value>
std::string Listed(const std::map<std::string, Value>& m, const char* sep) {
  if (m.empty()) return "none";
  std::string out;
  for (const auto& [key, value] : m) out += fmt::format("{}{}{}{}", out.empty() ? "" : ", ", key, sep, value);
  return out;
}

// An optional object member whose values all have one type, read by `get`
// (GetString, GetInt); errors name the member's key.
template <typename Value>
Result<std::map<std::string, Value>> MemberMap(const Json& j, const std::string& key, const std::string& path,
                                               Result<Value> (*get)(const Json&, const std::string&, const std::string&)) {
  std::map<std::string, Value> out;
  if (!j.contains(key) || j[key].is_null()) return out;
  const std::string full = JoinJsonPath(path, key);
  if (!j[key].is_object()) return Status::InvalidArgument("expected an object, got " + DescribeJson(j[key])).WithField(full);
  for (const auto& [k, v] : j[key].items()) {
    AVCTL_ASSIGN_OR_RETURN(out[k], get(j[key], k, full));
  }
  return out;
}

}  // namespace

Json LabelProvenanceToJson(const LabelProvenance& p) {
  Json j = {{"format", p.format},       {"columns", p.columns},
            {"merged", p.merged},       {"dropped", p.dropped},
            {"excluded_splits", p.excluded_splits}, {"soft_labels", p.soft_labels}};
  if (!p.test_split.empty()) j["test_split"] = p.test_split;  // absent from stores of one test set
  return j;
}

Result<LabelProvenance> LabelProvenanceFromJson(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return Status::InvalidArgument("expected an object, got " + DescribeJson(j)).WithField(path);
  }
  LabelProvenance p;
  AVCTL_ASSIGN_OR_RETURN(p.format, GetString(j, "format", path));
  AVCTL_ASSIGN_OR_RETURN(p.columns, MemberMap(j, "columns", path, &GetString));
  AVCTL_ASSIGN_OR_RETURN(p.merged, MemberMap(j, "merged", path, &GetString));
  AVCTL_ASSIGN_OR_RETURN(p.dropped, MemberMap(j, "dropped", path, &GetInt));
  AVCTL_ASSIGN_OR_RETURN(p.excluded_splits, MemberMap(j, "excluded_splits", path, &GetInt));
  AVCTL_ASSIGN_OR_RETURN(p.soft_labels, GetStringOr(j, "soft_labels", path, "one-hot"));
  AVCTL_ASSIGN_OR_RETURN(p.test_split, GetStringOr(j, "test_split", path, ""));
  return p;
}

std::string DescribeLabelProvenance(const LabelProvenance& p) {
  return fmt::format("{} file{}; dropped labels: {}; left-out splits: {}; merged: {}", p.format,
                     p.test_split.empty() ? "" : ", " + p.test_split + " as Test", Listed(p.dropped, " "),
                     Listed(p.excluded_splits, " "), Listed(p.merged, "="));
}

}  // namespace avctl
