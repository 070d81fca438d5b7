#include "db/record_file_system.h"

#include <sys/vfs.h>

#include <cerrno>
#include <filesystem>

#include <fmt/format.h>

namespace avctl {

std::string NetworkFileSystemName(int64_t f_type) {
  switch (static_cast<uint32_t>(f_type)) {  // the magic numbers of statfs(2) and their kernels' headers
    case 0x6969: return "nfs";
    case 0x0BD00BD0: return "lustre";
    case 0xFF534D42: return "cifs";
    case 0xFE534D42: return "smb2";
    case 0x517B: return "smb";
    case 0x00C36400: return "ceph";
    case 0x47504653: return "gpfs";
    case 0x5346414F: return "afs";
    case 0x01021997: return "9p";
    case 0x19830326: return "beegfs";
    default: return "";
  }
}

Status CheckRecordFileSystem(const std::string& db_path) {
  std::filesystem::path folder = std::filesystem::path(db_path).parent_path();
  if (folder.empty()) folder = ".";
  struct statfs fs {};
  if (::statfs(folder.c_str(), &fs) != 0) {
    if (errno == ENOENT) return Status::OK();  // opening the record says the folder is missing
    return Status::FromErrno("cannot examine the record's file system", errno).WithFile(folder.string());
  }
  const std::string name = NetworkFileSystemName(static_cast<int64_t>(fs.f_type));
  if (name.empty()) return Status::OK();
  return Status::FailedPrecondition(
             fmt::format("the record's folder is on a network file system ({}), where SQLite's write-ahead log is "
                         "not safe (its shared memory and locks do not work across the network): put --db on a "
                         "local disk of the coordinator's host",
                         name))
      .WithFile(db_path);
}

}  // namespace avctl
