#include "cli/fleet_commands.h"

#include <sys/wait.h>
#include <unistd.h>

#include <iostream>

#include <fmt/format.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli/control_client.h"
#include "cli/slurm_script.h"
#include "cli/status_render.h"
#include "common/file_util.h"

namespace avctl::cli {

namespace po = boost::program_options;

namespace {

void AddCommon(po::options_description* desc) {
  desc->add_options()("coordinator", po::value<std::string>()->default_value(DefaultCoordinator()),
                      "the coordinator's control endpoint ($AVCTL_COORDINATOR)");
  AddLogOptions(desc);
}

}  // namespace

namespace {

// Runs a command; its exit code and output.
int RunCapture(const std::string& cmd, std::string* out) {
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) return -1;
  char buf[1024];
  while (std::fgets(buf, sizeof(buf), p) != nullptr) *out += buf;
  const int status = ::pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int RunWorkersSlurm(const std::vector<std::string>& args, Context& ctx) {
  SlurmOptions o;
  po::options_description desc("avctl workers slurm options");
  desc.add_options()("help,h", "show this help")(
      "coordinator", po::value<std::string>(&o.coordinator)->required(),
      "the coordinator's WORKER endpoint as the compute nodes reach it (tcp://login-node:5555)")(
      "nodes", po::value<int>(&o.nodes)->default_value(1), "nodes")(
      "gpus-per-node", po::value<int>(&o.gpus_per_node)->default_value(1), "GPUs per node, one worker daemon each (0: CPU)")(
      "slots-per-gpu", po::value<int>(&o.slots_per_gpu)->default_value(1), "jobs per GPU at once")(
      "cpus-per-task", po::value<int>(&o.cpus_per_task)->default_value(8), "CPU cores per worker daemon")(
      "partition", po::value<std::string>(&o.partition), "Slurm partition")(
      "time", po::value<std::string>(&o.time)->default_value("24:00:00"), "time limit")(
      "account", po::value<std::string>(&o.account), "Slurm account")(
      "avworker", po::value<std::string>(&o.avworker), "avworker's path on the compute nodes (default: this build's)")(
      "work-root", po::value<std::string>(&o.work_root)->default_value(o.work_root), "spool root on the nodes")(
      "log-dir", po::value<std::string>(&o.log_dir)->default_value(o.log_dir), "per-task logs")(
      "signal-seconds", po::value<int>(&o.signal_seconds)->default_value(o.signal_seconds),
      "SIGTERM this long before the time limit (#SBATCH --signal): running jobs checkpoint and are requeued; 0: none")(
      "requeue", po::bool_switch(&o.requeue), "let Slurm requeue the job after preemption or a node failure")(
      "checkpoint-dir", po::value<std::string>(&o.checkpoint_dir),
      "the workers' checkpoint folder on a shared file system (default: the sweep's checkpoint_dir)")(
      "stop-timeout", po::value<double>(&o.stop_timeout_s)->default_value(o.stop_timeout_s),
      "seconds a stopping worker leaves its jobs to checkpoint; keep it under Slurm's KillWait")(
      "script", po::value<std::string>()->default_value("avctl-workers.sbatch"), "where to write the script")(
      "allow-loopback", po::bool_switch(&o.allow_loopback),
      "accept a 127.0.0.1/localhost coordinator (Slurm runs on this machine)")(
      "dry-run", po::bool_switch(), "print the script; submit nothing");
  AddLogOptions(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {}, "usage: avctl workers slurm --coordinator tcp://HOST:5555 --nodes N --gpus-per-node G "
                                 "[--partition P --time T --account A --slots-per-gpu K] [--dry-run]", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  if (!vm.count("avworker")) o.avworker = (std::filesystem::path(SelfExePath()).parent_path() / "avworker").string();
  if (Status s = ValidateSlurmOptions(o); !s.ok()) return ReportError(s);
  const std::string script = RenderSbatchScript(o);
  if (vm["dry-run"].as<bool>()) {
    std::cout << script;
    return kExitOk;
  }
  const std::string path = vm["script"].as<std::string>();
  // Slurm opens the --output file before the script runs: its folder must
  // exist (on a shared file system, as the login node sees it).
  if (std::error_code ec; !std::filesystem::create_directories(o.log_dir, ec) && ec) {
    return ReportError(Status::IOError(fmt::format("cannot create the log folder: {}", ec.message())).WithFile(o.log_dir));
  }
  {
    std::ofstream f(path);
    f << script;
    if (!f) return ReportError(Status::IOError("cannot write the sbatch script").WithFile(path));
  }
  std::string out;
  const int rc = RunCapture("sbatch --parsable " + ShellQuote(path), &out);
  if (rc != 0) {
    return ReportError(Status::FailedPrecondition(fmt::format(
        "sbatch failed ({}): {}", rc == 127 ? "not found: is this a Slurm login node?" : std::to_string(rc), out))
                           .WithFile(path));
  }
  std::cout << fmt::format("submitted Slurm job {} ({} node(s) x {} worker daemon(s)); script {}\n",
                           out.substr(0, out.find_first_of(";\n")), o.nodes, std::max(1, o.gpus_per_node), path);
  return kExitOk;
}

int RunWorkersStop(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl workers stop options");
  desc.add_options()("help,h", "show this help")("worker", po::value<std::string>(), "a worker id")(
      "slurm-job", po::value<std::string>(), "every worker of this Slurm job")(
      "now", po::bool_switch(), "with --slurm-job: scancel at once instead of letting the workers drain");
  AddCommon(&desc);
  po::positional_options_description pos;
  pos.add("worker", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl workers stop WORKER | --slurm-job ID [--now]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  if (vm.count("worker") == vm.count("slurm-job")) {
    return ReportError(Status::InvalidArgument("give a worker id or --slurm-job ID (one of them)").WithField("--slurm-job"));
  }
  const std::string ep = vm["coordinator"].as<std::string>();
  Json req = vm.count("worker") ? Json{{"op", "drain_worker"}, {"worker", vm["worker"].as<std::string>()}}
                                : Json{{"op", "drain_slurm_job"}, {"slurm_job_id", vm["slurm-job"].as<std::string>()}};
  auto r = CallCoordinator(ep, req);
  if (!r.ok()) return ReportError(r.status());
  std::cout << fmt::format("draining {} worker(s): they finish their running jobs, take no more and exit\n",
                           (*r)["drained"].size());
  if (vm.count("slurm-job") && vm["now"].as<bool>()) {
    std::string out;
    const int rc = RunCapture("scancel " + ShellQuote(vm["slurm-job"].as<std::string>()), &out);
    if (rc != 0) return ReportError(Status::FailedPrecondition(fmt::format("scancel failed ({}): {}", rc, out)));
    std::cout << "scancel sent: running jobs of those workers are requeued\n";
  }
  return kExitOk;
}

}  // namespace

int RunWorkersCommand(const std::vector<std::string>& args, Context& ctx) {
  if (!args.empty() && args[0] == "slurm") return RunWorkersSlurm({args.begin() + 1, args.end()}, ctx);
  if (!args.empty() && args[0] == "stop") return RunWorkersStop({args.begin() + 1, args.end()}, ctx);
  po::options_description desc("avctl workers options (subcommands: slurm, stop)");
  desc.add_options()("help,h", "show this help")("json", po::bool_switch(), "print JSON");
  AddCommon(&desc);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, {},
                 "usage: avctl workers [--json] [--coordinator EP]\n"
                 "       avctl workers slurm --coordinator tcp://HOST:5555 --nodes N --gpus-per-node G [--dry-run]\n"
                 "       avctl workers stop WORKER | --slurm-job ID [--now]", &vm, &code)) {
    return code;
  }
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
  auto rows = ParseResultRows((*r)["results"], "the coordinator's results");
  if (!rows.ok()) return ReportError(rows.status());
  std::cout << (format == "json" ? ResultRowsToJson(*rows).dump(2) + "\n" : ResultsToCsv(*rows));
  return kExitOk;
}

}  // namespace avctl::cli
