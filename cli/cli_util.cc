#include "cli/cli_util.h"

#include "common/data_dir.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <fmt/format.h>

namespace avctl::cli {

namespace po = boost::program_options;

std::string DefaultDataDir() { return avctl::DefaultDataDir(); }

std::vector<std::string> DefaultLabelFiles() { return avctl::DefaultLabelFiles(); }

void AddLogOptions(po::options_description* desc) {
  desc->add_options()("log-level", po::value<std::string>()->default_value("info"), "debug, info, warn or error")(
      "log-json", po::bool_switch(), "log one JSON object per line");
}

Status ApplyLogOptions(const po::variables_map& vm, Logger* log) {
  LogLevel level;
  const std::string text = vm["log-level"].as<std::string>();
  if (!ParseLogLevel(text, &level)) {
    return Status::InvalidArgument(fmt::format("unknown log level '{}' (expected debug, info, warn or error)", text))
        .WithField("--log-level");
  }
  log->set_min_level(level);
  log->set_json(vm["log-json"].as<bool>());
  return Status::OK();
}

bool ParseArgs(const std::vector<std::string>& args, const po::options_description& desc,
               const po::positional_options_description& positional, const std::string& usage,
               po::variables_map* vm, int* exit_code) {
  try {
    po::store(po::command_line_parser(args).options(desc).positional(positional).run(), *vm);
    if (vm->count("help")) {
      std::cout << usage << "\n\n" << desc << "\n";
      *exit_code = kExitOk;
      return false;
    }
    po::notify(*vm);
  } catch (const po::error& e) {
    std::cerr << "avctl: error: " << e.what() << "\n" << usage << "\n(see --help)\n";
    *exit_code = kExitUsage;
    return false;
  }
  return true;
}

int ReportError(const Status& s) {
  std::cerr << "avctl: error: " << s.ToString() << "\n";
  return kExitFailure;
}

}  // namespace avctl::cli
