// avworker: the worker side of avctl: the device report, the data path
// check, the single-job trainer (`avworker train`) and the daemon that takes
// jobs from the coordinator (`avworker serve`, worker/daemon.h).
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <boost/program_options.hpp>
#include <fmt/format.h>
#include <ATen/Version.h>
#include <torch/torch.h>

#include "common/file_util.h"
#include "common/heap_tuning.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/parallel.h"
#include "common/progress_event.h"
#include "common/version.h"
#include "store/feature_store.h"
#include "store/synth_dataset.h"
#include "worker/daemon.h"
#include "worker/device.h"
#include "worker/gpu_query.h"
#include "worker/torch_build.h"
#include "worker/store_batches.h"
#include "worker/checkpoint_file.h"
#include "worker/trainer.h"

#include <unistd.h>

namespace po = boost::program_options;

namespace {

constexpr const char* kUsage =
    "usage: avworker <command> [options]\n"
    "\n"
    "commands:\n"
    "  info         libtorch version, threads and CUDA devices of this machine\n"
    "  load-check   read every clip of a store into z-normalised batches and time it\n"
    "  train        train and evaluate one job: avworker train --job JOB.json --store DIR --out RESULT.json\n"
    "               (or --dataset DATASET.json [--cache DIR] for a dataset as written in a sweep spec)\n"
    "               [--checkpoint-dir DIR]: resumable checkpoints of the job, resumed from when present;\n"
    "               SIGTERM or SIGINT stops it at the next batch boundary with a checkpoint (exit code 3)\n"
    "  serve        the worker daemon: avworker serve --coordinator tcp://HOST:5555 --id ID --work-dir DIR\n"
    "               [--slots N] [--device auto|cpu|cuda:N] [--threads N per job] [--noop]\n"
    "               [--checkpoint-dir DIR: shared by the workers of a sweep; default WORK_DIR/checkpoints]\n"
    "               SIGTERM or SIGINT: every running job checkpoints and is reported preempted, then it exits\n"
    "               Runs built-in models (train) and researchers' programs (command jobs, docs/JOBS.md: their\n"
    "               logs and outputs under WORK_DIR/outputs/, SIGTERM to the program, SIGKILL to all of it\n"
    "               after --stop-timeout)\n"
    "\n"
    "Every command takes --threads N (intra-op threads for libtorch; default: all cores).";

int Fail(const std::string& msg) {
  std::cerr << "avworker: error: " << msg << "\n";
  return 1;
}

void SetThreads(int threads) {
  torch::set_num_threads(avctl::ResolveThreads(threads));  // libtorch's own default here is 1
}

int RunInfo(int threads) {
  SetThreads(threads);
  // What this binary was built against, and what it finds: what a user
  // compares with the supported builds (README, "Supported builds").
  const avctl::TorchBuild build = avctl::ParseTorchBuild(at::show_config());
  auto driver = avctl::ReadFileToString("/proc/driver/nvidia/version");
  const std::string driver_version = driver.ok() ? avctl::ParseNvidiaDriverVersion(*driver) : "";
  std::cout << fmt::format(
      "avworker {}\nlibtorch {}.{}.{}\nlibtorch CUDA {}\nlibtorch cuDNN {}\nC++11 string ABI {}\n"
      "avworker CUDA code {}\nNVIDIA driver {}\nintra-op threads {}\ncuda available {}\ncuda devices {}\n",
      avctl::CodeVersion(), TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR, TORCH_VERSION_PATCH,
      build.cuda ? (build.cuda_version.empty() ? std::string("yes") : build.cuda_version) : std::string("none (CPU only)"),
      build.cudnn_version.empty() ? "none" : build.cudnn_version, _GLIBCXX_USE_CXX11_ABI ? "yes" : "no (pre-C++11)",
      avctl::WorkerCudaCode() ? "compiled in" : "not compiled in (a CPU libtorch)",
      driver_version.empty() ? "none found" : driver_version, torch::get_num_threads(),
      torch::cuda::is_available() ? "yes" : "no", torch::cuda::device_count());
  return 0;
}

int RunLoadCheck(const std::string& dir, int partition, int batch_size, int threads) {
  SetThreads(threads);
  auto store = avctl::FeatureStore::Open(dir);
  if (!store.ok()) return Fail(store.status().ToString());
  auto batches = avctl::StoreBatches::Create(store->get(), partition);
  if (!batches.ok()) return Fail(batches.status().ToString());
  auto start = std::chrono::steady_clock::now();
  int64_t clips = 0, frames = 0;
  double sum = 0, sumsq = 0;
  int64_t count = 0;
  auto train = (*store)->ClipsInSplit(partition, avctl::Split::kTrain);
  if (!train.ok()) return Fail(train.status().ToString());
  for (size_t i = 0; i < train->size(); i += batch_size) {
    std::vector<size_t> idx(train->begin() + i, train->begin() + std::min(train->size(), i + batch_size));
    auto b = batches->Make(idx);
    if (!b.ok()) return Fail(b.status().ToString());
    auto valid = b->audio.masked_select(b->audio_pad.logical_not().unsqueeze(-1)).to(torch::kFloat64);
    if (!torch::isfinite(b->visual).all().item<bool>() || !torch::isfinite(valid).all().item<bool>()) {
      return Fail(fmt::format("non-finite values in the batch starting at Train clip {}", i));
    }
    sum += valid.sum().item<double>();
    sumsq += valid.square().sum().item<double>();
    count += valid.numel();
    clips += static_cast<int64_t>(idx.size());
    frames += b->audio_len.sum().item<int64_t>() + b->visual_len.sum().item<int64_t>();
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  double mean = count ? sum / count : 0, var = count ? sumsq / count - mean * mean : 0;
  std::cout << fmt::format(
      "partition {} Train: {} clips, {} frames in {:.2f} s ({:.0f} clips/s); normalised audio mean {:.4f}, std {:.4f} "
      "(expected 0 and 1)\n",
      partition, clips, frames, secs, clips / std::max(secs, 1e-9), mean, std::sqrt(std::max(var, 0.0)));
  return 0;
}

// The terminal's progress bar. The step's loss is not shown: reading it back
// every step would stall a GPU; the epoch's losses follow when it ends.
void Progress(int epochs, const avctl::StepReport& s) {
  const int width = 30;
  const int filled = s.batches > 0 ? width * s.batch / s.batches : width;
  std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d", s.epoch, epochs, std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), s.batch, s.batches);
  if (s.batch == s.batches) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

// SIGTERM and SIGINT ask `train` to stop at its next batch boundary with a
// checkpoint: they are blocked in every thread (before libtorch starts its
// own) and waited for on one thread, which sets the flag the trainer reads.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    ::pthread_sigmask(SIG_BLOCK, &set_, nullptr);
    thread_ = std::thread([this] {
      const timespec tick = {0, 100 * 1000 * 1000};
      while (!done_) {
        const int sig = ::sigtimedwait(&set_, nullptr, &tick);
        if (sig > 0) {
          signal_ = sig;
          stop_ = true;
        }
      }
    });
  }
  ~StopSignals() {
    done_ = true;
    thread_.join();
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  const std::atomic<bool>* flag() const { return &stop_; }
  int signal() const { return signal_; }

 private:
  sigset_t set_;
  std::atomic<bool> stop_{false}, done_{false};
  std::atomic<int> signal_{0};
  std::thread thread_;
};

// Exit code of a run stopped by SIGTERM/SIGINT that left a checkpoint to resume from.
constexpr int kPreemptedExit = 3;

int RunTrain(const po::variables_map& vm) {
  StopSignals signals;
  // The result's compute_seconds: this process's work on the job, from here
  // (reading the job, opening the store) to its result.
  const auto started = std::chrono::steady_clock::now();
  avctl::Logger log(stderr, vm.count("verbose") ? avctl::LogLevel::kDebug : avctl::LogLevel::kInfo);
  if (!vm.count("job") || (!vm.count("store") && !vm.count("dataset")) || !vm.count("out")) {
    return Fail("train needs --job, --store (or --dataset) and --out");
  }
  const std::string out = vm["out"].as<std::string>();
  if (avctl::Status s = avctl::KeepFreedMemoryForReuse(); !s.ok()) log.Warn("train: {}", s.ToString());
  auto job_json = avctl::ReadJsonFile(vm["job"].as<std::string>());
  if (!job_json.ok()) return Fail(job_json.status().ToString());
  auto job = avctl::JobConfigFromJson(*job_json, vm["job"].as<std::string>());
  if (!job.ok()) return Fail(job.status().ToString());
  if (vm["threads"].as<int>() > 0) job->threads = vm["threads"].as<int>();
  if (vm.count("device")) job->device = vm["device"].as<std::string>();

  // kind "job": the job itself is bad (retrying gives the same); "worker": this
  // machine cannot run it (store missing or unreadable here).
  auto fail_kind = [&](const avctl::Status& s, avctl::FailureKind kind) {
    avctl::JobResult failure;
    failure.status = avctl::ResultStatus::kFailed;
    failure.failure_kind = kind;
    failure.reason = s.ToString();
    failure.out_of_memory = s.message().find("out of memory") != std::string::npos;
    failure.config = avctl::JobConfigToJson(*job);
    failure.code_version = avctl::CodeVersion();
    if (avctl::Status w = avctl::WriteJsonFileAtomic(out, avctl::JobResultToJson(failure)); !w.ok()) {
      std::cerr << "avworker: error: " << w.ToString() << "\n";
    }
    return Fail(s.ToString());
  };
  auto fail = [&](const avctl::Status& s) { return fail_kind(s, avctl::FailureKind::kJob); };
  std::string store_dir;
  if (vm.count("store")) {
    store_dir = vm["store"].as<std::string>();
  } else {
    const std::string dataset_path = vm["dataset"].as<std::string>();
    auto dataset = avctl::ReadJsonFile(dataset_path);
    if (!dataset.ok()) return fail_kind(dataset.status(), avctl::FailureKind::kWorker);
    auto dir = avctl::ResolveDatasetStore(*dataset, vm["cache"].as<std::string>(), &log, "dataset");
    if (!dir.ok()) {
      // A bad spec fails the same everywhere; a store this machine cannot build is the worker's.
      if (dir.status().code() == avctl::StatusCode::kInvalidArgument) {
        return fail(avctl::Status(dir.status()).WithFile(dataset_path));
      }
      return fail_kind(dir.status(), avctl::FailureKind::kWorker);
    }
    store_dir = *dir;
  }
  avctl::FeatureStore::Options store_options;
  store_options.verify_checksums = !vm["no-verify"].as<bool>();
  auto store = avctl::FeatureStore::Open(store_dir, store_options);
  if (!store.ok()) return fail_kind(store.status(), avctl::FailureKind::kWorker);
  const int epochs = job->train.epochs;
  avctl::TrainHooks hooks;
  const bool tty = ::isatty(STDERR_FILENO);
  if (tty) hooks.progress = [epochs](const avctl::StepReport& s) { Progress(epochs, s); };
  std::FILE* progress_file = nullptr;
  if (vm.count("progress")) {
    progress_file = std::fopen(vm["progress"].as<std::string>().c_str(), "a");
    if (progress_file == nullptr) {
      return fail_kind(avctl::Status::FromErrno("cannot open the progress file", errno)
                           .WithFile(vm["progress"].as<std::string>()), avctl::FailureKind::kWorker);
    }
  }
  if (vm.count("checkpoint-dir")) {
    hooks.checkpoints.dir = vm["checkpoint-dir"].as<std::string>();
    hooks.checkpoints.every_minutes = job->train.checkpoint_minutes;
    if (vm.count("resume-hint")) hooks.checkpoints.resume_hint = vm["resume-hint"].as<std::string>();
    hooks.checkpoints.attempt_id = vm["attempt"].as<int64_t>();
  }
  hooks.stop = signals.flag();
  // Checkpoints written and resumed from: progress lines the coordinator
  // records per attempt (where the job's last checkpoint is, where each
  // attempt began).
  auto write_progress = [progress_file](const avctl::ProgressEvent& e) {
    std::fprintf(progress_file, "%s\n", avctl::ProgressToJson(e).dump().c_str());
    std::fflush(progress_file);
  };
  hooks.on_checkpoint = [progress_file, write_progress](const avctl::CheckpointEvent& c) {
    if (progress_file == nullptr) return;
    avctl::ProgressCheckpoint at{c.path, c.epochs, c.batches, c.attempt_id, c.bytes, c.seconds};
    avctl::ProgressEvent e;
    e.epoch = c.epochs;
    (c.resumed ? e.resumed : e.checkpoint) = at;
    write_progress(e);
  };
  hooks.on_epoch = [progress_file, epochs, tty, write_progress](const avctl::EpochRecord& e) {
    if (tty) {
      std::fprintf(stderr, "epoch %d/%d: train loss %.4f, dev loss %.4f, dev macro F1 %.4f, %.1f train clips/s\n",
                   e.epoch, epochs, e.train_loss, e.dev_loss, e.dev_macro_f1, e.train_clips_per_s);
    }
    if (progress_file != nullptr) {
      avctl::ProgressEvent p;
      p.epoch = e.epoch;
      p.epochs = epochs;
      p.values = {{"train_loss", e.train_loss}, {"dev_loss", e.dev_loss}, {"dev_macro_f1", e.dev_macro_f1},
                  {"lr", e.lr}, {"seconds", e.seconds}};
      for (auto it = p.values.begin(); it != p.values.end();) {
        it = std::isfinite(it->second) ? std::next(it) : p.values.erase(it);  // a NaN loss: not measured
      }
      write_progress(p);
    }
  };
  // This process's torch settings, as the job asks (threads, device, determinism).
  auto process = avctl::SetUpTorchProcess(*job);
  if (!process.ok()) {
    if (progress_file != nullptr) std::fclose(progress_file);
    return fail(process.status());
  }
  auto result = avctl::TrainJob(*job, *process, **store, &log, hooks);
  if (progress_file != nullptr) std::fclose(progress_file);
  if (!result.ok()) return fail(result.status());
  const double compute = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (result->preempted) {
    // Not a result: the attempt stopped on request, resumable from its checkpoint.
    const std::string where = result->last_checkpoint.empty() ? "no checkpoint (no --checkpoint-dir)"
                                                              : "checkpoint " + result->last_checkpoint;
    avctl::JobResult stopped;
    stopped.status = avctl::ResultStatus::kPreempted;
    stopped.reason = fmt::format("stopped by signal {} after {} epochs; {}", signals.signal(), result->epochs.size(),
                                 where);
    stopped.resume = avctl::ResumeOf(*result);
    stopped.compute_seconds = compute;
    stopped.code_version = avctl::CodeVersion();
    stopped.extra = {{"checkpoint", result->last_checkpoint}, {"epochs_done", result->epochs.size()}};
    if (avctl::Status w = avctl::WriteJsonFileAtomic(out, avctl::JobResultToJson(stopped)); !w.ok()) {
      return Fail(w.ToString());
    }
    log.Info("train: {}", stopped.reason);
    return kPreemptedExit;
  }
  avctl::JobResult done = avctl::ToJobResult(*result, **store);
  done.compute_seconds = compute;
  if (avctl::Status w = avctl::WriteJsonFileAtomic(out, avctl::JobResultToJson(done)); !w.ok()) {
    return Fail(w.ToString());
  }
  if (!hooks.checkpoints.dir.empty() && !vm.count("keep-checkpoints")) {
    // The job has its result: its checkpoints (only files named as ours) and
    // then the folder, if nothing else is in it, go. Under a worker daemon
    // (--keep-checkpoints) they stay until the coordinator has stored the
    // result: a stale attempt's result may not be the one kept.
    if (avctl::Status p = avctl::PruneCheckpoints(hooks.checkpoints.dir, 0); !p.ok()) log.Warn("train: {}", p.ToString());
    std::error_code ec;
    std::filesystem::remove(hooks.checkpoints.dir, ec);
  }
  const auto& t = result->test.metrics;
  std::cout << fmt::format("{} seed {}: selected epoch {} of {}, test macro F1 {:.4f}, accuracy {:.4f}, "
                           "{:.1f} train clips/s, {:.1f} s; wrote {}\n",
                           job->variant, job->seed, result->selected_epoch, result->epochs.size(), t.macro_f1,
                           t.accuracy, result->train_clips_per_s, result->wall_seconds, out);
  return 0;
}

int RunServe(const po::variables_map& vm, const std::string& self_exe) {
  avctl::Logger log(stderr, vm.count("verbose") ? avctl::LogLevel::kDebug : avctl::LogLevel::kInfo);
  avctl::WorkerDaemonOptions o;
  o.coordinator = vm["coordinator"].as<std::string>();
  o.worker_id = vm.count("id") ? vm["id"].as<std::string>() : "";
  if (o.worker_id.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof(host) - 1);
    o.worker_id = host;
  }
  o.work_dir = vm.count("work-dir") ? vm["work-dir"].as<std::string>() : "avworker-" + o.worker_id;
  if (vm.count("cache")) o.store_cache = vm["cache"].as<std::string>();
  o.slots = vm["slots"].as<int>();
  if (o.slots < 1) return Fail("--slots must be at least 1");
  std::string device = vm.count("device") ? vm["device"].as<std::string>() : "auto";
  if (device == "auto") device = torch::cuda::is_available() ? "cuda:0" : "cpu";
  if (device != "cpu" && device.rfind("cuda:", 0) != 0) return Fail("--device must be auto, cpu or cuda:N");
  o.device = device;
  if (device.rfind("cuda:", 0) == 0) {
    const avctl::GpuInfo gpu = avctl::QueryGpu(std::atoi(device.c_str() + 5));
    o.gpu_name = gpu.name;
    o.gpu_memory_mb = gpu.total_mb;
    o.gpu_free_mb = gpu.free_mb;
  }
  const int threads = vm["threads"].as<int>();
  o.threads_per_job = threads > 0 ? threads : std::max(1, avctl::ResolveThreads(0) / o.slots);
  o.trainer_exe = self_exe;
  o.mode = vm.count("noop") ? "noop" : "train";
  if (vm.count("checkpoint-dir")) o.checkpoint_dir = vm["checkpoint-dir"].as<std::string>();
  o.stop_timeout_s = vm["stop-timeout"].as<double>();
  if (!(o.stop_timeout_s >= 0)) return Fail("--stop-timeout must be a number of seconds >= 0");
  if (vm.count("curve-server-key") != vm.count("curve-key")) {
    return Fail("--curve-server-key and --curve-key go together");
  }
  if (vm.count("curve-server-key")) {
    auto server = avctl::ReadCurveKeyFile(vm["curve-server-key"].as<std::string>(), false);
    if (!server.ok()) return Fail(server.status().ToString());
    auto mine = avctl::ReadCurveKeyFile(vm["curve-key"].as<std::string>(), true);
    if (!mine.ok()) return Fail(mine.status().ToString());
    o.curve_server_public = server->public_key;
    o.curve_keys = *mine;
  }
  // The GPUs this worker was given (Slurm sets it): a command job's
  // CUDA_VISIBLE_DEVICES is mapped through it (docs/JOBS.md).
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) o.visible_devices = visible;
  if (const char* job = std::getenv("SLURM_JOB_ID")) o.labels["slurm_job_id"] = job;
  if (const char* proc = std::getenv("SLURM_PROCID")) o.labels["slurm_procid"] = proc;
  avctl::WorkerDaemon daemon(o, &log);
  avctl::Status s = daemon.Run();
  if (!s.ok()) return Fail(s.ToString());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    std::cout << kUsage << "\n";
    return args.empty() ? 2 : 0;
  }
  const std::string cmd = args[0];
  po::options_description desc("options");
  desc.add_options()("help,h", "show this help")("threads", po::value<int>()->default_value(0), "libtorch threads")(
      "store", po::value<std::string>(), "feature store directory")(
      "partition", po::value<int>()->default_value(1), "partition whose Train statistics normalise")(
      "batch-size", po::value<int>()->default_value(32), "clips per batch")(
      "job", po::value<std::string>(), "job JSON (train)")(
      "out", po::value<std::string>(), "result JSON to write (train)")(
      "device", po::value<std::string>(), "override the job's device: cpu or cuda:N (train)")(
      "dataset", po::value<std::string>(), "dataset JSON as in a sweep spec, instead of --store (train)")(
      "cache", po::value<std::string>()->default_value("stores"),
      "where synthetic datasets are built and kept (train, serve)")(
      "progress", po::value<std::string>(), "append one JSON line per epoch to this file (train)")(
      "checkpoint-dir", po::value<std::string>(),
      "train: this job's resumable checkpoints (resumed from when present, removed with the result); "
      "serve: the folder of every job's checkpoint folder, shared by a sweep's workers (default WORK_DIR/checkpoints)")(
      "keep-checkpoints", "train: leave the checkpoints when the result is written (the worker daemon removes them once the "
      "coordinator has stored the result)")(
      "resume-hint", po::value<std::string>(), "the job's last checkpoint as the coordinator knows it (train)")(
      "attempt", po::value<int64_t>()->default_value(0), "the attempt id written into checkpoints (train)")(
      "stop-timeout", po::value<double>()->default_value(25.0),
      "seconds a SIGTERM (preemption, a cancel, a command job's timeout) leaves running jobs to checkpoint and exit "
      "before all of their processes are killed (serve; Slurm's KillWait is 30)")(
      "no-verify", po::bool_switch(),
      "skip the store's checksum verification: the worker daemon verified it when it opened it (train)")(
      "coordinator", po::value<std::string>()->default_value("tcp://127.0.0.1:5555"),
      "the coordinator's worker endpoint (serve)")(
      "id", po::value<std::string>(), "worker id, stable across restarts (serve; default: the host name)")(
      "work-dir", po::value<std::string>(), "spool and store cache (serve; default: ./avworker-ID)")(
      "slots", po::value<int>()->default_value(1), "jobs run at once (serve)")(
      "noop", "answer every job at once without training (serve; for benchmarks)")(
      "curve-server-key", po::value<std::string>(),
      "the coordinator's public key file (NAME.pub): connect with CURVE (serve)")(
      "curve-key", po::value<std::string>(), "this worker's key pair file (NAME.key, mode 0600) (serve)")(
      "verbose", "log every epoch (train) or every message (serve)");
  po::positional_options_description pos;
  pos.add("store", 1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(std::vector<std::string>(args.begin() + 1, args.end()))
                  .options(desc).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "avworker: error: " << e.what() << "\n" << kUsage << "\n";
    return 2;
  }
  if (vm.count("help")) {
    std::cout << kUsage << "\n\n" << desc << "\n";
    return 0;
  }
  const int threads = vm["threads"].as<int>();
  if (cmd == "info") return RunInfo(threads);
  if (cmd == "load-check") {
    if (!vm.count("store")) return Fail("load-check needs a store directory");
    if (vm["batch-size"].as<int>() <= 0) return Fail("--batch-size must be positive");
    return RunLoadCheck(vm["store"].as<std::string>(), vm["partition"].as<int>(), vm["batch-size"].as<int>(), threads);
  }
  if (cmd == "train") return RunTrain(vm);
  if (cmd == "serve") {
    po::variables_map serve_vm = vm;
    if (vm["cache"].defaulted()) serve_vm.erase("cache");  // serve's default: WORK_DIR/stores
    const std::string self = avctl::SelfExePath();
    return RunServe(serve_vm, self.empty() ? std::string(argv[0]) : self);
  }
  std::cerr << "avworker: error: unknown command '" << cmd << "'\n" << kUsage << "\n";
  return 2;
}
