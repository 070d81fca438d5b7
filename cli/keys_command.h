// avctl keys: CURVE key pairs for the authenticated fleet (docs/PROTOCOL.md,
// "Authentication").
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

// avctl keys gen NAME: writes NAME.key (mode 0600) and NAME.pub, prints the
// public key and its allowlist line.
int RunKeysCommand(const std::vector<std::string>& args, Context& ctx);

}  // namespace avctl::cli
