#include "cli/report_command.h"

#include <filesystem>
#include <iostream>

#include <fmt/format.h>

#include "common/file_util.h"
#include "db/record.h"
#include "web/report_analysis.h"
#include "web/report_loader.h"
#include "web/report_render.h"

namespace avctl::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

Result<ReportData> LoadSweepFromRecord(const std::string& db_path, const std::string& sweep) {
  if (!fs::exists(db_path)) return Status::NotFound("no such record (the coordinator's --db file)").WithFile(db_path);
  AVCTL_ASSIGN_OR_RETURN(auto record, Record::OpenReadOnly(db_path));
  return LoadReportData(record.get(), sweep);
}

Result<std::string> WriteSweepReport(const std::string& db_path, const std::string& sweep, const std::string& out_dir) {
  AVCTL_ASSIGN_OR_RETURN(ReportData data, LoadSweepFromRecord(db_path, sweep));
  const ReportAnalysis analysis = AnalyzeReport(data);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Status::IOError(fmt::format("cannot create the report directory: {}", ec.message())).WithFile(out_dir);
  for (const auto& [name, content] : RenderReport(data, analysis)) {
    AVCTL_RETURN_IF_ERROR(WriteFileAtomic((fs::path(out_dir) / name).string(), content));
  }
  return (fs::path(out_dir) / "index.html").string();
}

int RunReportCommand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl report options");
  desc.add_options()("help,h", "show this help")("sweep", po::value<std::string>()->required(), "sweep id or name")(
      "db", po::value<std::string>()->default_value("avctl.db"), "the coordinator's SQLite record")(
      "out", po::value<std::string>()->required(), "directory to write the report into");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl report SWEEP --db FILE --out DIR", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  auto index = WriteSweepReport(vm["db"].as<std::string>(), vm["sweep"].as<std::string>(), vm["out"].as<std::string>());
  if (!index.ok()) return ReportError(index.status());
  std::cout << "report: " << *index << "\n";
  return kExitOk;
}

}  // namespace avctl::cli
