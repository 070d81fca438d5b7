#include "worker/train_resume.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/version.h"
#include "worker/checkpoint_file.h"

namespace avctl::training {

namespace {

std::string GeneratorState(at::Generator g) {
  std::lock_guard<std::mutex> lock(g.mutex());
  torch::Tensor t = g.get_state().contiguous();
  return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<size_t>(t.numel()));
}

void SetGeneratorState(at::Generator g, const std::string& bytes) {
  torch::Tensor t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  std::lock_guard<std::mutex> lock(g.mutex());
  g.set_state(t);
}

at::Generator CpuGenerator() { return at::globalContext().defaultGenerator(torch::Device(torch::kCPU)); }

TrainState Capture(Run& run, const Loop& loop, const TrainResult& r, const EpochProgress* partial) {
  TrainState s;
  s.job_key = run.job.key;
  s.config = ResumeIdentity(run.job);
  s.code_version = CodeVersion();
  s.attempt_id = run.hooks.checkpoints.attempt_id;
  s.at = {static_cast<int>(r.epochs.size()), partial != nullptr ? partial->batches_done : 0};
  s.params = run.model->parameters();
  s.buffers = run.model->buffers();
  s.adam_steps = run.opt->steps();
  s.exp_avg = run.opt->exp_avg();
  s.exp_avg_sq = run.opt->exp_avg_sq();
  s.param_steps = run.opt->param_steps();
  s.lr = run.opt->lr();
  s.selector = loop.selector.state();
  s.plateau = loop.plateau.state();
  s.has_best = loop.has_best;
  s.best_params = loop.best.params;
  s.best_buffers = loop.best.buffers;
  if (partial != nullptr) {
    s.modality_rng = partial->modality;
    s.ablation_rng = partial->ablation;
    const EpochSums& sums = partial->sums;
    s.partial.sums = {sums.loss, sums.sup, sums.uns, sums.first_bad, sums.bad_value};
    for (const auto& [name, v] : sums.costs) {
      s.partial.cost_names.push_back(name);
      s.partial.sums.push_back(v);
    }
    s.partial.clips = partial->clips;
    s.partial.data_wait_seconds = partial->wait;
    s.partial.train_seconds = partial->train_seconds;
  } else {
    std::tie(s.modality_rng, s.ablation_rng) = run.steps->state();
  }
  s.cpu_generator = GeneratorState(CpuGenerator());
  if (run.place.dev.cuda) s.cuda_generator = GeneratorState(at::globalContext().defaultGenerator(run.place.dev.device));
  s.epochs = r.epochs;
  s.train_seconds = loop.train_seconds;
  s.data_wait_seconds = loop.wait_seconds;
  s.train_clips_seen = loop.train_clips_seen;
  return s;
}

Status CopyInto(const std::vector<torch::Tensor>& into, const std::vector<torch::Tensor>& from, const char* what) {
  if (into.size() != from.size()) {
    return Status::InvalidArgument(fmt::format("the checkpoint holds {} {}, the job's model {}", from.size(), what,
                                               into.size()));
  }
  for (size_t i = 0; i < into.size(); ++i) {
    if (into[i].sizes() != from[i].sizes()) {
      return Status::InvalidArgument(fmt::format("{} {} has shape [{}] in the checkpoint, [{}] in the job's model",
                                                 what, i, fmt::join(from[i].sizes(), ", "),
                                                 fmt::join(into[i].sizes(), ", ")));
    }
  }
  torch::NoGradGuard no_grad;
  for (size_t i = 0; i < into.size(); ++i) into[i].copy_(from[i]);
  return Status::OK();
}

std::vector<torch::Tensor> OnDevice(const std::vector<torch::Tensor>& ts, const torch::Device& device) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) out.push_back(t.to(device));
  return out;
}

}  // namespace

Status Apply(Run& run, Loop& loop, TrainResult* r, EpochProgress* partial, const TrainState& s) {
  const torch::Device device = run.place.dev.device;
  AVCTL_RETURN_IF_ERROR(CopyInto(run.model->parameters(), s.params, "parameters"));
  AVCTL_RETURN_IF_ERROR(CopyInto(run.model->buffers(), s.buffers, "buffers"));
  AVCTL_RETURN_IF_ERROR(run.opt->Restore(s.adam_steps, s.exp_avg, s.exp_avg_sq, s.param_steps));
  run.opt->set_lr(s.lr);
  loop.selector.set_state(s.selector);
  loop.plateau.set_state(s.plateau);
  loop.has_best = s.has_best;
  if (s.has_best) loop.best = {OnDevice(s.best_params, device), OnDevice(s.best_buffers, device)};
  run.steps->set_state(s.modality_rng, s.ablation_rng);
  SetGeneratorState(CpuGenerator(), s.cpu_generator);
  if (run.place.dev.cuda && !s.cuda_generator.empty()) {
    SetGeneratorState(at::globalContext().defaultGenerator(device), s.cuda_generator);
  }
  r->epochs = s.epochs;
  loop.train_seconds = s.train_seconds;
  loop.wait_seconds = s.data_wait_seconds;
  loop.train_clips_seen = s.train_clips_seen;
  if (s.at.batches > 0) {
    partial->batches_done = s.at.batches;
    const std::vector<torch::Tensor> sums = OnDevice(s.partial.sums, device);
    partial->sums.loss = sums[0];
    partial->sums.sup = sums[1];
    partial->sums.uns = sums[2];
    partial->sums.first_bad = sums[3];
    partial->sums.bad_value = sums[4];
    for (size_t i = 0; i < s.partial.cost_names.size(); ++i) partial->sums.costs[s.partial.cost_names[i]] = sums[5 + i];
    partial->clips = s.partial.clips;
    partial->wait = s.partial.data_wait_seconds;
    partial->train_seconds = s.partial.train_seconds;
  }
  return Status::OK();
}

