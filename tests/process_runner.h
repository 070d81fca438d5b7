// Runs a command line as a process for the integration tests: its exit code
// and its stdout and stderr together.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace avctl::testutil {

struct ProcessRun {
  int exit_code = -1;  // -1 when it could not start or did not exit normally
  std::string output;
};

inline ProcessRun RunCommand(const std::string& cmd) {
  ProcessRun r;
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

}  // namespace avctl::testutil
