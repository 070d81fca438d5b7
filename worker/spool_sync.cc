#include "worker/spool_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>

#include "common/file_util.h"

namespace avctl {

void SpoolSyncQueue::Written(int64_t attempt, Clock::time_point now) { due_[attempt] = now + delay_; }

void SpoolSyncQueue::Forget(int64_t attempt) { due_.erase(attempt); }

std::vector<int64_t> SpoolSyncQueue::TakeDue(Clock::time_point now) {
  std::vector<std::pair<Clock::time_point, int64_t>> due;
  for (auto it = due_.begin(); it != due_.end();) {
    if (it->second <= now) {
      due.emplace_back(it->second, it->first);
      it = due_.erase(it);
    } else {
      ++it;
    }
  }
  std::sort(due.begin(), due.end());
  std::vector<int64_t> out;
  out.reserve(due.size());
  for (const auto& d : due) out.push_back(d.second);
  return out;
}

std::optional<SpoolSyncQueue::Clock::time_point> SpoolSyncQueue::NextDue() const {
  std::optional<Clock::time_point> next;
  for (const auto& [attempt, at] : due_) {
    if (!next || at < *next) next = at;
  }
  return next;
}

Status SyncSpooledFile(const std::string& dir, const std::string& file) {
  const std::string path = dir + "/" + file;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    const int rc = ::fsync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Status::FromErrno("fsync failed", err).WithFile(path);
  } else if (errno != ENOENT) {
    return Status::FromErrno("cannot open", errno).WithFile(path);
  }
  AVCTL_RETURN_IF_ERROR(SyncDirectory(dir));
  const std::string parent = std::filesystem::path(dir).parent_path().string();
  return SyncDirectory(parent.empty() ? "." : parent);
}

}  // namespace avctl
