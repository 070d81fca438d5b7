// avctl: the command-line entry point.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/data_commands.h"
#include "cli/sweep_commands.h"
#include "common/version.h"

namespace {

constexpr const char* kUsage =
    "usage: avctl <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo        the end-to-end job on the embedded default (synthetic store + summary)\n"
    "  data        feature stores: synth, import, info\n"
    "  sweep       sweep specs: expand (validate and list the jobs)\n"
    "  version     print the code version\n"
    "\n"
    "Run 'avctl <command> --help' for a command's options.";

}  // namespace

int main(int argc, char** argv) {
  avctl::Logger log(stderr);
  avctl::cli::Context ctx{&log};
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kUsage << "\n";
    return avctl::cli::kExitUsage;
  }
  const std::string cmd = args[0];
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::cout << kUsage << "\n";
    return avctl::cli::kExitOk;
  }
  if (cmd == "version" || cmd == "--version") {
    std::cout << "avctl " << avctl::CodeVersion() << "\n";
    return avctl::cli::kExitOk;
  }
  if (cmd == "data") return avctl::cli::RunDataCommand(rest, ctx);
  if (cmd == "demo") return avctl::cli::RunDemoCommand(rest, ctx);
  if (cmd == "sweep") return avctl::cli::RunSweepCommand(rest, ctx);
  std::cerr << "avctl: error: unknown command '" << cmd << "'\n" << kUsage << "\n";
  return avctl::cli::kExitUsage;
}
