// Makes a sweep's report data of what the record holds for it (db/record.h:
// the queries live there; this turns rows into ReportData). A record opened
// read only works while a coordinator keeps writing (WAL).
#pragma once

#include <string>

#include "common/status.h"
#include "db/record.h"
#include "web/report_data.h"

namespace avctl {

// `sweep` is an id or a name.
Result<ReportData> LoadReportData(Record* record, const std::string& sweep);

// "model.lambda=0.5,train.lr=0.001" -> {"model.lambda": 0.5, "train.lr": 0.001}; non-numeric values are skipped.
std::map<std::string, double> ParsePoint(const std::string& point);

// Whether a parameter space (a spec's variants[].space value) is plotted on
// a log axis: {"log_uniform": [lo, hi]} always; a grid when its values are
// positive, span at least a factor 10 and are spaced more evenly in log
// than in linear terms ([0.1, 0.3, 1, 3] yes, [0.1, 0.3, 0.5] no).
bool LogScaledSpace(const Json& space);

}  // namespace avctl
