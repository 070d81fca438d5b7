// `avctl sweep expand SPEC`: validates a sweep spec and prints its jobs.
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

// args excludes "avctl sweep".
int RunSweepCommand(const std::vector<std::string>& args, Context& ctx);

}  // namespace avctl::cli
