// avctl: the command-line entry point.
#include <iostream>
#include <string>
#include <vector>

#include "cli/cli_util.h"
#include "cli/data_commands.h"
#include "cli/fleet_commands.h"
#include "cli/keys_command.h"
#include "cli/record_command.h"
#include "cli/report_command.h"
#include "cli/sweep_commands.h"
#include "common/version.h"

namespace {

constexpr const char* kUsage =
    "usage: avctl <command> [options]\n"
    "\n"
    "commands:\n"
    "  demo        data-path smoke test: a synthetic store from the shipped partitions, summarised\n"
    "  data        feature stores: synth, import, info\n"
    "  sweep       sweeps: expand, submit, status, list, cancel, retry, run (local coordinator + workers)\n"
    "  workers     the worker daemons known to the coordinator; workers slurm (start them through\n"
    "              sbatch), workers stop (drain one, or every worker of a Slurm job)\n"
    "  jobs        a sweep's jobs, their states, attempts and failure reasons\n"
    "  results     a sweep's stored results as CSV or JSON\n"
    "  report      the static HTML report of a sweep (tables, paired tests, plots, exports)\n"
    "  record      record backup --db RECORD OUT: an online copy of the coordinator's record\n"
    "  keys        keys gen NAME: a CURVE key pair for the authenticated fleet (NAME.key, NAME.pub)\n"
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
  if (cmd == "workers") return avctl::cli::RunWorkersCommand(rest, ctx);
  if (cmd == "jobs") return avctl::cli::RunJobsCommand(rest, ctx);
  if (cmd == "results") return avctl::cli::RunResultsCommand(rest, ctx);
  if (cmd == "report") return avctl::cli::RunReportCommand(rest, ctx);
  if (cmd == "keys") return avctl::cli::RunKeysCommand(rest, ctx);
  if (cmd == "record") return avctl::cli::RunRecordCommand(rest, ctx);
  std::cerr << "avctl: error: unknown command '" << cmd << "'\n" << kUsage << "\n";
  return avctl::cli::kExitUsage;
}
