#include "common/subprocess.h"

#include <fcntl.h>
#include <sys/wait.h>
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

Result<pid_t> SpawnProgram(const ProgramSpawn& spawn) {
  if (spawn.argv.empty() || spawn.argv[0].empty()) return Status::InvalidArgument("no program to run");
  // Everything the child touches is made before fork: after it, only
  // async-signal-safe calls.
  std::vector<std::string> a = spawn.argv, e = spawn.env;
  std::vector<char*> argv, envp;
  for (auto& s : a) argv.push_back(s.data());
  argv.push_back(nullptr);
  for (auto& s : e) envp.push_back(s.data());
  envp.push_back(nullptr);
  int report[2];  // the child writes {stage, errno} here when it cannot exec; closed on exec
  if (::pipe2(report, O_CLOEXEC) != 0) return Status::FromErrno("cannot make a pipe", errno);
  const char* workdir = spawn.workdir.empty() ? nullptr : spawn.workdir.c_str();
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(report[0]);
    ::setpgid(0, 0);
    if (spawn.parent_death_signal != 0) {
      ::prctl(PR_SET_PDEATHSIG, spawn.parent_death_signal);
      if (::getppid() != parent) ::_exit(126);
    }
    sigset_t none;
    sigemptyset(&none);
    ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
    const int devnull = ::open("/dev/null", O_RDWR);
    ::dup2(devnull, STDIN_FILENO);
    ::dup2(spawn.stdout_fd >= 0 ? spawn.stdout_fd : devnull, STDOUT_FILENO);
    ::dup2(spawn.stderr_fd >= 0 ? spawn.stderr_fd : devnull, STDERR_FILENO);
    int failure[2] = {0, 0};
    if (workdir != nullptr && ::chdir(workdir) != 0) {
      failure[0] = 1;
    } else {
      ::execvpe(argv[0], argv.data(), envp.data());
      failure[0] = 2;
    }
    failure[1] = errno;
    ssize_t w = ::write(report[1], failure, sizeof(failure));
    (void)w;
    ::_exit(127);
  }
  const int fork_errno = errno;
  ::close(report[1]);
  if (pid < 0) {
    ::close(report[0]);
    return Status::FromErrno(fmt::format("cannot start {}", spawn.argv[0]), fork_errno);
  }
  ::setpgid(pid, pid);
  int failure[2] = {0, 0};
  ssize_t n;
  do {
    n = ::read(report[0], failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  ::close(report[0]);
  if (n <= 0) return pid;  // exec happened (the pipe closed on exec)
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (failure[0] == 1) {
    return Status::FromErrno(fmt::format("cannot enter the job's workdir {}", spawn.workdir), failure[1])
        .WithFile(spawn.workdir);
  }
  std::string where = spawn.argv[0].find('/') == std::string::npos
                          ? "looked up in PATH"
                          : (spawn.workdir.empty() || spawn.argv[0][0] == '/' ? "" : "relative to " + spawn.workdir);
  return Status::FromErrno(fmt::format("cannot run {}{}", spawn.argv[0], where.empty() ? "" : " (" + where + ")"),
                           failure[1])
      .WithFile(spawn.argv[0]);
}

}  // namespace avctl
