// `avctl data synth|import|info` and `avctl demo`.
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

// args excludes "avctl data".
int RunDataCommand(const std::vector<std::string>& args, Context& ctx);
// The end-to-end job on the embedded default (see README).
int RunDemoCommand(const std::vector<std::string>& args, Context& ctx);

}  // namespace avctl::cli
