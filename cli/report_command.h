// `avctl report SWEEP --db FILE --out DIR`: the static HTML report of a
// sweep from the coordinator's record (web/).
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"

namespace avctl::cli {

int RunReportCommand(const std::vector<std::string>& args, Context& ctx);

// Loads, analyses, renders and writes the report; returns index.html's path.
Result<std::string> WriteSweepReport(const std::string& db_path, const std::string& sweep, const std::string& out_dir);

}  // namespace avctl::cli
