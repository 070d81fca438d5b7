// Training throughput per variant (CPU by default), next to the same
// ladder_av network written in PyTorch/Python (bench/ladder_av_torch.py)
// measured in the same run with the same thread count, batch size and
// batches. Modality dropout is off so that every step does the same work in
// both implementations.
//
// Both sides train on the same length-bucketed batches (the first
// warmup + batches of the epoch `avworker train` starts with, seed 1): the
// first `warmup` steps are not timed (one-time allocation and first-touch
// costs), the next `batches` are. ladder_av runs `repeats` times on each
// side, alternating, and the table gives the median; the Python side runs
// once as Debian ships it and once with glibc's malloc set the way
// `avworker train` sets it (common/heap_tuning.h), so that the table shows
// how much of the ratio is the allocator and how much the model code.
//
//   train_bench --store DIR [--batches N] [--warmup W] [--repeats R] [--threads T]
//               [--variants a,b,...] [--device cpu|cuda:0] [--bf16] [--no-python]
//               [--python-backbone] [--python-compile]
//
// --python-backbone also runs the backbone variant in Python (alternating
// with the worker's, `repeats` times); --python-compile also runs each
// Python variant under torch.compile (PyTorch 2.x). A last table gives the
// worker's ratio to each, variant by variant, with the Python side's torch
// version (AVCTL_PYTHON picks the interpreter).
//
// Each C++ row also gives the data wait: the share of the timed steps' wall
// time the training thread spent waiting for its next batch (with prefetch
// 2, the default: batches made on a background thread; with prefetch 0, the
// "before": each batch made on the training thread). The Python reference
// always makes its batches on its training thread.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/heap_tuning.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/random.h"
#include "store/feature_store.h"
#include "sweeps/job_config.h"
#include "worker/trainer.h"

