#include "worker/program_env.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

namespace avctl {

namespace {

std::vector<std::string> SplitCommas(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    const size_t comma = s.find(',', start);
    const size_t end = comma == std::string::npos ? s.size() : comma;
    std::string item = s.substr(start, end - start);
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    if (!item.empty()) out.push_back(item);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string Upper(std::string s) {
  for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

Result<std::string> VisibleDevices(const std::string& device, const std::string* inherited) {
  if (device == "cpu") return std::string();
  int index = 0;
  if (device.rfind("cuda:", 0) == 0) index = std::atoi(device.c_str() + 5);
  if (inherited == nullptr) return std::to_string(index);
  const std::vector<std::string> list = SplitCommas(*inherited);
  if (index < 0 || static_cast<size_t>(index) >= list.size()) {
    return Status::InvalidArgument(fmt::format("the worker's device {} is not in its CUDA_VISIBLE_DEVICES \"{}\"",
                                               device, *inherited))
        .WithField("CUDA_VISIBLE_DEVICES");
  }
  return list[static_cast<size_t>(index)];
}

Result<std::map<std::string, std::string>> ProgramVariables(const ProgramSetup& s,
                                                            const std::string* inherited_visible_devices) {
  std::map<std::string, std::string> v;
  v["AVCTL_CONTRACT"] = std::to_string(kJobContractVersion);
  v["AVCTL_CONFIG"] = s.config_path;
  v["AVCTL_RESULT"] = s.result_path;
  v["AVCTL_PROGRESS"] = s.progress_path;
  v["AVCTL_CHECKPOINT_DIR"] = s.checkpoint_dir;
  v["AVCTL_OUTPUT_DIR"] = s.output_dir;
  v["AVCTL_JOB_KEY"] = s.job->key;
  v["AVCTL_SEED"] = std::to_string(s.job->seed);
  v["AVCTL_PARTITION"] = std::to_string(s.job->partition);
  v["AVCTL_ATTEMPT"] = std::to_string(s.attempt);
  v["AVCTL_ATTEMPT_TOKEN"] = s.token;
  if (!s.dataset_dir.empty()) v["AVCTL_DATASET"] = s.dataset_dir;
  AVCTL_ASSIGN_OR_RETURN(v["CUDA_VISIBLE_DEVICES"], VisibleDevices(s.device, inherited_visible_devices));
  const std::string threads = std::to_string(std::max(1, s.threads));
  for (const char* name : {"OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) v[name] = threads;
  v["PYTHONUNBUFFERED"] = "1";
  for (const auto& [name, value] : s.job->env) v[name] = value;  // the job's own settings win
  return v;
}

std::vector<std::string> ProgramEnvironment(const std::vector<std::string>& inherited,
                                            const std::map<std::string, std::string>& variables) {
  std::vector<std::string> env;
  for (const std::string& entry : inherited) {
    const std::string name = entry.substr(0, entry.find('='));
    // An AVCTL_ variable of the worker's own (a worker run by a job) would mislead the program.
    if (variables.count(name) || name.rfind("AVCTL_", 0) == 0) continue;
    env.push_back(entry);
  }
  for (const auto& [name, value] : variables) env.push_back(name + "=" + value);
  return env;
}

Json ProgramConfig(const ProgramSetup& s) {
  return {{"contract", kJobContractVersion},
          {"job_key", s.job->key},
          {"attempt", s.attempt},
          {"seed", s.job->seed},
          {"partition", s.job->partition},
          {"params", s.job->params},
          {"dataset", s.dataset_dir.empty() ? Json() : Json(s.dataset_dir)},
          {"dataset_spec", s.dataset_spec},
          {"result", s.result_path},
          {"progress", s.progress_path},
          {"checkpoint_dir", s.checkpoint_dir},
          {"output_dir", s.output_dir},
          {"device", s.device == "cpu" ? "cpu" : "cuda"},
          {"threads", std::max(1, s.threads)}};
}

bool IsSecretName(const std::string& name) {
  const std::string n = Upper(name);
  if (n == "AVCTL_ATTEMPT_TOKEN") return false;  // a marker, not a secret
  for (const char* suffix : {"_KEY", "_TOKEN", "_SECRET"}) {
    if (EndsWith(n, suffix)) return true;
  }
  for (const char* part : {"PASSWORD", "PASSWD", "SECRET", "CREDENTIAL", "API_KEY", "ACCESS_KEY"}) {
    if (n.find(part) != std::string::npos) return true;
  }
  return false;
}

Json RedactedVariables(const std::map<std::string, std::string>& variables) {
  Json out = Json::object();
  for (const auto& [name, value] : variables) out[name] = IsSecretName(name) ? "(redacted)" : value;
  return out;
}

}  // namespace avctl
