#include "common/progress_event.h"

#include <cmath>

#include <fmt/format.h>

namespace avctl {

std::optional<double> ProgressEvent::Value(const std::string& name) const {
  auto it = values.find(name);
  if (it == values.end()) return std::nullopt;
  return it->second;
}

namespace {

Result<ProgressCheckpoint> ReadCheckpoint(const Json& j, const std::string& path) {
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("{}: expected an object, got {}", path, DescribeJson(j))).WithField(path);
  }
  ProgressCheckpoint c;
  AVCTL_ASSIGN_OR_RETURN(c.path, GetString(j, "path", path));
  AVCTL_ASSIGN_OR_RETURN(c.epochs, GetInt(j, "epochs", path));
  AVCTL_ASSIGN_OR_RETURN(c.batches, GetInt(j, "batches", path));
  AVCTL_ASSIGN_OR_RETURN(c.attempt_id, GetIntOr(j, "attempt_id", path, 0));
  AVCTL_ASSIGN_OR_RETURN(c.bytes, GetIntOr(j, "bytes", path, 0));
  if (j.contains("seconds")) {
    AVCTL_ASSIGN_OR_RETURN(c.seconds, GetNumber(j, "seconds", path));
  }
  return c;
}

Json CheckpointToJson(const ProgressCheckpoint& c, bool resumed) {
  Json j = {{"path", c.path}, {"epochs", c.epochs}, {"batches", c.batches}};
  if (resumed) {
    j["attempt_id"] = c.attempt_id;
  } else {
    j["bytes"] = c.bytes;
    j["seconds"] = c.seconds;
  }
  return j;
}

}  // namespace

Result<ProgressEvent> ParseProgress(const Json& j, const std::string& where) {
  if (!j.is_object()) {
    return Status::InvalidArgument(fmt::format("{}: expected a JSON object, got {}", where, DescribeJson(j)))
        .WithField(where);
  }
  ProgressEvent e;
  AVCTL_ASSIGN_OR_RETURN(e.epoch, GetInt(j, "epoch", where));
  if (e.epoch < 0) return Status::InvalidArgument(where + ".epoch: must not be negative").WithField(where + ".epoch");
  AVCTL_ASSIGN_OR_RETURN(e.epochs, GetIntOr(j, "epochs", where, 0));
  for (const auto& [name, v] : j.items()) {
    const std::string field = JoinJsonPath(where, name);
    if (name == "epoch" || name == "epochs" || name == "attempt_id") continue;
    if (name == "checkpoint") {
      AVCTL_ASSIGN_OR_RETURN(e.checkpoint, ReadCheckpoint(v, field));
    } else if (name == "resumed") {
      AVCTL_ASSIGN_OR_RETURN(e.resumed, ReadCheckpoint(v, field));
    } else if (v.is_number() && std::isfinite(v.get<double>())) {
      e.values[name] = v.get<double>();
    } else if (v.is_null() || (v.is_number() && !std::isfinite(v.get<double>()))) {
      continue;  // a value not measured this epoch (a NaN loss is written as null by JSON)
    } else {
      return Status::InvalidArgument(fmt::format("{}: expected a number, got {}", field, DescribeJson(v)))
          .WithField(field);
    }
  }
  return e;
}

Json ProgressToJson(const ProgressEvent& e) {
  Json j = Json::object();
  for (const auto& [k, v] : e.values) j[k] = v;
  j["epoch"] = e.epoch;
  if (e.epochs > 0) j["epochs"] = e.epochs;
  if (e.checkpoint) j["checkpoint"] = CheckpointToJson(*e.checkpoint, false);
  if (e.resumed) j["resumed"] = CheckpointToJson(*e.resumed, true);
  return j;
}

}  // namespace avctl
