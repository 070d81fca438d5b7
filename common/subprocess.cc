#include "common/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace avctl {

Result<pid_t> SpawnLogged(const std::vector<std::string>& args, const std::string& log_path,
                          const SpawnOptions& options) {
  if (args.empty()) return Status::InvalidArgument("no program to run");
  std::vector<std::string> a = args;  // execv wants mutable strings
  std::vector<char*> argv;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    if (options.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, options.parent_death_signal);
      if (::getppid() != parent) ::_exit(126);  // the parent died before prctl
    }
    sigset_t none;  // supervisors block the signals they handle; the child must receive them
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | (options.truncate_log ? O_TRUNC : O_APPEND), 0644);
    if (fd >= 0) {
      ::dup2(fd, STDOUT_FILENO);
      ::dup2(fd, STDERR_FILENO);
      ::close(fd);
    }
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  if (pid < 0) return Status::FromErrno(fmt::format("cannot start {}", args[0]), errno);
  ::setpgid(pid, pid);  // also from the parent: no window where a group signal misses it
  return pid;
}

}  // namespace avctl
