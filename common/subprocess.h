// Starting a child process the way avctl's supervisors do (avctl's local
// cluster, the worker daemon's jobs): in its own process group, killed with
// a chosen signal when the parent dies, signals unblocked, stdout and stderr
// to a log file.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <vector>

#include "common/status.h"

namespace avctl {

struct SpawnOptions {
  int parent_death_signal = 0;  // PR_SET_PDEATHSIG (SIGKILL, SIGTERM); 0: none
  bool truncate_log = false;    // else append
};

// Runs args[0] with `args`; returns its pid. IOError naming args[0] if fork fails;
// an exec failure shows in the log ("cannot run ...") and as exit code 127.
Result<pid_t> SpawnLogged(const std::vector<std::string>& args, const std::string& log_path,
                          const SpawnOptions& options);

// A program started for a job (docs/JOBS.md): its own process group, the
// environment given whole, a working folder, stdin from /dev/null, stdout
// and stderr to the descriptors given (pipes the caller drains).
struct ProgramSpawn {
  std::vector<std::string> argv;     // argv[0] without a '/' is looked up in PATH
  std::vector<std::string> env;      // every variable, "NAME=value"
  std::string workdir;               // the child changes into it first; empty: stays
  int stdout_fd = -1, stderr_fd = -1;  // -1: /dev/null
  int parent_death_signal = 0;
};

// Starts it. A program that cannot be started (not found, not executable,
// the workdir missing) is this call's error, naming the program or folder
// and the reason, with no child left behind: the failure is known before
// any output, not guessed from an exit code.
Result<pid_t> SpawnProgram(const ProgramSpawn& spawn);

// This process's environment, "NAME=value" each (what a spawned program
// inherits when the caller passes it on).
std::vector<std::string> ProcessEnvironment();

// A short question put to a tool (`git rev-parse HEAD`, `python3 --version`):
// run with SpawnProgram, its stdout and stderr read together (at most
// `max_bytes`), killed with its process group after `timeout`.
struct CapturedRun {
  int wait_status = 0;     // as waitpid gave it
  bool timed_out = false;
  std::string output;
  bool succeeded() const;  // exited 0 within the timeout (-1: reaped elsewhere, unknown: not succeeded)
};
Result<CapturedRun> RunCaptured(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                                const std::string& workdir, std::chrono::milliseconds timeout,
                                size_t max_bytes = 65536);

}  // namespace avctl
