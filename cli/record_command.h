// `avctl record backup --db RECORD OUT`: an online copy of the coordinator's
// record, taken on its host while avcoord runs (db/backup.h). Restoring is
// stopping avcoord and putting the copy in the record's place (README,
// "Backing up the record").
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

int RunRecordCommand(const std::vector<std::string>& args, Context& ctx);

}  // namespace avctl::cli
