#include "coordinator/control_api.h"

#include <fmt/format.h>

#include "common/clock.h"
#include "common/guard.h"
#include "common/version.h"
#include "sweeps/sweep_spec.h"

namespace avctl {

namespace {

// The most events one request reads.
constexpr int64_t kMaxEvents = 1000;

// A reply's fields under one key, from a read model of the record.
Result<Json> Under(const char* key, Result<Json> r) {
  if (!r.ok()) return r.status();
  return Json{{key, std::move(*r)}};
}

}  // namespace

ControlApi::ControlApi(Record* record, WorkerBroker* broker, Logger* log, SequentialScheduler* sequential)
    : record_(record), broker_(broker), log_(log), sequential_(sequential), started_(std::chrono::steady_clock::now()) {}

const std::vector<ControlApi::Op>& ControlApi::Ops() {
  using R = Result<Json>;
  static const std::vector<Op> kOps = {
      {"ping", true,
       [](ControlApi& c, const Json&) -> R {
         const double uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - c.started_).count();
         return Json{{"version", CodeVersion()}, {"uptime_seconds", uptime}, {"workers", c.broker_->connected()},
                     {"queued", c.broker_->queued()}, {"record", c.RecordHealth()}};
       }},
      {"submit", false, [](ControlApi& c, const Json& req) { return c.Submit(req); }},
      {"list", true,
       [](ControlApi& c, const Json&) -> R {
         AVCTL_ASSIGN_OR_RETURN(Json sweeps, c.record_->ListSweeps());
         const auto unrunnable = c.broker_->UnrunnableBySweep();
         for (auto& s : sweeps) {
           auto it = unrunnable.find(s.value("id", int64_t{0}));
           if (it != unrunnable.end()) s["unrunnable"] = it->second;
         }
         return Json{{"sweeps", std::move(sweeps)}, {"record", c.RecordHealth()}};
       }},
      {"status", true,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(Json status, c.record_->SweepStatus(id, UnixSeconds()));
         status["unrunnable"] = c.broker_->Unrunnable(id);
         if (c.sequential_ != nullptr && c.sequential_->IsSequential(id)) {
           AVCTL_ASSIGN_OR_RETURN(Json seq, c.SequentialStatus(id));
           status["sequential"] = std::move(seq);
         }
         return Json{{"status", std::move(status)}, {"record", c.RecordHealth()}};
       }},
      {"jobs", true,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(std::string state, GetStringOr(req, "state", "request", ""));
         return Under("jobs", c.record_->Jobs(id, state));
       }},
      {"results", true,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(auto rows, c.record_->Results(id));
         return Json{{"results", ResultRowsToJson(rows)}};
       }},
      {"code_versions", true,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(std::string name, GetString(req, "name", "request"));
         return Under("code_versions", c.record_->CodeVersions(name));
       }},
      {"cancel", false,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         AVCTL_ASSIGN_OR_RETURN(auto fs, c.record_->CancelSweep(id, UnixSeconds()));
         for (const auto& f : fs) {
           c.broker_->Dequeue(f.job_id);
           c.broker_->ApplyFollowup(f);
         }
         return Json{{"cancelled", fs.size()}};
       }},
      {"retry", false,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t id, c.SweepOf(req));
         const bool sequential = c.sequential_ != nullptr && c.sequential_->IsSequential(id);
         AVCTL_ASSIGN_OR_RETURN(auto out, c.record_->RetrySweep(id, UnixSeconds(), sequential));
         c.broker_->Enqueue(out.queued);
         if (sequential) {
           // Held again; the looks release what they need (Process, below).
           c.sequential_->Touch(id);
           c.sequential_->Process();
         }
         return Json{{"requeued", out.retried}};
       }},
      {"workers", true,
       [](ControlApi& c, const Json&) -> R {
         AVCTL_ASSIGN_OR_RETURN(Json w, c.record_->Workers());
         for (auto& row : w) {
           const WorkerSession* s = c.broker_->Session(row["id"].get<std::string>());
           row["connected"] = s != nullptr;
           row["accepting"] = s != nullptr && s->accepting;
           if (s != nullptr && !s->held.empty()) row["held"] = s->held;
         }
         return Json{{"workers", std::move(w)}};
       }},
      {"events", true,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(int64_t after, GetIntOr(req, "after", "request", 0));
         AVCTL_ASSIGN_OR_RETURN(int64_t limit, GetIntOr(req, "limit", "request", 100));
         if (limit < 1 || limit > kMaxEvents) {
           return Status::InvalidArgument(fmt::format("request.limit: expected 1 to {}, got {}", kMaxEvents, limit))
               .WithField("request.limit");
         }
         return Under("events", c.record_->Events(after, static_cast<int>(limit)));
       }},
      {"drain_worker", false,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(std::string id, GetString(req, "worker", "request"));
         AVCTL_RETURN_IF_ERROR(c.broker_->DrainWorker(id));
         return Json{{"worker", id}, {"drained", Json::array({id})}};
       }},
      {"drain_slurm_job", false,
       [](ControlApi& c, const Json& req) -> R {
         AVCTL_ASSIGN_OR_RETURN(std::string job, GetString(req, "slurm_job_id", "request"));
         return Json{{"drained", c.broker_->DrainSlurmJob(job)}};
       }},
  };
  return kOps;
}

