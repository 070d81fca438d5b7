// What a command job's end means (docs/JOBS.md, "Exit codes"): from how
// its program exited, what it left at AVCTL_RESULT and the last lines of its
// stderr, the outcome the worker reports. Pure: no processes, no files.
//
//   exit 0 and a valid result ........ done (the result is reported)
//   exit 0 without one, or torn ...... job failure naming the file and field
//   exit 3 ........................... preempted: requeued, not counted
//   exit 2 ........................... job failure, not retried (bad configuration)
//   anything else, or a signal ....... crash (retried), with the stderr tail
// Out-of-memory (the result says so, or stderr does) is a worker failure
// marked out_of_memory: another worker may have the memory.
#pragma once

#include <string>
#include <vector>

#include "common/job_result.h"
#include "common/protocol.h"
#include "common/status.h"

namespace avctl {

inline constexpr int kExitPreempted = 3;
inline constexpr int kExitBadConfig = 2;

struct ProgramEnd {
  int wait_status = 0;              // as waitpid gave it
  Result<JobResult> result = Status::NotFound("no result");  // NotFound: no file at AVCTL_RESULT
  std::string result_path;
  std::string stderr_tail;
  std::vector<std::string> require_metrics;  // the sweep compares these
  bool stop_requested = false;      // the worker sent SIGTERM to stop it (preemption)
  bool timed_out = false;           // stopped because its timeout_minutes passed
  double timeout_minutes = 0;
};

struct ProgramOutcome {
  bool done = false;                // a result to report
  JobResult result;                 // when done
  FailureKind kind = FailureKind::kCrash;
  std::string reason;
  bool out_of_memory = false;
};

ProgramOutcome ClassifyProgramEnd(const ProgramEnd& end);

// Whether stderr shows the device running out of memory (PyTorch's CUDA
// and CPU allocators, cuBLAS/cuDNN, the C++ std::bad_alloc).
bool StderrSaysOutOfMemory(const std::string& stderr_tail);

// The last `lines` lines of `text`, at most `max_chars`.
std::string LastLines(const std::string& text, int lines, size_t max_chars);

}  // namespace avctl
