#include "cli/fleet_commands.h"

#include <iostream>

#include <fmt/format.h>

#include "cli/control_client.h"
#include "cli/status_render.h"

namespace avctl::cli {

namespace po = boost::program_options;

namespace {

void AddCommon(po::options_description* desc) {
  desc->add_options()("coordinator", po::value<std::string>()->default_value(DefaultCoordinator()),
                      "the coordinator's control endpoint ($AVCTL_COORDINATOR)");
  AddLogOptions(desc);
}

}  // namespace

int RunWorkersCommand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl workers options");
  desc.add_options()("help,h", "show this help")("json", po::bool_switch(), "print JSON");
  AddCommon(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {}, "usage: avctl workers [--json] [--coordinator EP]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  auto r = CallCoordinator(vm["coordinator"].as<std::string>(), {{"op", "workers"}});
  if (!r.ok()) return ReportError(r.status());
  std::cout << (vm["json"].as<bool>() ? (*r)["workers"].dump(2) + "\n" : RenderWorkers((*r)["workers"]));
  return kExitOk;
}

int RunJobsCommand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl jobs options");
  desc.add_options()("help,h", "show this help")("sweep", po::value<std::string>()->required(), "sweep id or name")(
      "state", po::value<std::string>()->default_value(""), "only jobs in this state: queued, running, done, failed, "
                                                             "cancelled")("json", po::bool_switch(), "print JSON");
  AddCommon(&desc);
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl jobs SWEEP [--state S] [--json]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  auto r = CallCoordinator(vm["coordinator"].as<std::string>(),
                           {{"op", "jobs"}, {"sweep", vm["sweep"].as<std::string>()},
                            {"state", vm["state"].as<std::string>()}});
  if (!r.ok()) return ReportError(r.status());
  std::cout << (vm["json"].as<bool>() ? (*r)["jobs"].dump(2) + "\n" : RenderJobs((*r)["jobs"]));
  return kExitOk;
}

int RunResultsCommand(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl results options");
  desc.add_options()("help,h", "show this help")("sweep", po::value<std::string>()->required(), "sweep id or name")(
      "format", po::value<std::string>()->default_value("csv"), "csv or json");
  AddCommon(&desc);
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl results SWEEP [--format csv|json]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string format = vm["format"].as<std::string>();
  if (format != "csv" && format != "json") {
    return ReportError(Status::InvalidArgument(fmt::format("expected csv or json, got \"{}\"", format))
                           .WithField("--format"));
  }
  auto r = CallCoordinator(vm["coordinator"].as<std::string>(),
                           {{"op", "results"}, {"sweep", vm["sweep"].as<std::string>()}});
  if (!r.ok()) return ReportError(r.status());
  std::cout << (format == "json" ? (*r)["results"].dump(2) + "\n" : ResultsToCsv((*r)["results"]));
  return kExitOk;
}

}  // namespace avctl::cli
