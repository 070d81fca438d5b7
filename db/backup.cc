#include "db/backup.h"

#include <sqlite3.h>
#include <unistd.h>

#include <filesystem>
#include <memory>

#include <fmt/format.h>

#include "db/database.h"

namespace avctl {

namespace {

namespace fs = std::filesystem;

struct Closer {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Handle = std::unique_ptr<sqlite3, Closer>;

Result<Handle> OpenRaw(const std::string& path, int flags, const char* what) {
  sqlite3* raw = nullptr;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  Handle h(raw);
  if (rc != SQLITE_OK) {
    return Status::IOError(fmt::format("cannot open the {}: {}", what, raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)))
        .WithFile(path);
  }
  sqlite3_busy_timeout(raw, 10000);
  return h;
}

Status Copy(const std::string& source, const std::string& tmp, BackupSummary* summary) {
  if (!fs::exists(source)) return Status::NotFound("no record here").WithFile(source);
  AVCTL_ASSIGN_OR_RETURN(Handle src, OpenRaw(source, SQLITE_OPEN_READONLY, "record"));
  AVCTL_ASSIGN_OR_RETURN(Handle dst, OpenRaw(tmp, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "backup"));
  sqlite3_backup* b = sqlite3_backup_init(dst.get(), "main", src.get(), "main");
  if (b == nullptr) {
    return Status::IOError(fmt::format("cannot start the backup: {}", sqlite3_errmsg(dst.get()))).WithFile(tmp);
  }
  // All pages in one step: one read transaction, one consistent moment. A
  // busy or locked source (a checkpoint in progress) is waited for.
  int rc = SQLITE_OK;
  for (int tries = 0; tries < 100; ++tries) {
    rc = sqlite3_backup_step(b, -1);
    if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED) break;
    sqlite3_sleep(100);
  }
  summary->pages = sqlite3_backup_pagecount(b);
  const int finished = sqlite3_backup_finish(b);
  if (rc != SQLITE_DONE) {
    return Status::IOError(fmt::format("the backup stopped: {} (sqlite code {})", sqlite3_errstr(rc), rc))
        .WithFile(source);
  }
  if (finished != SQLITE_OK) {
    return Status::IOError(fmt::format("the backup did not finish: {}", sqlite3_errmsg(dst.get()))).WithFile(tmp);
  }
  return Status::OK();
}

}  // namespace

Result<BackupSummary> BackupDatabase(const std::string& source, const std::string& dest) {
  if (fs::exists(dest)) return Status::AlreadyExists("the backup's destination exists; give a new name").WithFile(dest);
  const std::string tmp = fmt::format("{}.partial-{}", dest, ::getpid());
  BackupSummary summary;
  Status st = Copy(source, tmp, &summary);
  if (st.ok()) {
    // The copy is checked before it takes the destination's name.
    DatabaseOptions o;
    o.wal = false;  // opened as the copy is (a read-only open of a WAL file needs its -shm)
    auto copy = Database::Open(tmp, o);
    st = copy.status();
    if (st.ok()) {
      auto q = (*copy)->Prepare("PRAGMA integrity_check");
      st = q.status();
      if (st.ok()) {
        auto row = q->Step();
        st = row.status();
        if (st.ok() && (!*row || q->ColumnText(0) != "ok")) {
          st = Status::Corruption("the copy fails PRAGMA integrity_check: " + (*row ? q->ColumnText(0) : "no answer"))
                   .WithFile(tmp);
        }
      }
    }
  }
  std::error_code ec;
  if (!st.ok()) {
    fs::remove(tmp, ec);
    return st;
  }
  summary.bytes = static_cast<int64_t>(fs::file_size(tmp, ec));
  fs::rename(tmp, dest, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Status::IOError(fmt::format("cannot move the backup into place: {}", ec.message())).WithFile(dest);
  }
  return summary;
}

}  // namespace avctl
