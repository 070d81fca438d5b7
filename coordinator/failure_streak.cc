#include "coordinator/failure_streak.h"

#include <fmt/format.h>

namespace avctl {

bool FailureStreak::OnFailure(int64_t job_id, const std::string& reason) {
  ++failures_;
  jobs_.insert(job_id);
  last_reason_ = reason;
  return static_cast<int>(jobs_.size()) >= opt_.distinct_jobs;
}

void FailureStreak::OnSuccess() {
  failures_ = 0;
  jobs_.clear();
  last_reason_.clear();
}

std::string FailureStreak::Why() const {
  return fmt::format("{} attempts of {} different jobs failed here in a row; last: {}", failures_, jobs_.size(),
                     last_reason_);
}

}  // namespace avctl
