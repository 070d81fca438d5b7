// The interpreter a command job's argv starts with (python3, Rscript, ...),
// for the result's provenance: its resolved path and what its `--version`
// says. `--version` is asked only of known interpreters (a researcher's own
// binary might start training on any argument), once per path and worker.
#pragma once

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/json_util.h"

namespace avctl {

// Whether `name` (a file name) is an interpreter avctl asks for its version.
bool IsKnownInterpreter(const std::string& name);

// `name` looked up in `path_var` (a PATH value) as execvp does; "" if not found.
std::string ResolveInPath(const std::string& name, const std::string& path_var);

class InterpreterInfo {
 public:
  // {"path": ..., "version": ...} for argv[0]; a program that is not a known
  // interpreter gets its path only; null when argv is empty.
  Json Describe(const std::vector<std::string>& argv, const std::vector<std::string>& env, const std::string& workdir);

 private:
  std::mutex mu_;  // Describe runs on the attempts' provenance threads
  std::map<std::string, std::string> versions_;  // by resolved path
};

}  // namespace avctl
