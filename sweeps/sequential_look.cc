#include "sweeps/sequential_look.h"

#include <fmt/format.h>

namespace avctl {

Json SequentialLookToJson(const SequentialLook& look) {
  Json tests = Json::array();
  for (const LookTest& t : look.tests) {
    tests.push_back({{"kind", t.kind}, {"variant", t.variant}, {"baseline", t.baseline}, {"metric", t.metric},
                     {"direction", t.direction}, {"pairs", t.pairs}, {"p", NumberOrNonFinite(t.p)},
                     {"t", NumberOrNonFinite(t.t)}, {"tested", t.tested}, {"decision", t.decision},
                     {"decided_look", t.decided_look}, {"level", t.level}, {"bound_p", t.bound_p}});
  }
  return {{"look", look.look}, {"planned_pairs", look.planned_pairs}, {"tests", tests}};
}

Result<SequentialLook> ParseSequentialLook(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("{}: expected an object, got {}", path, DescribeJson(j))).WithField(path);
  }
  SequentialLook look;
  AVCTL_ASSIGN_OR_RETURN(int64_t k, GetInt(j, "look", path));
  AVCTL_ASSIGN_OR_RETURN(int64_t planned, GetInt(j, "planned_pairs", path));
  look.look = static_cast<int>(k);
  look.planned_pairs = static_cast<int>(planned);
  AVCTL_ASSIGN_OR_RETURN(const Json* tests, GetMember(j, "tests", path));
  const std::string tests_path = JoinJsonPath(path, "tests");
  if (!tests->is_array()) {
    return Status::InvalidArgument(fmt::format("{}: expected a list", tests_path)).WithField(tests_path);
  }
  for (size_t i = 0; i < tests->size(); ++i) {
    const Json& e = (*tests)[i];
    const std::string p = JoinJsonPath(tests_path, i);
    if (!e.is_object()) {
      return Status::InvalidArgument(fmt::format("{}: expected an object, got {}", p, DescribeJson(e))).WithField(p);
    }
    LookTest t;
    AVCTL_ASSIGN_OR_RETURN(t.kind, GetString(e, "kind", p));
    AVCTL_ASSIGN_OR_RETURN(t.variant, GetString(e, "variant", p));
    AVCTL_ASSIGN_OR_RETURN(t.baseline, GetString(e, "baseline", p));
    AVCTL_ASSIGN_OR_RETURN(t.metric, GetString(e, "metric", p));
    AVCTL_ASSIGN_OR_RETURN(t.direction, GetString(e, "direction", p));
    AVCTL_ASSIGN_OR_RETURN(int64_t pairs, GetInt(e, "pairs", p));
    t.pairs = static_cast<int>(pairs);
    AVCTL_ASSIGN_OR_RETURN(t.p, GetNumberOrNonFinite(e, "p", p));
    AVCTL_ASSIGN_OR_RETURN(t.t, GetNumberOrNonFinite(e, "t", p));
    AVCTL_ASSIGN_OR_RETURN(t.tested, GetBool(e, "tested", p));
    AVCTL_ASSIGN_OR_RETURN(t.decision, GetString(e, "decision", p));
    AVCTL_ASSIGN_OR_RETURN(int64_t decided, GetInt(e, "decided_look", p));
    t.decided_look = static_cast<int>(decided);
    AVCTL_ASSIGN_OR_RETURN(t.level, GetNumber(e, "level", p));
    AVCTL_ASSIGN_OR_RETURN(t.bound_p, GetNumber(e, "bound_p", p));
    look.tests.push_back(std::move(t));
  }
  return look;
}

}  // namespace avctl
