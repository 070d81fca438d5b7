#include "worker/train_checkpoint.h"

#include <cstring>
#include <sstream>

#include <fmt/format.h>

namespace avctl {

namespace {

// Doubles of the state (an infinite "best so far" among them) as their bit
// patterns: exact, and JSON has no infinity.
uint64_t Bits(double v) {
  uint64_t b = 0;
  std::memcpy(&b, &v, sizeof(b));
  return b;
}

double FromBits(uint64_t b) {
  double v = 0;
  std::memcpy(&v, &b, sizeof(v));
  return v;
}

std::string SaveTensors(const std::vector<torch::Tensor>& tensors) {
  std::vector<torch::Tensor> cpu;
  cpu.reserve(tensors.size());
  for (const auto& t : tensors) cpu.push_back(t.detach().cpu().contiguous());
  std::ostringstream out;
  torch::save(cpu, out);
  return out.str();
}

Json RngToJson(const RngState& s) {
  return {{"s", {s.s[0], s.s[1], s.s[2], s.s[3]}}, {"spare", Bits(s.spare)}, {"has_spare", s.has_spare}};
}

RngState RngFromJson(const Json& j) {
  RngState s;
  for (int i = 0; i < 4; ++i) s.s[i] = j.at("s").at(i).get<uint64_t>();
  s.spare = FromBits(j.at("spare").get<uint64_t>());
  s.has_spare = j.at("has_spare").get<bool>();
  return s;
}

// Which optimiser moments are defined; the defined ones are stored in order.
std::vector<torch::Tensor> Defined(const std::vector<torch::Tensor>& ts, std::vector<bool>* mask) {
  std::vector<torch::Tensor> out;
  for (const auto& t : ts) {
    mask->push_back(t.defined());
    if (t.defined()) out.push_back(t);
  }
  return out;
}

class Decoder {
 public:
  Decoder(const Checkpoint& c, const std::string& path) : c_(c), path_(path) {}

  Status Bad(const std::string& what) const { return Status::Corruption("checkpoint " + what).WithFile(path_); }

  Result<std::vector<torch::Tensor>> Tensors(const std::string& name) const {
    auto it = c_.sections.find(name);
    if (it == c_.sections.end()) return Bad(fmt::format("has no section '{}'", name));
    std::vector<torch::Tensor> out;
    try {
      std::istringstream in(it->second);
      torch::load(out, in);
    } catch (const c10::Error& e) {
      return Bad(fmt::format("section '{}' does not decode: {}", name, e.what_without_backtrace()));
    }
    return out;
  }

  Result<std::string> Bytes(const std::string& name) const {
    auto it = c_.sections.find(name);
    if (it == c_.sections.end()) return Bad(fmt::format("has no section '{}'", name));
    return it->second;
  }