const ControlApi::Op* ControlApi::Find(const Json& request) {
  if (!request.is_object() || !request.contains("op") || !request["op"].is_string()) return nullptr;
  const std::string& name = request["op"].get_ref<const std::string&>();
  for (const Op& op : Ops()) {
    if (name == op.name) return &op;
  }
  return nullptr;
}

bool ControlApi::ReadOnly(const Json& request) const {
  const Op* op = Find(request);
  return op != nullptr && op->read_only;
}

Result<Json> ControlApi::Handle(const Json& request) {
  AVCTL_ASSIGN_OR_RETURN(std::string name, GetString(request, "op", "request"));
  const Op* op = Find(request);
  if (op == nullptr) {
    std::string known;
    for (const Op& o : Ops()) known += (known.empty() ? "" : ", ") + std::string(o.name);
    return Status::InvalidArgument(fmt::format("unknown op \"{}\" (expected {})", name, known)).WithField("request.op");
  }
  Result<Json> out = Status::Internal("unset");
  Status guard = RunGuarded([&] { return fmt::format("control op \"{}\"", name); }, [&] { out = op->run(*this, request); });
  if (!guard.ok()) return guard;  // a bug, answered as an error instead of ending the coordinator
  return out;
}

Json ControlApi::RecordHealth() const {
  Json j = {{"writable", broker_->paused().empty()}};
  if (!broker_->paused().empty()) j["reason"] = broker_->paused();
  return j;
}

Result<int64_t> ControlApi::SweepOf(const Json& req) {
  // "sweep": a name or an id, the id as a number or as its digits.
  auto it = req.find("sweep");
  if (it != req.end() && it->is_number_integer()) return record_->ResolveSweep(std::to_string(it->get<int64_t>()));
  AVCTL_ASSIGN_OR_RETURN(std::string ref, GetString(req, "sweep", "request"));
  return record_->ResolveSweep(ref);
}

Result<Json> ControlApi::SequentialStatus(int64_t sweep_id) {
  Json out = {{"looks_analysed", 0}};
  if (std::string why = sequential_->Broken(sweep_id); !why.empty()) out["error"] = why;
  AVCTL_ASSIGN_OR_RETURN(SequentialSweepRow row, record_->SequentialSweepOf(sweep_id));
  out["design"] = row.spec["sequential"];
  AVCTL_ASSIGN_OR_RETURN(std::vector<SequentialLook> looks, record_->SequentialLooks(sweep_id));
  out["looks_analysed"] = looks.size();
  Json list = Json::array();
  for (const auto& l : looks) list.push_back(SequentialLookToJson(l));
  out["looks"] = std::move(list);
  return out;
}

Result<Json> ControlApi::Submit(const Json& req) {
  const double now = UnixSeconds();
  AVCTL_ASSIGN_OR_RETURN(const Json* spec_json, GetMember(req, "spec", "request"));
  AVCTL_ASSIGN_OR_RETURN(const std::string source, GetStringOr(req, "source", "request", "submitted spec"));
  // Parsed and expanded once here: this process cannot take a client's word for it.
  AVCTL_ASSIGN_OR_RETURN(SweepSpec spec, ParseSweepSpec(*spec_json, source));
  if (spec.sequential && sequential_ == nullptr) {
    return Status::FailedPrecondition("this coordinator runs no interim looks").WithField("sequential").WithFile(source);
  }
  AVCTL_ASSIGN_OR_RETURN(std::vector<ExpandedJob> jobs, ExpandSweep(spec));
  AVCTL_ASSIGN_OR_RETURN(SubmitOutcome out, record_->SubmitSweep(spec, *spec_json, jobs, source, now));
  AVCTL_ASSIGN_OR_RETURN(auto queued, record_->QueuedJobs());
  broker_->Enqueue(queued);
  if (spec.sequential) {
    // Releases the stages its looks allow (the first; all of a group in no
    // comparison) in this same round.
    sequential_->OnSubmitted(out.sweep_id);
    if (std::string why = sequential_->Broken(out.sweep_id); !why.empty()) {
      return Status::Internal("the sweep was stored but its looks cannot run: " + why).WithFile(source);
    }
    sequential_->Process();
  }
  log_->Info("sweep {} (id {}) submitted: {} jobs, {} new", spec.name, out.sweep_id, out.total, out.added);
  return Json{{"sweep_id", out.sweep_id}, {"name", spec.name}, {"new_sweep", out.new_sweep},
              {"jobs", out.total}, {"added", out.added}, {"existing", out.existing}};
}

}  // namespace avctl
