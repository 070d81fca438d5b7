// An online copy of a live SQLite database (the coordinator's record while
// avcoord runs), through SQLite's backup API: one read transaction copies
// every page, so the copy is the database as of one moment, and the writer
// goes on meanwhile (WAL). The copy is written beside its destination and
// renamed into place once complete and checked, so a failed backup leaves no
// half file under the destination's name.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace avctl {

struct BackupSummary {
  int64_t pages = 0;
  int64_t bytes = 0;
};

// Copies the database at `source` to `dest` (which must not exist), then runs
// PRAGMA integrity_check on the copy. Errors name the file at fault.
Result<BackupSummary> BackupDatabase(const std::string& source, const std::string& dest);

}  // namespace avctl
