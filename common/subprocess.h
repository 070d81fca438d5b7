// Starting a child process the way avctl's supervisors do (avctl's local
// cluster, the worker daemon's jobs): in its own process group, killed with
// a chosen signal when the parent dies, signals unblocked, stdout and stderr
// to a log file.
#pragma once

#include <sys/types.h>

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

}  // namespace avctl
