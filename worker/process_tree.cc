#include "worker/process_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>

namespace avctl {

namespace {

// A /proc file's bytes (at most `max`), "" when it cannot be read: a process
// may exit between the listing and the read (ESRCH), and that is no error.
// Plain read(2): a stream would throw from underflow on such a read.
std::string ReadProcFile(const std::string& path, size_t max) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  std::string out;
  char buf[4096];
  while (out.size() < max) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

// Whether process `pid` is inside exec(2): environ and cmdline both empty
// while it is neither a kernel thread nor exiting. A process started with an
// empty environment still has a command line, so it is not taken for one.
bool InsideExec(const std::string& pid) {
  if (!ReadProcFile("/proc/" + pid + "/cmdline", 1).empty()) return false;
  const auto stat = ParseProcStat(ReadProcFile("/proc/" + pid + "/stat", 4096));
  return stat && !stat->KernelThread() && !stat->Dead();
}

// The environment of `pid`, read again while it is inside exec (bounded: an
// exec that has not set up its stack in 10,000 tries is taken as it reads).
std::string ReadEnvironment(const std::string& pid) {
  const std::string path = "/proc/" + pid + "/environ";
  std::string env = ReadProcFile(path, size_t{1} << 20);
  for (int tries = 0; env.empty() && tries < 10000 && InsideExec(pid); ++tries) {
    ::sched_yield();
    env = ReadProcFile(path, size_t{1} << 20);
  }
  return env;
}

}  // namespace

std::optional<ProcStat> ParseProcStat(const std::string& text) {
  const size_t close = text.rfind(')');
  if (close == std::string::npos || close + 4 > text.size() || text[close + 1] != ' ') return std::nullopt;
  ProcStat st;
  st.state = text[close + 2];
  const char* p = text.c_str() + close + 3;
  char* end = nullptr;
  // ppid pgrp session tty_nr tpgid flags
  long fields[6];
  for (long& f : fields) {
    f = std::strtol(p, &end, 10);
    if (end == p) return std::nullopt;
    p = end;
  }
  st.ppid = static_cast<pid_t>(fields[0]);
  st.flags = static_cast<unsigned>(fields[5]);
  return st;
}

Status BecomeChildSubreaper() {
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1) != 0) return Status::FromErrno("prctl(PR_SET_CHILD_SUBREAPER)", errno);
  return Status::OK();
}

std::vector<pid_t> ProcessesWithEnvEntry(const std::string& entry) {
  std::vector<pid_t> out;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return out;
  const pid_t self = ::getpid();
  while (dirent* d = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || pid <= 0 || pid == self) continue;
    const std::string env = ReadEnvironment(d->d_name);
    // Entries are NUL-separated: match a whole entry.
    for (size_t at = env.find(entry); at != std::string::npos; at = env.find(entry, at + 1)) {
      const bool starts = at == 0 || env[at - 1] == '\0';
      const size_t after = at + entry.size();
      if (starts && (after == env.size() || env[after] == '\0')) {
        out.push_back(static_cast<pid_t>(pid));
        break;
      }
    }
  }
  ::closedir(proc);
  return out;
}

std::vector<pid_t> SignalJobProcesses(pid_t pgid, const std::string& entry, int sig) {
  if (pgid > 0) ::kill(-pgid, sig);
  std::vector<pid_t> signalled;
  for (pid_t p : ProcessesWithEnvEntry(entry)) {
    if (::kill(p, sig) == 0) signalled.push_back(p);
  }
  return signalled;
}

bool HasChildren() {
  siginfo_t info{};
  while (true) {
    if (::waitid(P_ALL, 0, &info, WEXITED | WNOHANG | WNOWAIT) == 0) return true;
    if (errno != EINTR) return errno != ECHILD;  // other errors: assume some, so that the caller looks
  }
}

std::vector<pid_t> KillLeftovers(pid_t pgid, const std::string& entry) {
  if (!HasChildren()) return {};
  return SignalJobProcesses(pgid, entry, SIGKILL);
}

std::vector<pid_t> ReapExited(const std::vector<pid_t>& pids) {
  std::vector<pid_t> left;
  for (pid_t p : pids) {
    int status = 0;
    const pid_t r = ::waitpid(p, &status, WNOHANG);
    if (r == 0) left.push_back(p);  // our child, still running
    // r == p: reaped; r < 0 (ECHILD): not ours, its parent or init reaps it
  }
  return left;
}

int ReapOrphans(const std::vector<pid_t>& known) {
  int reaped = 0;
  if (!HasChildren()) return 0;  // nothing to reap: no scan of /proc
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return 0;
  const pid_t self = ::getpid();
  while (dirent* d = ::readdir(proc)) {
    char* end = nullptr;
    const long pid = std::strtol(d->d_name, &end, 10);
    if (end == d->d_name || *end != '\0' || pid <= 0) continue;
    const auto stat = ParseProcStat(ReadProcFile(std::string("/proc/") + d->d_name + "/stat", 4096));
    if (!stat || stat->ppid != self || stat->state != 'Z') continue;
    if (std::find(known.begin(), known.end(), static_cast<pid_t>(pid)) != known.end()) continue;
    int status = 0;
    if (::waitpid(static_cast<pid_t>(pid), &status, WNOHANG) == pid) ++reaped;
  }
  ::closedir(proc);
  return reaped;
}

}  // namespace avctl
