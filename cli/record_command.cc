#include "cli/record_command.h"

#include <iostream>

#include <boost/program_options.hpp>
#include <fmt/format.h>

#include "db/backup.h"

namespace avctl::cli {

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage = "usage: avctl record backup --db RECORD OUT";

int RunBackup(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl record backup options");
  desc.add_options()("help,h", "show this help")(
      "db", po::value<std::string>()->default_value("avctl.db"), "the coordinator's SQLite record (it may be in use)")(
      "out", po::value<std::string>()->required(), "the copy to write (must not exist)");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("out", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, kUsage, &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string out = vm["out"].as<std::string>();
  auto summary = BackupDatabase(vm["db"].as<std::string>(), out);
  if (!summary.ok()) return ReportError(summary.status());
  std::cout << fmt::format("backup: {} ({} pages, {:.1f} MiB; integrity_check ok)\n", out, summary->pages,
                           static_cast<double>(summary->bytes) / (1024.0 * 1024.0));
  return kExitOk;
}

}  // namespace

int RunRecordCommand(const std::vector<std::string>& args, Context& ctx) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout)
        << kUsage << "\n\n  backup   an online copy of the record (SQLite's backup API), checked, while avcoord runs\n";
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "backup") return RunBackup(rest, ctx);
  std::cerr << "avctl: error: unknown record command '" << args[0] << "'\n" << kUsage << "\n";
  return kExitUsage;
}

}  // namespace avctl::cli
