// Where a record may live. SQLite's WAL mode needs shared memory and POSIX
// locks that network file systems do not give reliably (sqlite.org/wal.html,
// "WAL does not work over a network filesystem"): two hosts, or one host and
// a confused lock server, can corrupt the record. avcoord refuses to start on
// one, naming it.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"

namespace avctl {

// The name of the network file system with statfs() type `f_type` ("nfs",
// "lustre", "cifs", ...), or "" for any other (pure).
std::string NetworkFileSystemName(int64_t f_type);

// FailedPrecondition naming the file system when the folder of `db_path` is
// on a network file system; an IOError when it cannot be examined.
Status CheckRecordFileSystem(const std::string& db_path);

}  // namespace avctl
