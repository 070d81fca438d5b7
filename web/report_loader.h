// Reads a sweep's report data from the coordinator's SQLite record (read
// only; a running coordinator keeps writing meanwhile, WAL lets both be).
#pragma once

#include <string>

#include "common/status.h"
#include "db/database.h"
#include "web/report_data.h"

namespace avctl {

// `sweep` is an id or a name.
Result<ReportData> LoadReportData(Database* db, const std::string& sweep);

// "model.lambda=0.5,train.lr=0.001" -> {"model.lambda": 0.5, "train.lr": 0.001}; non-numeric values are skipped.
std::map<std::string, double> ParsePoint(const std::string& point);

}  // namespace avctl
