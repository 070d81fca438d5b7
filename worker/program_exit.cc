#include "worker/program_exit.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <fmt/format.h>

namespace avctl {

std::string LastLines(const std::string& text, int lines, size_t max_chars) {
  size_t end = text.size();
  while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r')) --end;
  size_t start = end;
  int n = 0;
  while (start > 0) {
    const size_t nl = text.rfind('\n', start - 1);
    if (nl == std::string::npos) {
      start = 0;
      break;
    }
    if (++n == lines) {
      start = nl + 1;
      break;
    }
    start = nl;
  }
  std::string s = text.substr(start, end - start);
  if (s.size() > max_chars) s = "..." + s.substr(s.size() - max_chars);
  return s;
}

bool StderrSaysOutOfMemory(const std::string& tail) {
  for (const char* marker : {"CUDA out of memory", "OutOfMemoryError", "CUBLAS_STATUS_ALLOC_FAILED",
                             "CUDNN_STATUS_ALLOC_FAILED", "cudaErrorMemoryAllocation", "std::bad_alloc",
                             "DefaultCPUAllocator: can't allocate memory", "MemoryError"}) {
    if (tail.find(marker) != std::string::npos) return true;
  }
  return false;
}

namespace {

std::string WithTail(std::string reason, const std::string& tail) {
  const std::string last = LastLines(tail, 12, 1500);
  if (!last.empty()) reason += "; last lines of stderr:\n" + last;
  return reason;
}

std::string HowItEnded(int status) {
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    return fmt::format("was killed by signal {} ({}){}", sig, strsignal(sig),
                       sig == SIGKILL ? ", often the kernel's out-of-memory killer" : "");
  }
  return fmt::format("exited with code {}", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

ProgramOutcome Fail(FailureKind kind, std::string reason) {
  ProgramOutcome o;
  o.kind = kind;
  o.reason = std::move(reason);
  return o;
}

}  // namespace

ProgramOutcome ClassifyProgramEnd(const ProgramEnd& e) {
  const bool exited = WIFEXITED(e.wait_status);
  const int code = exited ? WEXITSTATUS(e.wait_status) : -1;
  const bool has_result = e.result.ok();
  const bool missing = !has_result && e.result.status().code() == StatusCode::kNotFound;
  // A result saying "failed" or "preempted" is the program's own account: it wins over the exit code.
  if (has_result && e.result->status == ResultStatus::kPreempted) {
    return Fail(FailureKind::kPreempted, e.result->reason.empty() ? "the program stopped on request" : e.result->reason);
  }
  if (has_result && e.result->status == ResultStatus::kFailed) {
    ProgramOutcome o = Fail(e.result->failure_kind, e.result->reason.empty() ? "the program reported a failure "
                                                                               "without a reason"
                                                                             : e.result->reason);
    o.out_of_memory = e.result->out_of_memory || StderrSaysOutOfMemory(e.stderr_tail);
    if (o.out_of_memory && o.kind != FailureKind::kPreempted) o.kind = FailureKind::kWorker;
    return o;
  }
  if (exited && code == 0) {
    if (missing) {
      return Fail(FailureKind::kJob, WithTail(fmt::format("the program exited with code 0 but wrote no result to {} "
                                                          "(AVCTL_RESULT; docs/JOBS.md)", e.result_path),
                                              e.stderr_tail));
    }
    if (!has_result) {
      return Fail(FailureKind::kJob, fmt::format("the program exited with code 0 but its result is unusable: {}",
                                                 e.result.status().ToString()));
    }
    for (const std::string& m : e.require_metrics) {
      if (!e.result->test.Metric(m)) {
        return Fail(FailureKind::kJob, fmt::format("{}: result.test.metrics.{}: missing (the sweep compares {}; "
                                                   "docs/JOBS.md)", e.result_path, m, m));
      }
    }
    ProgramOutcome o;
    o.done = true;
    o.result = *e.result;
    return o;
  }
  if (e.timed_out) {
    return Fail(FailureKind::kCrash, WithTail(fmt::format("the program ran past its timeout of {} minute(s) and was "
                                                          "stopped (it {})", e.timeout_minutes, HowItEnded(e.wait_status)),
                                              e.stderr_tail));
  }
  if (exited && code == kExitPreempted) {
    return Fail(FailureKind::kPreempted, "the program exited with code 3: preempted, it resumes from its checkpoint");
  }
  if (e.stop_requested && (code == kExitPreempted || WIFSIGNALED(e.wait_status))) {
    return Fail(FailureKind::kPreempted, fmt::format("stopped on request: the program {}; it resumes from its last "
                                                     "checkpoint", HowItEnded(e.wait_status)));
  }
  if (StderrSaysOutOfMemory(e.stderr_tail)) {
    ProgramOutcome o = Fail(FailureKind::kWorker, WithTail(fmt::format("the program ran out of memory (it {})",
                                                                       HowItEnded(e.wait_status)),
                                                           e.stderr_tail));
    o.out_of_memory = true;
    return o;
  }
  if (exited && code == kExitBadConfig) {
    return Fail(FailureKind::kJob, WithTail("the program exited with code 2: a bad configuration, not retried",
                                            e.stderr_tail));
  }
  return Fail(FailureKind::kCrash, WithTail("the program " + HowItEnded(e.wait_status), e.stderr_tail));
}

}  // namespace avctl
