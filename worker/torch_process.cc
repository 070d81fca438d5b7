#include "worker/torch_process.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include "common/parallel.h"

namespace avctl {

Result<TorchProcess> SetUpTorchProcess(const std::string& device, bool deterministic, int threads) {
  TorchProcess p;
  p.threads = ResolveThreads(threads);
  torch::set_num_threads(p.threads);
  AVCTL_ASSIGN_OR_RETURN(p.device, OpenDevice(device, deterministic));
  p.device_name = device;
  p.deterministic = deterministic;
  return p;
}

Result<TorchProcess> SetUpTorchProcess(const JobConfig& job) {
  return SetUpTorchProcess(job.device, job.train.deterministic, job.threads);
}

Status CheckTorchProcess(const TorchProcess& process, const JobConfig& job) {
  std::string what;
  if (process.device_name != job.device) {
    what = fmt::format("device {} (the process: {})", job.device, process.device_name);
  } else if (process.deterministic != job.train.deterministic) {
    what = fmt::format("train.deterministic {} (the process: {})", job.train.deterministic, process.deterministic);
  } else if (const int want = ResolveThreads(job.threads); want != process.threads) {
    what = fmt::format("{} threads (the process: {})", want, process.threads);
  } else if (torch::get_num_threads() != process.threads) {
    what = fmt::format("{} threads, but torch's thread count was changed to {} after the setup", process.threads,
                       torch::get_num_threads());
  } else {
    return Status::OK();
  }
  return Status::FailedPrecondition(
      fmt::format("the job asks for {}: set the process up for it (SetUpTorchProcess) before TrainJob", what));
}

}  // namespace avctl
