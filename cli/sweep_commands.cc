#include "cli/sweep_commands.h"

#include <algorithm>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "cli/code_check.h"
#include "cli/control_client.h"
#include "cli/local_cluster.h"
#include "cli/report_command.h"
#include "cli/seed_plan.h"
#include "cli/sequential_plan.h"
#include "cli/status_render.h"
#include "common/file_util.h"
#include "sweeps/sweep_spec.h"

namespace avctl::cli {

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSweepUsage =
    "usage: avctl sweep <command> [options]\n"
    "\n"
    "commands:\n"
    "  expand   validate a sweep spec and print its jobs (variants x points x seeds x partitions)\n"
    "  submit   send a sweep to the coordinator (--dry-run: print the jobs and send nothing)\n"
    "  status   progress of one sweep (or all), counts per variant and state, ETA\n"
    "  list     every sweep in the record\n"
    "  cancel   cancel a sweep's queued and running jobs\n"
    "  retry    requeue a sweep's failed and cancelled jobs\n"
    "  run      the embedded default: a local coordinator and N workers run a sweep to the end\n"
    "  plan     seeds each comparison of a spec needs, from a pilot sweep's paired differences\n"
    "  design   a sequential spec's interim looks: bounds, alpha spent, and (--pilot) power and expected pairs\n"
    "\n"
    "Run 'avctl sweep <command> --help' for its options.";

void AddCoordinatorOption(po::options_description* desc) {
  desc->add_options()("coordinator", po::value<std::string>()->default_value(DefaultCoordinator()),
                      "the coordinator's control endpoint ($AVCTL_COORDINATOR)")(
      "json", po::bool_switch(), "print the coordinator's JSON instead of text");
}

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

// Reads, validates and expands a spec locally, so errors name the file.
Result<Json> LoadSpec(const std::string& path, SweepSpec* spec, std::vector<ExpandedJob>* jobs) {
  AVCTL_ASSIGN_OR_RETURN(Json raw, ReadSweepSpecJson(path));  // relative workdirs made absolute
  AVCTL_ASSIGN_OR_RETURN(*spec, ParseSweepSpec(raw, path));
  auto expanded = ExpandSweep(*spec);
  if (!expanded.ok()) return std::move(expanded).TakeStatus().WithFile(path);
  *jobs = std::move(*expanded);
  return raw;
}

std::string SubmitSummary(const Json& r) {
  return fmt::format("submitted sweep {} (id {}): {} jobs, {} new, {} already in the record\n",
                     r.value("name", ""), r.value("sweep_id", 0), r.value("jobs", 0), r.value("added", 0),
                     r.value("existing", 0));
}

// Before adding jobs to a sweep the record already holds: the scripts of its
// command variants must be the ones its stored results ran (cli/code_check.h).
Status CheckCodeUnchanged(const std::string& coordinator, const SweepSpec& spec, const std::string& path, bool allow) {
  std::vector<std::string> unchecked;
  const auto now = CurrentCode(spec, &unchecked);
  for (const auto& v : unchecked) {
    std::cerr << fmt::format("avctl: note: variant {}: its script is not reachable from here; not checked against "
                             "the stored results\n", v);
  }
  if (now.empty()) return Status::OK();
  AVCTL_ASSIGN_OR_RETURN(Json stored, CallCoordinator(coordinator, {{"op", "code_versions"}, {"name", spec.name}}));
  const std::string changed = ChangedCode(now, stored["code_versions"]);
  if (changed.empty()) return Status::OK();
  if (allow) {
    std::cerr << "avctl: warning: the record holds results of sweep " << spec.name << " from other code:\n" << changed;
    return Status::OK();
  }
  return Status::FailedPrecondition(fmt::format(
             "the record holds results of sweep {} from other code:\n{}Jobs already in the record keep those results "
             "and are not run again, so this sweep would mix two versions of the program in its tests. Submit it "
             "under a new name, or pass --allow-changed-code to add its jobs anyway (the report then warns)",
             spec.name, changed))
      .WithFile(path);
}

int RunSubmit(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep submit options");
  desc.add_options()("help,h", "show this help")("spec", po::value<std::string>()->required(), "sweep spec (JSON)")(
      "dry-run", po::bool_switch(), "print the job count and table; send nothing")(
      "allow-changed-code", po::bool_switch(),
      "add jobs even though the record holds results of this sweep from another version of a command variant's "
      "script (the report then warns on each comparison that mixes them)");
  AddCoordinatorOption(&desc);
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep submit SPEC.json [--dry-run] [--coordinator EP]", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string path = vm["spec"].as<std::string>();
  SweepSpec spec;
  std::vector<ExpandedJob> jobs;
  auto raw = LoadSpec(path, &spec, &jobs);
  if (!raw.ok()) return ReportError(raw.status());
  if (vm["dry-run"].as<bool>()) {
    std::cout << fmt::format("dry run: {} jobs; nothing submitted\n", jobs.size()) << RenderExpansion(spec, jobs);
    return kExitOk;
  }
  const std::string coordinator = vm["coordinator"].as<std::string>();
  if (Status s = CheckCodeUnchanged(coordinator, spec, path, vm["allow-changed-code"].as<bool>()); !s.ok()) {
    return ReportError(s);
  }
  auto reply = CallCoordinator(coordinator, {{"op", "submit"}, {"spec", *raw}, {"source", path}});
  if (!reply.ok()) return ReportError(reply.status());
  std::cout << (vm["json"].as<bool>() ? reply->dump(2) + "\n" : SubmitSummary(*reply));
  return kExitOk;
}

int RunStatus(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep status options");
  desc.add_options()("help,h", "show this help")("sweep", po::value<std::string>(), "sweep id or name (default: all)");
  AddCoordinatorOption(&desc);
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("sweep", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep status [SWEEP] [--json]", &vm, &code)) return code;
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  const std::string ep = vm["coordinator"].as<std::string>();
  std::vector<std::string> refs;
  if (vm.count("sweep")) {
    refs.push_back(vm["sweep"].as<std::string>());
  } else {
    auto list = CallCoordinator(ep, {{"op", "list"}});
    if (!list.ok()) return ReportError(list.status());
    for (const auto& s : (*list)["sweeps"]) refs.push_back(std::to_string(s["id"].get<int64_t>()));
    if (refs.empty()) {
      std::cout << (vm["json"].as<bool>() ? "[]\n" : "no sweeps in the record\n");
      return kExitOk;
    }
  }
  Json all = Json::array();
  for (const auto& ref : refs) {
    auto r = CallCoordinator(ep, {{"op", "status"}, {"sweep", ref}});
    if (!r.ok()) return ReportError(r.status());
    Json status = (*r)["status"];
    // The comparisons' power so far, from the results stored until now.
    std::optional<ReportAnalysis> power;
    if (!status.value("comparisons", Json::array()).empty()) {
      auto results = CallCoordinator(ep, {{"op", "results"}, {"sweep", ref}});
      if (!results.ok()) return ReportError(results.status());
      power = AnalyzeReport(ReportDataFromControl(status, (*results)["results"]));
    }
    if (vm["json"].as<bool>()) {
      if (power) status["power"] = PowerSoFarJson(*power);
      all.push_back(status);
    } else {
      std::cout << RenderRecordHealth(*r) << RenderSweepStatus(status) << (power ? RenderPowerSoFar(*power) : "");
    }
  }
  if (vm["json"].as<bool>()) std::cout << (vm.count("sweep") ? all[0] : all).dump(2) << "\n";
  return kExitOk;
}

int RunSimpleOp(const std::vector<std::string>& args, Context& ctx, const std::string& op) {
  po::options_description desc("avctl sweep " + op + " options");
  desc.add_options()("help,h", "show this help");
  if (op != "list") desc.add_options()("sweep", po::value<std::string>()->required(), "sweep id or name");
  AddCoordinatorOption(&desc);
  AddLogOptions(&desc);
  po::positional_options_description pos;
  if (op != "list") pos.add("sweep", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep " + op + (op == "list" ? "" : " SWEEP"), &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  Json req = {{"op", op}};
  if (op != "list") req["sweep"] = vm["sweep"].as<std::string>();
  auto r = CallCoordinator(vm["coordinator"].as<std::string>(), req);
  if (!r.ok()) return ReportError(r.status());
  if (vm["json"].as<bool>()) {
    std::cout << r->dump(2) << "\n";
  } else if (op == "list") {
    std::cout << RenderRecordHealth(*r) << RenderSweepList((*r)["sweeps"]);
  } else if (op == "cancel") {
    std::cout << fmt::format("cancelled {} job(s) of sweep {}\n", r->value("cancelled", 0), vm["sweep"].as<std::string>());
  } else {
    std::cout << fmt::format("requeued {} job(s) of sweep {}\n", r->value("requeued", 0), vm["sweep"].as<std::string>());
  }
  return kExitOk;
}

int RunLocal(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep run options");
  desc.add_options()("help,h", "show this help")("spec", po::value<std::string>()->required(), "sweep spec (JSON)")(
      "local-workers", po::value<int>()->default_value(2),
      "CPU worker daemons to start on this machine; a sweep none of them can run (resources.device cuda) stops at "
      "once")(
      "slots", po::value<int>()->default_value(1), "jobs per worker at once")(
      "threads", po::value<int>()->default_value(1), "libtorch threads per job")(
      "dir", po::value<std::string>(), "run directory: record, logs, spools, stores (default: runs/NAME); "
                                       "running again resumes: finished jobs are kept")(
      "metric", po::value<std::string>()->default_value("macro_f1"), "metric of the closing summary")(
      "allow-changed-code", po::bool_switch(),
      "run again although the run directory holds results from another version of a command variant's script")(
      "json", po::bool_switch(), "print the final status as JSON");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep run SPEC.json [--local-workers N] [--dir DIR]", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  if (vm["local-workers"].as<int>() < 1 || vm["slots"].as<int>() < 1 || vm["threads"].as<int>() < 1) {
    return ReportError(Status::InvalidArgument("--local-workers, --slots and --threads must be at least 1"));
  }
  const std::string path = vm["spec"].as<std::string>();
  SweepSpec spec;
  std::vector<ExpandedJob> jobs;
  auto raw = LoadSpec(path, &spec, &jobs);
  if (!raw.ok()) return ReportError(raw.status());

  LocalClusterOptions o;
  o.run_dir = vm.count("dir") ? vm["dir"].as<std::string>() : "runs/" + spec.name;
  o.bin_dir = fs::path(SelfExePath()).parent_path().string();
  o.workers = vm["local-workers"].as<int>();
  o.slots_per_worker = vm["slots"].as<int>();
  o.threads_per_job = vm["threads"].as<int>();
  // Ctrl-C and SIGTERM end the wait below; the cluster is then stopped in order.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  ::pthread_sigmask(SIG_BLOCK, &set, nullptr);
  LocalCluster cluster(o, ctx.log);
  if (Status s = cluster.Start(); !s.ok()) return ReportError(s);
  if (Status s = CheckCodeUnchanged(cluster.control_endpoint(), spec, path, vm["allow-changed-code"].as<bool>());
      !s.ok()) {
    (void)cluster.Stop();
    return ReportError(s);
  }
  auto reply = CallCoordinator(cluster.control_endpoint(), {{"op", "submit"}, {"spec", *raw}, {"source", path}});
  if (!reply.ok()) {
    (void)cluster.Stop();
    return ReportError(reply.status());
  }
  std::cout << SubmitSummary(*reply) << "status page: " << cluster.http_url() << "/\n" << std::flush;
  const std::string sweep = std::to_string((*reply)["sweep_id"].get<int64_t>());
  const bool tty = ::isatty(STDOUT_FILENO);
  Json status;
  std::string last_line;
  auto last_print = std::chrono::steady_clock::now();
  Status failure = Status::OK();
  while (true) {
    auto r = CallCoordinator(cluster.control_endpoint(), {{"op", "status"}, {"sweep", sweep}});
    if (!r.ok()) {
      failure = r.status();
      break;
    }
    status = (*r)["status"];
    std::string line = RenderSweepStatus(status);
    line = line.substr(0, line.find('\n'));
    const auto now = std::chrono::steady_clock::now();
    if (tty) {
      std::cout << "\r" << line << "   " << std::flush;
    } else if (line != last_line && now - last_print > std::chrono::seconds(10)) {
      std::cout << line << "\n" << std::flush;
      last_print = now;
    }
    last_line = line;
    if (status.value("finished", false)) break;
    // Once every local worker is ready, a job none of them can run would wait forever: say why and stop.
    const Json& unrunnable = status.value("unrunnable", Json::object());
    if (unrunnable.value("jobs", 0) > 0 && unrunnable.value("workers_ready", 0) >= o.workers) {
      std::string why;
      for (const auto& r : unrunnable["reasons"]) {
        why += fmt::format("{}{} job(s): {}", why.empty() ? "" : "; ", r.value("jobs", 0), r.value("reason", ""));
      }
      failure = Status::FailedPrecondition(fmt::format(
          "{} queued job(s) of sweep {} can never run on the {} local worker(s): {}; run it with workers that can "
          "(avctl sweep submit to a coordinator with such workers) or change the spec's resources",
          unrunnable.value("jobs", 0), status.value("name", ""), o.workers, why));
      break;
    }
    if (Status s = cluster.CheckAlive(); !s.ok()) {
      failure = s;
      break;
    }
    struct timespec wait = {0, 500 * 1000 * 1000};
    if (::sigtimedwait(&set, nullptr, &wait) > 0) {
      failure = Status::FailedPrecondition("interrupted; run the same command again to resume");
      break;
    }
  }
  if (tty) std::cout << "\n";
  std::optional<std::vector<ResultRow>> results;
  if (failure.ok()) {
    auto r = CallCoordinator(cluster.control_endpoint(), {{"op", "results"}, {"sweep", sweep}});
    if (r.ok()) {
      auto rows = ParseResultRows((*r)["results"], "the coordinator's results");
      if (rows.ok()) results = std::move(*rows);
    }
  }
  // The reasons of failed jobs, distinct, while the coordinator is still up:
  // a job that can never run (a store without video for an audiovisual
  // variant, a bad path) is explained here rather than only in the record.
  std::vector<std::string> failure_reasons;
  if (failure.ok() && status["states"].value("failed", int64_t{0}) > 0) {
    auto jobs = CallCoordinator(cluster.control_endpoint(), {{"op", "jobs"}, {"sweep", sweep}, {"state", "failed"}});
    if (jobs.ok()) {
      for (const auto& j : (*jobs).value("jobs", Json::array())) {
        const std::string reason = j.value("reason", "");
        if (!reason.empty() && failure_reasons.size() < 3 &&
            std::find(failure_reasons.begin(), failure_reasons.end(), reason) == failure_reasons.end()) {
          failure_reasons.push_back(reason);
        }
      }
    }
  }
  Status stopped = cluster.Stop();
  if (!failure.ok()) return ReportError(failure);
  if (vm["json"].as<bool>()) {
    std::cout << status.dump(2) << "\n";
  } else {
    std::cout << RenderSweepStatus(status);
    if (results) std::cout << "test " << vm["metric"].as<std::string>() << " per variant:\n"
                           << RenderResultSummary(*results, vm["metric"].as<std::string>());
    std::cout << fmt::format("record: {}\n", cluster.db_path());
  }
  auto report = WriteSweepReport(cluster.db_path(), sweep, (fs::path(o.run_dir) / "report").string());
  if (!report.ok()) return ReportError(report.status());
  if (!vm["json"].as<bool>()) std::cout << "report: " << *report << "\n";
  if (!stopped.ok()) ctx.log->Warn("stopping the local cluster: {}", stopped.ToString());
  const int64_t failed = status["states"].value("failed", int64_t{0});
  if (failed > 0) {
    for (const auto& reason : failure_reasons) std::cerr << "failed: " << reason << "\n";
    return ReportError(Status::FailedPrecondition(fmt::format(
        "{} job(s) failed; see avctl jobs {} --state failed --coordinator ... or the record", failed, sweep)));
  }
  return kExitOk;
}

int RunPlan(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep plan options");
  desc.add_options()("help,h", "show this help")("spec", po::value<std::string>()->required(), "sweep spec (JSON)")(
      "pilot", po::value<std::string>()->required(), "the pilot sweep (id or name) in the record")(
      "db", po::value<std::string>()->default_value("avctl.db"), "the coordinator's SQLite record (read only)")(
      "json", po::bool_switch(), "print the plan as JSON");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep plan SPEC.json --pilot SWEEP [--db FILE]", &vm, &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  SweepSpec spec;
  std::vector<ExpandedJob> jobs;
  if (auto raw = LoadSpec(vm["spec"].as<std::string>(), &spec, &jobs); !raw.ok()) return ReportError(raw.status());
  auto pilot = LoadSweepFromRecord(vm["db"].as<std::string>(), vm["pilot"].as<std::string>());
  if (!pilot.ok()) return ReportError(pilot.status());
  const SweepPlan plan = PlanSweep(spec, AnalyzeReport(*pilot), pilot->sweep_name);
  if (vm["json"].as<bool>()) {
    Json rows = Json::array();
    for (const auto& r : plan.rows) {
      const SeedPlan& q = r.pilot;
      rows.push_back({{"variant", r.variant}, {"baseline", r.baseline}, {"metric", r.metric},
                      {"in_pilot", r.in_pilot}, {"pilot_pairs", q.n}, {"observed", q.observed}, {"sd", q.sd},
                      {"pairs", q.pairs}, {"pairs_holm", q.pairs_holm}, {"min_effect", q.min_effect},
                      {"pairs_min_effect", q.pairs_min_effect}, {"pairs_min_effect_holm", q.pairs_min_effect_holm},
                      {"spec_pairs", r.spec_pairs}, {"power_at_spec_holm", r.power_at_spec},
                      {"power_min_effect_at_spec_holm", r.power_min_effect_at_spec}});
    }
    std::cout << Json{{"spec", plan.spec_name}, {"pilot", plan.pilot_name}, {"alpha", plan.alpha},
                      {"family", plan.family}, {"comparisons", rows}}.dump(2)
              << "\n";
  } else {
    std::cout << RenderSweepPlan(plan);
  }
  return kExitOk;
}

int RunDesign(const std::vector<std::string>& args, Context& ctx) {
  po::options_description desc("avctl sweep design options");
  desc.add_options()("help,h", "show this help")("spec", po::value<std::string>()->required(),
                                                 "sweep spec (JSON) with a \"sequential\" member")(
      "pilot", po::value<std::string>(), "a pilot sweep (id or name) in the record: power and expected pairs")(
      "db", po::value<std::string>()->default_value("avctl.db"), "the coordinator's SQLite record (read only)")(
      "json", po::bool_switch(), "print the design as JSON");
  AddLogOptions(&desc);
  po::positional_options_description pos;
  pos.add("spec", 1);
  po::variables_map vm;
  int code = 0;
  if (!ParseArgs(args, desc, pos, "usage: avctl sweep design SPEC.json [--pilot SWEEP [--db FILE]] [--json]", &vm,
                 &code)) {
    return code;
  }
  if (Status s = ApplyLogOptions(vm, ctx.log); !s.ok()) return ReportError(s);
  SweepSpec spec;
  std::vector<ExpandedJob> jobs;
  const std::string spec_path = vm["spec"].as<std::string>();
  if (auto raw = LoadSpec(spec_path, &spec, &jobs); !raw.ok()) return ReportError(raw.status());
  std::optional<ReportAnalysis> pilot;
  std::string pilot_name;
  if (vm.count("pilot")) {
    auto data = LoadSweepFromRecord(vm["db"].as<std::string>(), vm["pilot"].as<std::string>());
    if (!data.ok()) return ReportError(data.status());
    pilot = AnalyzeReport(*data);
    pilot_name = data->sweep_name;
  }
  auto design = DesignSweep(spec, pilot ? &*pilot : nullptr, pilot_name);
  if (!design.ok()) return ReportError(Status(design.status()).WithFile(spec_path));
  if (vm["json"].as<bool>()) {
    std::cout << SweepDesignJson(*design).dump(2) << "\n";
  } else {
    std::cout << RenderSweepDesign(*design);
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
  if (args[0] == "submit") return RunSubmit(rest, ctx);
  if (args[0] == "status") return RunStatus(rest, ctx);
  if (args[0] == "list" || args[0] == "cancel" || args[0] == "retry") return RunSimpleOp(rest, ctx, args[0]);
  if (args[0] == "run") return RunLocal(rest, ctx);
  if (args[0] == "plan") return RunPlan(rest, ctx);
  if (args[0] == "design") return RunDesign(rest, ctx);
  std::cerr << "avctl: error: unknown sweep command '" << args[0] << "'\n" << kSweepUsage << "\n";
  return kExitUsage;
}

}  // namespace avctl::cli
