// Shared by the record's source files only (db/record_*.cc): its prepared
// statement cache and the readers of what it stored. Not part of Record's
// interface.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "common/json_util.h"
#include "common/status.h"
#include "common/text.h"
#include "db/database.h"
#include "sweeps/job_resources.h"

namespace avctl {

// A cached prepared statement in use; reset when it goes out of scope, so no
// half-stepped statement keeps a read snapshot open.
class StatementRef {
 public:
  explicit StatementRef(Statement* s) : s_(s) {}
  StatementRef(StatementRef&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  StatementRef(const StatementRef&) = delete;
  StatementRef& operator=(const StatementRef&) = delete;
  StatementRef& operator=(StatementRef&&) = delete;
  ~StatementRef() {
    if (s_ != nullptr) s_->Reset();
  }
  Statement* operator->() const { return s_; }
  Statement& operator*() const { return *s_; }

 private:
  Statement* s_;
};

// Each SQL text prepared once per connection (a busy coordinator runs the
// same few statements thousands of times a second).
class StatementCache {
 public:
  explicit StatementCache(Database* db) : db_(db) {}
  Result<StatementRef> Get(const std::string& sql);

 private:
  Database* db_;  // not owned
  std::map<std::string, std::unique_ptr<Statement>> statements_;
};

// Text bound as NULL when empty (BindRow).
inline std::optional<std::string> NullIfEmpty(const std::string& s) {
  return s.empty() ? std::nullopt : std::optional<std::string>(s);
}

// JSON the record stored; text that is not JSON reads as a JSON string.
inline Json ParseStored(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? Json(text) : j;
}

// A job's resources as the record stored them (JobResourcesToJson): text
// that does not parse back is damage to the record, said as such with the
// job, not a job that needs nothing.
inline Result<JobResources> StoredResources(const std::string& text, int64_t job_id) {
  auto r = ParseJobResources(ParseStored(text), "resources");
  if (!r.ok()) {
    return Status::Corruption(fmt::format("jobs.resources of job {} does not parse back ({}): {}", job_id,
                                          SanitizeText(text, 80), r.status().message()))
        .WithField("jobs.resources");
  }
  return r;
}

}  // namespace avctl