namespace {

using SteadyClock = std::chrono::steady_clock;

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n == 0 ? 0 : (n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

std::string Runs(const std::vector<double>& v) {
  std::string s;
  for (double x : v) s += fmt::format("{}{:.2f}", s.empty() ? "" : " ", x);
  return s;
}

struct Options {
  std::string store_dir, device = "cpu";
  int batches = 4, warmup = 1, repeats = 3, threads = 2;
  bool python = true;
  bool python_compile = false;  // also torch.compile'd Python runs (PyTorch 2.x)
  bool python_backbone = false; // also the backbone variant in Python (ladder_av_torch.py --variant backbone)
  bool bf16 = false;
  std::vector<std::string> variants = avctl::VariantNames();
};

// Clips/s of the Python reference over the timed steps; env_prefix is put
// before the interpreter (environment settings), empty for none.
avctl::Result<double> RunPython(const Options& o, const std::string& batch_file, const std::string& env_prefix,
                                const std::string& variant = "ladder_av", bool compiled = false,
                                std::string* torch_version = nullptr) {
  const char* py = std::getenv("AVCTL_PYTHON");  // Debian's interpreter has python3-torch
  std::string cmd = fmt::format(
      "{}{} {}/bench/ladder_av_torch.py --store {} --batch-file {} --threads {} --warmup {} --device {} "
      "--variant {}{}",
      env_prefix, py != nullptr ? py : "/usr/bin/python3", AVCTL_SOURCE_DIR, o.store_dir, batch_file, o.threads,
      o.warmup, o.device, variant, compiled ? " --compile" : "");
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return avctl::Status::IOError("cannot start: " + cmd);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int rc = pclose(p);
  auto j = avctl::ParseJson(out, "ladder_av_torch.py output");
  if (rc != 0 || !j.ok()) {
    return avctl::Status::Internal(fmt::format("the Python reference failed (rc {}): {}", rc, out));
  }
  std::fprintf(stderr, "python reference%s%s: %s", env_prefix.empty() ? "" : " (malloc tuned)",
               compiled ? " (compiled)" : "", out.c_str());
  if (torch_version != nullptr) *torch_version = j->value("torch", "");
  return (*j)["clips_per_s"].get<double>();
}

struct CppRun {
  double clips_per_s = 0;
  double wait_share = 0;  // of the timed steps' wall time, waiting for the next batch
};

// TrainJob over the timed steps (steps warmup+1 .. warmup+batches), the
// device synchronised after every step so that each step's time is its own.
avctl::Result<CppRun> RunCpp(const Options& o, const std::string& variant, const avctl::FeatureStore& store,
                             avctl::Logger* log, int prefetch = 2) {
  AVCTL_ASSIGN_OR_RETURN(avctl::JobConfig job, avctl::VariantPreset(variant));
  job.train.epochs = 1;
  job.train.max_train_batches = o.warmup + o.batches;
  job.train.evaluate = false;
  job.train.batch_size = 32;
  job.model.audio_dropout_p = 0;
  job.model.visual_dropout_p = 0;
  job.threads = o.threads;
  job.device = o.device;
  job.seed = 1;
  job.train.prefetch = prefetch;
  job.bf16 = o.bf16;
  SteadyClock::time_point start = SteadyClock::now(), end = start;
  double wait = 0;
  avctl::TrainHooks hooks;
  hooks.synchronize_steps = true;
  hooks.progress = [&](const avctl::StepReport& s) {
    if (s.batch > o.warmup && s.batch <= o.warmup + o.batches) wait += s.data_wait_seconds;
    if (s.batch == o.warmup) start = SteadyClock::now();
    if (s.batch == o.warmup + o.batches) end = SteadyClock::now();
  };
  AVCTL_ASSIGN_OR_RETURN(avctl::TorchProcess process, avctl::SetUpTorchProcess(job));
  AVCTL_RETURN_IF_ERROR(avctl::TrainJob(job, process, store, log, hooks).status());
  const double seconds = std::max(std::chrono::duration<double>(end - start).count(), 1e-9);
  return CppRun{32.0 * o.batches / seconds, wait / seconds};
}

int Run(const Options& o) {
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  // This process stands for `avworker train`, which sets malloc this way.
  if (avctl::Status s = avctl::KeepFreedMemoryForReuse(); !s.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  auto store = avctl::FeatureStore::Open(o.store_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", store.status().ToString().c_str());
    return 1;
  }
  // The exact batches TrainJob takes first in epoch 1 with seed 1, written for
  // the Python reference so that both train on the same clips in the same order.
  auto train = (*store)->ClipsInSplit(1, avctl::Split::kTrain);
  if (!train.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", train.status().ToString().c_str());
    return 1;
  }
  auto epoch = avctl::EpochBatches(**store, *train, 32, true, avctl::DeriveSeed(1, "order", 1));
  const size_t steps = static_cast<size_t>(o.warmup + o.batches);
  if (epoch.size() < steps) {
    std::fprintf(stderr, "train_bench: the store has %zu Train batches, fewer than --warmup + --batches\n",
                 epoch.size());
    return 2;
  }
  epoch.resize(steps);
  const std::string batch_file = o.store_dir + ".train_bench_batches.json";
  if (avctl::Status s = avctl::WriteJsonFileAtomic(batch_file, avctl::Json(epoch)); !s.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", s.ToString().c_str());
    return 1;
  }

  // ladder_av on both sides, alternating, `repeats` times.
  std::vector<double> py, py_tuned, cpp_ladder, cpp_wait, cpp_serial, cpp_serial_wait;
  // Per variant: the worker (prefetch 2), Python eager, Python compiled.
  std::map<std::string, std::vector<double>> cpp_by, eager_by, compiled_by;
  std::vector<std::string> compared = {"ladder_av"};
  std::string python_torch;  // the Python side's torch version
  if (o.python_backbone) compared.push_back("backbone");
  const std::string tuned_env =
      "GLIBC_TUNABLES=glibc.malloc.mmap_max=0:glibc.malloc.trim_threshold=1099511627776 ";
  for (int rep = 0; rep < o.repeats; ++rep) {
    if (o.python) {
      for (auto* out : {&py, &py_tuned}) {
        auto cps = RunPython(o, batch_file, out == &py ? "" : tuned_env, "ladder_av", false, &python_torch);
        if (!cps.ok()) {
          std::fprintf(stderr, "train_bench: %s\n", cps.status().ToString().c_str());
          return 1;
        }
        out->push_back(*cps);
      }
    }
    // Alternate which goes first: a process's first run also pays for
    // faulting in the mapped store's pages.
    for (int prefetch : rep % 2 == 0 ? std::vector<int>{2, 0} : std::vector<int>{0, 2}) {
      auto run = RunCpp(o, "ladder_av", **store, &log, prefetch);
      if (!run.ok()) {
        std::fprintf(stderr, "train_bench: ladder_av: %s\n", run.status().ToString().c_str());
        return 1;
      }
      (prefetch > 0 ? cpp_ladder : cpp_serial).push_back(run->clips_per_s);
      (prefetch > 0 ? cpp_wait : cpp_serial_wait).push_back(run->wait_share);
    }
    if (!o.python) continue;
    for (const auto& variant : compared) {
      if (variant != "ladder_av") {
        auto cps = RunPython(o, batch_file, "", variant);
        if (!cps.ok()) {
          std::fprintf(stderr, "train_bench: %s\n", cps.status().ToString().c_str());
          return 1;
        }
        eager_by[variant].push_back(*cps);
        auto run = RunCpp(o, variant, **store, &log);
        if (!run.ok()) {
          std::fprintf(stderr, "train_bench: %s: %s\n", variant.c_str(), run.status().ToString().c_str());
          return 1;
        }
        cpp_by[variant].push_back(run->clips_per_s);
      }
      if (o.python_compile) {
        auto cps = RunPython(o, batch_file, "", variant, true);
        if (!cps.ok()) {
          std::fprintf(stderr, "train_bench: %s\n", cps.status().ToString().c_str());
          return 1;
        }
        compiled_by[variant].push_back(*cps);
      }
    }
  }
  eager_by["ladder_av"] = py;
  cpp_by["ladder_av"] = cpp_ladder;

  std::printf("train_bench: store %s (%s, audio %lld, visual %lld dims), %d timed steps of 32 clips after %d "
              "untimed, %d thread(s), %s%s; ladder_av rows: median of %d alternating runs; data wait: share of "
              "the timed steps' wall time the training thread waited for its batch\n\n",
              o.store_dir.c_str(), (*store)->manifest().synthetic ? "synthetic" : "real",
              static_cast<long long>((*store)->audio_dim()), static_cast<long long>((*store)->visual_dim()),
              o.batches, o.warmup, o.threads, o.device.c_str(), o.bf16 ? ", bf16 autocast" : "", o.repeats);
  std::printf("| variant | train clips/s | runs | data wait | ratio to PyTorch Python ladder_av |\n"
              "| --- | ---: | --- | ---: | ---: |\n");
  const double ref = o.python ? Median(py) : 0;
  auto ratio = [&](double cps) { return ref > 0 ? fmt::format("{:.3f}", cps / ref) : std::string("-"); };
  if (o.python) {
    std::printf("| ladder_av, PyTorch Python (reference) | %.2f | %s | - | 1.000 |\n", ref, Runs(py).c_str());
    std::printf("| ladder_av, PyTorch Python, malloc tuned as avworker | %.2f | %s | - | %s |\n", Median(py_tuned),
                Runs(py_tuned).c_str(), ratio(Median(py_tuned)).c_str());
  }
  auto share = [](double x) { return fmt::format("{:.1f}%", 100 * x); };
  std::printf("| ladder_av, libtorch C++ (avworker, prefetch 2) | %.2f | %s | %s | %s |\n", Median(cpp_ladder),
              Runs(cpp_ladder).c_str(), share(Median(cpp_wait)).c_str(), ratio(Median(cpp_ladder)).c_str());
  std::printf("| ladder_av, libtorch C++, prefetch 0 (batches on the training thread) | %.2f | %s | %s | %s |\n",
              Median(cpp_serial), Runs(cpp_serial).c_str(), share(Median(cpp_serial_wait)).c_str(),
              ratio(Median(cpp_serial)).c_str());
  std::fflush(stdout);
  for (const auto& variant : o.variants) {
    if (variant == "ladder_av" || cpp_by.count(variant) > 0) continue;
    auto run = RunCpp(o, variant, **store, &log);
    if (!run.ok()) {
      std::fprintf(stderr, "train_bench: %s: %s\n", variant.c_str(), run.status().ToString().c_str());
      return 1;
    }
    std::printf("| %s, libtorch C++ | %.2f | %.2f | %s | %s |\n", variant.c_str(), run->clips_per_s,
                run->clips_per_s, share(run->wait_share).c_str(), ratio(run->clips_per_s).c_str());
    std::fflush(stdout);
  }
  if (o.python) {
    // The worker against the same network in Python, eager and compiled,
    // variant by variant (medians of the alternating runs above).
    std::printf("\nThe worker (libtorch %s) against the same network in Python (torch %s), clips/s, median "
                "(runs):\n\n| variant | worker | Python eager | worker / eager | Python torch.compile | "
                "worker / compiled |\n| --- | ---: | ---: | ---: | ---: | ---: |\n",
                TORCH_VERSION, python_torch.c_str());
    for (const auto& variant : compared) {
      const double cpp = Median(cpp_by[variant]), eager = Median(eager_by[variant]);
      const bool has_compiled = !compiled_by[variant].empty();
      const double compiled = has_compiled ? Median(compiled_by[variant]) : 0;
      std::printf("| %s | %.2f (%s) | %.2f (%s) | %.2f | %s | %s |\n", variant.c_str(), cpp,
                  Runs(cpp_by[variant]).c_str(), eager, Runs(eager_by[variant]).c_str(), cpp / eager,
                  has_compiled ? fmt::format("{:.2f} ({})", compiled, Runs(compiled_by[variant])).c_str() : "-",
                  has_compiled ? fmt::format("{:.2f}", cpp / compiled).c_str() : "-");
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  const char* usage =
      "usage: train_bench --store DIR [--batches N] [--warmup W] [--repeats R] [--threads T] [--variants a,b] "
      "[--device D] [--bf16] [--no-python] [--python-backbone] [--python-compile]\n";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) o.store_dir = argv[++i];
    else if (a == "--batches" && i + 1 < argc) o.batches = std::stoi(argv[++i]);
    else if (a == "--warmup" && i + 1 < argc) o.warmup = std::stoi(argv[++i]);
    else if (a == "--repeats" && i + 1 < argc) o.repeats = std::stoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) o.threads = std::stoi(argv[++i]);
    else if (a == "--variants" && i + 1 < argc) o.variants = SplitList(argv[++i]);
    else if (a == "--device" && i + 1 < argc) o.device = argv[++i];
    else if (a == "--no-python") o.python = false;
    else if (a == "--python-compile") o.python_compile = true;
    else if (a == "--python-backbone") o.python_backbone = true;
    else if (a == "--bf16") o.bf16 = true;
    else {
      std::fprintf(stderr, "%s", usage);
      return 2;
    }
  }
  if (o.store_dir.empty() || o.batches < 1 || o.warmup < 1 || o.repeats < 1) {
    std::fprintf(stderr, "train_bench: --store is required; --batches, --warmup and --repeats must be >= 1\n%s", usage);
    return 2;
  }
  return Run(o);
}
