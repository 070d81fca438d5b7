// A command job: one run of a researcher's own program (docs/JOBS.md). The
// job names an argv template, the program's parameters and their values,
// its environment, the folder it runs in and its time limit. Parsed from
// the job JSON the sweep expands to (errors name the JSON path; unknown keys
// are errors) and rendered into an argv for one attempt. Pure and
// torch-free: the sweep parser, the record and the worker all use it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/json_util.h"
#include "common/status.h"

namespace avctl {

// The version of the worker-program contract (docs/JOBS.md), given to the
// program in its config ("contract") and in AVCTL_CONTRACT.
inline constexpr int kJobContractVersion = 1;

struct CommandJob {
  std::string key;                          // the job's stable key
  uint64_t seed = 0;
  int partition = 1;
  std::vector<std::string> command;         // argv template (placeholders: CommandPlaceholders())
  Json params = Json::object();             // every declared parameter with this job's value
  std::map<std::string, std::string> env;   // added to the program's environment
  std::string workdir;                      // where it runs (on the worker); empty: its attempt folder
  double timeout_minutes = 0;               // 0: no limit
  std::vector<std::string> require_metrics;  // test metrics its result must carry (the sweep's comparisons)
  std::string checkpoint_dir;               // the sweep's checkpoint_dir (a shared file system); empty: the worker's
};

// {"command": [...], "params": {...}, "env": {...}, "workdir": ..., "timeout_minutes": ...,
//  "require_metrics": [...], "seed": ..., "partition": ..., "key": ..., "checkpoint_dir": ...}
Result<CommandJob> CommandJobFromJson(const Json& j, const std::string& source);
Json CommandJobToJson(const CommandJob& job);

// The placeholders an argv template may hold, for errors and docs:
// {config} {result} {progress} {checkpoint_dir} {output_dir} {seed}
// {partition} {attempt} {args} {param.NAME}; "{{" and "}}" are literal braces.
const std::vector<std::string>& CommandPlaceholders();

// Checks a template against the declared parameters: every placeholder is
// known, {param.NAME} names a declared parameter, {args} is a whole element.
// Errors name `path` with the element's index.
Status CheckCommandTemplate(const std::vector<std::string>& command, const Json& params, const std::string& path);

// The files and folders of one attempt that the template may name.
struct CommandPaths {
  std::string config, result, progress, checkpoint_dir, output_dir;
  int64_t attempt = 0;
};

// A parameter's value as a program's argument: strings as they are, numbers
// and booleans as JSON writes them (1e-05, true), anything else as compact JSON.
std::string ParamArgument(const Json& value);

// The argv of one attempt: placeholders replaced; {args} becomes one
// "--NAME=VALUE" element per parameter, in name order.
Result<std::vector<std::string>> RenderCommand(const CommandJob& job, const CommandPaths& paths);

}  // namespace avctl
