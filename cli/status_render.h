// Text renderings of the coordinator's read models for avctl (pure).
#pragma once

#include <string>
#include <vector>

#include "common/json_util.h"
#include "sweeps/result_rows.h"

namespace avctl::cli {

// "[#########.........] 12/30 done ..." with per-variant counts and the ETA.
// A group-sequential sweep's status also counts held and not-needed jobs
// and shows its looks (RenderSequential).
std::string RenderSweepStatus(const Json& status);
// The looks analysed of a group-sequential sweep and each comparison's state
// after the last ("big vs base (macro_f1): efficacy at look 2; ..."); "" for
// another sweep.
std::string RenderSequential(const Json& status);
// The lines on the status's queued jobs that no connected worker can ever
// run ("waiting: 20 queued job(s) that no connected worker can run: ..."), "" if none.
std::string RenderUnrunnable(const Json& status);
std::string RenderSweepList(const Json& sweeps);
// A warning line when a reply's "record" says it cannot be written (the
// coordinator runs degraded: no dispatch, results held by the workers); "" otherwise.
std::string RenderRecordHealth(const Json& reply);
std::string RenderWorkers(const Json& workers);
std::string RenderJobs(const Json& jobs);
// One row per result: key, variant, point, seed, partition, worker, seconds, then every metric (sorted names).
std::string ResultsToCsv(const std::vector<ResultRow>& results);
// Mean and sample standard deviation of `metric` over each variant's results.
std::string RenderResultSummary(const std::vector<ResultRow>& results, const std::string& metric);
std::string FormatDuration(double seconds);

}  // namespace avctl::cli