std::optional<std::pair<std::string, TrainState>> FindResume(const JobConfig& job, const CheckpointPolicy& policy,
                                                             Logger* log, TrainResult* r) {
  std::vector<FoundCheckpoint> candidates;
  if (!policy.dir.empty()) {
    if (auto found = LatestCheckpoint(policy.dir, &r->skipped_checkpoints)) candidates.push_back(std::move(*found));
  }
  if (!policy.resume_hint.empty()) {
    const std::string name = std::filesystem::path(policy.resume_hint).filename().string();
    const bool elsewhere =
        std::filesystem::path(policy.resume_hint).parent_path().lexically_normal() !=
        std::filesystem::path(policy.dir).lexically_normal();
    if (elsewhere) {
      std::error_code ec;
      if (!std::filesystem::exists(policy.resume_hint, ec)) {
        log->Info("the last checkpoint of this job, {}, is not reachable from here", policy.resume_hint);
      } else if (auto c = ReadCheckpoint(policy.resume_hint); !c.ok()) {
        r->skipped_checkpoints.push_back(c.status().ToString());
      } else if (auto at = ParseCheckpointFileName(name)) {
        candidates.push_back({policy.resume_hint, *at, std::move(*c)});
      }
    }
  }
  std::sort(candidates.begin(), candidates.end(), [](const auto& a, const auto& b) { return b.at < a.at; });
  const Json identity = ResumeIdentity(job);
  std::optional<std::pair<std::string, TrainState>> chosen;
  for (auto& c : candidates) {
    auto state = DecodeTrainState(c.checkpoint, c.path);
    std::string refused;
    if (!state.ok()) {
      refused = state.status().ToString();
    } else if (state->code_version != CodeVersion()) {
      refused = fmt::format("{}: written by code version {}, this is {}", c.path, state->code_version, CodeVersion());
    } else if (state->job_key != job.key || state->config != identity) {
      refused = fmt::format("{}: written for another job or other settings (job {})", c.path, state->job_key);
    }
    if (refused.empty()) {
      chosen.emplace(c.path, std::move(*state));
      break;
    }
    r->skipped_checkpoints.push_back(refused);
  }
  for (const auto& reason : r->skipped_checkpoints) log->Warn("checkpoint skipped: {}", reason);
  return chosen;
}

void WriteState(Run& run, const Loop& loop, TrainResult* r, const EpochProgress* partial) {
  const CheckpointPolicy& policy = run.hooks.checkpoints;
  if (policy.dir.empty()) return;
  const auto t0 = SteadyClock::now();
  const TrainState state = Capture(run, loop, *r, partial);
  const std::string path = (std::filesystem::path(policy.dir) / CheckpointFileName(state.at)).string();
  std::error_code ec;
  std::filesystem::create_directories(policy.dir, ec);
  Status s = ec ? Status::IOError("cannot create the checkpoint folder: " + ec.message()).WithFile(policy.dir)
                : WriteCheckpoint(path, EncodeTrainState(state));
  if (s.ok()) s = PruneCheckpoints(policy.dir, policy.keep);
  if (!s.ok()) {
    run.log->Warn("checkpoint not written: {}", s.ToString());
    return;
  }
  const double seconds = Seconds(t0, SteadyClock::now());
  const auto bytes = static_cast<int64_t>(std::filesystem::file_size(path, ec));
  ++r->checkpoints_written;
  r->checkpoint_seconds += seconds;
  r->checkpoint_bytes = bytes;
  r->last_checkpoint = path;
  run.log->Debug("checkpoint {} ({} bytes, {:.3f} s)", path, bytes, seconds);
  if (run.hooks.on_checkpoint) {
    run.hooks.on_checkpoint({false, path, state.at.epochs, state.at.batches, bytes, seconds, policy.attempt_id});
  }
}

}  // namespace avctl::training
