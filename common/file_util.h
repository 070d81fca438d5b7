// Small file helpers with Status results: whole-file read, atomic write
// (temporary file + fsync + rename), sibling temporary directories.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"

namespace avctl {

Result<std::string> ReadFileToString(const std::string& path);

// Writes `data` to a temporary file next to `path`, fsyncs it and renames it
// over `path`, so readers see either the old or the new content, never half.
// `durable` false skips both fsyncs: still never half a file, but what only
// the running process needs (a job's config while it runs) need not survive
// a machine crash, and an fsync can cost milliseconds.
enum class Durability { kDurable, kProcessLifetime };
Status WriteFileAtomic(const std::string& path, std::string_view data, Durability durability = Durability::kDurable);

// fsync of a directory, so that a rename inside it is durable.
Status SyncDirectory(const std::string& dir);

// Creates a new empty directory next to `path` named "<path>.tmp-XXXXXX".
Result<std::string> MakeSiblingTempDir(const std::string& path);

// The running executable's path (/proc/self/exe), "" if unknown; avctl and
// avworker find their sibling binaries with it.
std::string SelfExePath();

}  // namespace avctl