 private:
  const Checkpoint& c_;
  const std::string& path_;
};

}  // namespace

Json EpochRecordToJson(const EpochRecord& e) {
  return {{"epoch", e.epoch}, {"lr", e.lr}, {"train_loss", e.train_loss}, {"train_sup", e.train_sup},
          {"train_uns", e.train_uns}, {"costs", e.costs}, {"dev_loss", e.dev_loss},
          {"dev_macro_f1", e.dev_macro_f1}, {"dev_accuracy", e.dev_accuracy}, {"seconds", e.seconds},
          {"train_clips", e.train_clips}, {"train_seconds", e.train_seconds},
          {"data_wait_seconds", e.data_wait_seconds}, {"train_clips_per_s", e.train_clips_per_s}};
}

Result<EpochRecord> EpochRecordFromJson(const Json& j, const std::string& field) {
  EpochRecord e;
  try {
    e.epoch = j.at("epoch").get<int>();
    e.lr = j.at("lr").get<double>();
    e.train_loss = j.at("train_loss").get<double>();
    e.train_sup = j.at("train_sup").get<double>();
    e.train_uns = j.at("train_uns").get<double>();
    e.costs = j.at("costs").get<std::map<std::string, double>>();
    e.dev_loss = j.at("dev_loss").get<double>();
    e.dev_macro_f1 = j.at("dev_macro_f1").get<double>();
    e.dev_accuracy = j.at("dev_accuracy").get<double>();
    e.seconds = j.at("seconds").get<double>();
    e.train_clips = j.at("train_clips").get<int64_t>();
    e.train_seconds = j.at("train_seconds").get<double>();
    e.data_wait_seconds = j.at("data_wait_seconds").get<double>();
    e.train_clips_per_s = j.at("train_clips_per_s").get<double>();
  } catch (const Json::exception& ex) {
    return Status::InvalidArgument(fmt::format("{}: {}", field, ex.what())).WithField(field);
  }
  return e;
}

Json ResumeIdentity(const JobConfig& job) {
  Json j = JobConfigToJson(job);
  for (const char* k : {"device", "threads", "checkpoint", "checkpoint_dir"}) j.erase(k);
  if (j.contains("train")) {
    for (const char* k : {"prefetch", "checkpoint_minutes"}) j["train"].erase(k);
  }
  return j;
}

Checkpoint EncodeTrainState(const TrainState& s) {
  Checkpoint c;
  std::vector<bool> moment_mask;
  const std::vector<torch::Tensor> m = Defined(s.exp_avg, &moment_mask);
  std::vector<bool> unused;
  const std::vector<torch::Tensor> v = Defined(s.exp_avg_sq, &unused);
  Json epochs = Json::array();
  for (const auto& e : s.epochs) epochs.push_back(EpochRecordToJson(e));
  c.header = {{"job_key", s.job_key},
              {"config", s.config},
              {"code_version", s.code_version},
              {"attempt_id", s.attempt_id},
              {"epochs_done", s.at.epochs},
              {"batches_done", s.at.batches},
              {"adam_steps", s.adam_steps},
              {"param_steps", s.param_steps},
              {"moments_defined", moment_mask},
              {"lr", Bits(s.lr)},
              {"selector", {{"best", Bits(s.selector.best)}, {"best_epoch", s.selector.best_epoch},
                            {"since_best", s.selector.since_best}}},
              {"plateau", {{"lr", Bits(s.plateau.lr)}, {"best", Bits(s.plateau.best)},
                           {"bad_epochs", s.plateau.bad_epochs}}},
              {"has_best", s.has_best},
              {"modality_rng", RngToJson(s.modality_rng)},
              {"ablation_rng", RngToJson(s.ablation_rng)},
              {"epochs", epochs},
              {"train_seconds", Bits(s.train_seconds)},
              {"data_wait_seconds", Bits(s.data_wait_seconds)},
              {"train_clips_seen", s.train_clips_seen}};
  c.sections["params"] = SaveTensors(s.params);
  c.sections["buffers"] = SaveTensors(s.buffers);
  c.sections["adam_exp_avg"] = SaveTensors(m);
  c.sections["adam_exp_avg_sq"] = SaveTensors(v);
  if (s.has_best) {
    c.sections["best_params"] = SaveTensors(s.best_params);
    c.sections["best_buffers"] = SaveTensors(s.best_buffers);
  }
  c.sections["cpu_generator"] = s.cpu_generator;
  if (!s.cuda_generator.empty()) c.sections["cuda_generator"] = s.cuda_generator;
  if (s.at.batches > 0) {
    c.header["partial"] = {{"cost_names", s.partial.cost_names}, {"clips", s.partial.clips},
                           {"data_wait_seconds", Bits(s.partial.data_wait_seconds)},
                           {"train_seconds", Bits(s.partial.train_seconds)}};
    c.sections["partial_sums"] = SaveTensors(s.partial.sums);
  }
  return c;
}

Result<TrainState> DecodeTrainState(const Checkpoint& c, const std::string& path) {
  Decoder d(c, path);
  TrainState s;
  const Json& h = c.header;
  std::vector<bool> moment_mask;
  try {
    s.job_key = h.at("job_key").get<std::string>();
    s.config = h.at("config");
    s.code_version = h.at("code_version").get<std::string>();
    s.attempt_id = h.at("attempt_id").get<int64_t>();
    s.at.epochs = h.at("epochs_done").get<int>();
    s.at.batches = h.at("batches_done").get<int>();
    s.adam_steps = h.at("adam_steps").get<int64_t>();
    s.param_steps = h.at("param_steps").get<std::vector<int64_t>>();
    moment_mask = h.at("moments_defined").get<std::vector<bool>>();
    s.lr = FromBits(h.at("lr").get<uint64_t>());
    const Json& sel = h.at("selector");
    s.selector = {FromBits(sel.at("best").get<uint64_t>()), sel.at("best_epoch").get<int>(),
                  sel.at("since_best").get<int>()};
    const Json& pl = h.at("plateau");
    s.plateau = {FromBits(pl.at("lr").get<uint64_t>()), FromBits(pl.at("best").get<uint64_t>()),
                 pl.at("bad_epochs").get<int>()};
    s.has_best = h.at("has_best").get<bool>();
    s.modality_rng = RngFromJson(h.at("modality_rng"));
    s.ablation_rng = RngFromJson(h.at("ablation_rng"));
    for (const auto& e : h.at("epochs")) {
      AVCTL_ASSIGN_OR_RETURN(EpochRecord rec, EpochRecordFromJson(e, "epochs"));
      s.epochs.push_back(rec);
    }
    s.train_seconds = FromBits(h.at("train_seconds").get<uint64_t>());
    s.data_wait_seconds = FromBits(h.at("data_wait_seconds").get<uint64_t>());
    s.train_clips_seen = h.at("train_clips_seen").get<int64_t>();
    if (s.at.batches > 0) {
      const Json& p = h.at("partial");
      s.partial.cost_names = p.at("cost_names").get<std::vector<std::string>>();
      s.partial.clips = p.at("clips").get<int64_t>();
      s.partial.data_wait_seconds = FromBits(p.at("data_wait_seconds").get<uint64_t>());
      s.partial.train_seconds = FromBits(p.at("train_seconds").get<uint64_t>());
    }
  } catch (const Json::exception& e) {
    return d.Bad(std::string("header is incomplete: ") + e.what());
  }
  AVCTL_ASSIGN_OR_RETURN(s.params, d.Tensors("params"));
  AVCTL_ASSIGN_OR_RETURN(s.buffers, d.Tensors("buffers"));
  AVCTL_ASSIGN_OR_RETURN(std::vector<torch::Tensor> m, d.Tensors("adam_exp_avg"));
  AVCTL_ASSIGN_OR_RETURN(std::vector<torch::Tensor> v, d.Tensors("adam_exp_avg_sq"));
  if (m.size() != v.size() || s.param_steps.size() != moment_mask.size()) {
    return d.Bad("optimiser sections disagree with the header");
  }
  size_t next = 0;
  for (bool defined : moment_mask) {
    if (defined && next >= m.size()) return d.Bad("optimiser sections hold fewer moments than the header lists");
    s.exp_avg.push_back(defined ? m[next] : torch::Tensor());
    s.exp_avg_sq.push_back(defined ? v[next] : torch::Tensor());
    if (defined) ++next;
  }
  if (next != m.size()) return d.Bad("optimiser sections hold more moments than the header lists");
  if (s.has_best) {
    AVCTL_ASSIGN_OR_RETURN(s.best_params, d.Tensors("best_params"));
    AVCTL_ASSIGN_OR_RETURN(s.best_buffers, d.Tensors("best_buffers"));
  }
  AVCTL_ASSIGN_OR_RETURN(s.cpu_generator, d.Bytes("cpu_generator"));
  if (c.sections.count("cuda_generator")) s.cuda_generator = c.sections.at("cuda_generator");
  if (s.at.batches > 0) {
    AVCTL_ASSIGN_OR_RETURN(s.partial.sums, d.Tensors("partial_sums"));
    if (s.partial.sums.size() != 5 + s.partial.cost_names.size()) return d.Bad("partial epoch sums are incomplete");
  }
  return s;
}

}  // namespace avctl
