// `avctl workers`, `avctl jobs SWEEP`, `avctl results SWEEP`: read commands
// against a running coordinator.
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

int RunWorkersCommand(const std::vector<std::string>& args, Context& ctx);
int RunJobsCommand(const std::vector<std::string>& args, Context& ctx);
int RunResultsCommand(const std::vector<std::string>& args, Context& ctx);

}  // namespace avctl::cli
