#include "common/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <thread>

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
  const pid_t parent = ::getpid();
  // vfork: the child borrows this process's memory until it execs, so no
  // page tables are copied (a fork of a daemon with libtorch mapped costs
  // milliseconds per job). The child makes system calls only, writes only
  // `failure` and never returns. Signals stay blocked across the borrow so
  // no handler runs on the shared stack; the child clears its mask.
  sigset_t all, before;
  sigfillset(&all);
  ::pthread_sigmask(SIG_SETMASK, &all, &before);
  const pid_t pid = ::vfork();
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
    if (!spawn.workdir.empty() && ::chdir(spawn.workdir.c_str()) != 0) {
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
  ::pthread_sigmask(SIG_SETMASK, &before, nullptr);
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

bool CapturedRun::succeeded() const { return !timed_out && wait_status != -1 && WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

Result<CapturedRun> RunCaptured(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                const std::string& workdir, std::chrono::milliseconds timeout, size_t max_bytes) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Status::FromErrno("cannot make a pipe", errno);
  ProgramSpawn spawn;
  spawn.argv = argv;
  spawn.env = env;
  spawn.workdir = workdir;
  spawn.stdout_fd = fds[1];
  spawn.stderr_fd = fds[1];
  auto pid = SpawnProgram(spawn);
  ::close(fds[1]);
  if (!pid.ok()) {
    ::close(fds[0]);
    return pid.status();
  }
  CapturedRun run;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (run.output.size() < max_bytes) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      run.timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) {
      run.timed_out = ready == 0;
      break;
    }
    char buf[4096];
    const ssize_t n = ::read(fds[0], buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // end of output: it exited (or closed both streams)
    run.output.append(buf, static_cast<size_t>(std::min<size_t>(static_cast<size_t>(n), max_bytes - run.output.size())));
  }
  ::close(fds[0]);
  if (run.timed_out) ::kill(-*pid, SIGKILL);
  // Its output closed: it has exited or is about to; the timeout bounds a
  // program that closed its streams and kept running. Its exit is waited for
  // on a pidfd (readable when it exits), else by a 1 ms poll (kernels
  // before 5.3).
  const int exit_fd = static_cast<int>(::syscall(SYS_pidfd_open, *pid, 0));
  while (true) {
    const pid_t r = ::waitpid(*pid, &run.wait_status, run.timed_out ? 0 : WNOHANG);
    if (r == *pid) break;
    if (r < 0 && errno != EINTR) {
      // Reaped by someone else (a daemon's orphan sweep): how it ended is unknown.
      run.wait_status = -1;
      break;
    }
    if (r == 0) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) {
        run.timed_out = true;
        ::kill(-*pid, SIGKILL);
      } else if (exit_fd >= 0) {
        pollfd p{exit_fd, POLLIN, 0};
        ::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 1000)));
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
    }
  }
  if (exit_fd >= 0) ::close(exit_fd);
  return run;
}

std::vector<std::string> ProcessEnvironment() {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  return env;
}

}  // namespace avctl
