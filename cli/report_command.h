// `avctl report SWEEP --db FILE --out DIR`: the static HTML report of a
// sweep from the coordinator's record (web/).
#pragma once

#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "web/report_data.h"

namespace avctl::cli {

int RunReportCommand(const std::vector<std::string>& args, Context& ctx);

// A sweep's report data from the record at db_path, opened read-only
// (NotFound naming the file when there is no record).
Result<ReportData> LoadSweepFromRecord(const std::string& db_path, const std::string& sweep);

// Loads, analyses, renders and writes the report; returns index.html's path.
Result<std::string> WriteSweepReport(const std::string& db_path, const std::string& sweep, const std::string& out_dir);

}  // namespace avctl::cli
