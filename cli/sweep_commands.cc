#include "cli/sweep_commands.h"

#include <iostream>

#include "coordinator/sweep_spec.h"

namespace avctl::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kSweepUsage =
    "usage: avctl sweep <command> [options]\n"
    "\n"
    "commands:\n"
    "  expand   validate a sweep spec and print its jobs (variants x points x seeds x partitions)";

int RunExpand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep expand options");
  desc.add_options()("help,h", "show this help")("spec", po::value<std::string>()->required(), "sweep spec (JSON)")(
      "json", po::bool_switch(), "print every job as JSON lines (key and job) instead of the summary");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep expand SPEC.json [--json]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  auto spec = ReadSweepSpec(vm["spec"].as<std::string>());
  if (!spec.ok()) return ReportError(spec.status());
  auto jobs = ExpandSweep(*spec);
  if (!jobs.ok()) return ReportError(std::move(jobs).TakeStatus().WithFile(vm["spec"].as<std::string>()));
  if (vm["json"].as<bool>()) {
    for (const auto& j : *jobs) std::cout << Json{{"key", j.key}, {"job", j.job}}.dump() << "\n";
  } else {
    std::cout << RenderExpansion(*spec, *jobs);
  }
  return kExitOk;
}

}  // namespace

int RunSweepCommand(const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::cout << kSweepUsage << "\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "expand") return RunExpand(rest, ctx);
  std::cerr << "avctl: error: unknown sweep command '" << args[0] << "'\n" << kSweepUsage << "\n";
  return kExitUsage;
}

}  // namespace avctl::cli
