// Shared plumbing of avctl's commands: option parsing with
// Boost.Program_options, global flags (--log-level, --log-json), the
// default data directory, and the exit-code convention
// (0 ok, 1 failure, 2 usage error).
#pragma once

#include <string>
#include <vector>

#include <boost/program_options.hpp>

#include "common/log.h"
#include "common/status.h"

namespace avctl::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

struct Context {
  Logger* log;
};

// The directory of the shipped CREMA-D partition files (AVCTL_DATA_DIR overrides).
std::string DefaultDataDir();
std::vector<std::string> DefaultLabelFiles();

// Adds --log-level and --log-json to `desc`, and applies them to `log`.
void AddLogOptions(boost::program_options::options_description* desc);
Status ApplyLogOptions(const boost::program_options::variables_map& vm, Logger* log);

// Parses `args` against `desc` (+ positional). Prints usage errors to stderr
// naming the option; returns false and sets *exit_code on error or --help.
bool ParseArgs(const std::vector<std::string>& args, const boost::program_options::options_description& desc,
               const boost::program_options::positional_options_description& positional, const std::string& usage,
               boost::program_options::variables_map* vm, int* exit_code);

// Prints "avctl: error: <status>" and returns kExitFailure (kExitUsage for InvalidArgument on a flag).
int ReportError(const Status& s);

}  // namespace avctl::cli
