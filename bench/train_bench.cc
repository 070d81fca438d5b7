// Training throughput per variant (CPU by default), next to the same
// ladder_av network written in PyTorch/Python (bench/ladder_av_torch.py)
// measured in the same run with the same thread count, batch size and
// number of steps. Modality dropout is off so that every step does the
// same work in both implementations.
//
//   train_bench --store DIR [--batches N] [--threads T] [--variants a,b,...] [--device cpu|cuda:0] [--no-python]
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/json_util.h"
#include "common/log.h"
#include "common/random.h"
#include "store/feature_store.h"
#include "worker/job_config.h"
#include "worker/trainer.h"

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(item);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string store_dir, device = "cpu";
  int batches = 10, threads = 2;
  bool python = true;
  std::vector<std::string> variants = avctl::VariantNames();
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--store" && i + 1 < argc) store_dir = argv[++i];
    else if (a == "--batches" && i + 1 < argc) batches = std::stoi(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--variants" && i + 1 < argc) variants = SplitList(argv[++i]);
    else if (a == "--device" && i + 1 < argc) device = argv[++i];
    else if (a == "--no-python") python = false;
    else {
      std::fprintf(stderr, "usage: train_bench --store DIR [--batches N] [--threads T] [--variants a,b] [--device D] [--no-python]\n");
      return 2;
    }
  }
  if (store_dir.empty()) {
    std::fprintf(stderr, "train_bench: --store is required\n");
    return 2;
  }
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  auto store = avctl::FeatureStore::Open(store_dir);
  if (!store.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", store.status().ToString().c_str());
    return 1;
  }

  // The exact batches TrainJob will take in epoch 1 with seed 1, written for
  // the Python reference so that both train on the same clips in the same order.
  auto train = (*store)->ClipsInSplit(1, avctl::Split::kTrain);
  if (!train.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", train.status().ToString().c_str());
    return 1;
  }
  auto epoch = avctl::EpochBatches(**store, *train, 32, true, avctl::DeriveSeed(1, "order", 1));
  if (static_cast<int>(epoch.size()) > batches) epoch.resize(static_cast<size_t>(batches));
  const std::string batch_file = store_dir + ".train_bench_batches.json";
  if (avctl::Status s = avctl::WriteJsonFileAtomic(batch_file, avctl::Json(epoch)); !s.ok()) {
    std::fprintf(stderr, "train_bench: %s\n", s.ToString().c_str());
    return 1;
  }

  double python_cps = 0;
  if (python) {
    // Debian's interpreter, where python3-torch lives (AVCTL_PYTHON overrides).
    const char* py = std::getenv("AVCTL_PYTHON");
    std::string cmd = fmt::format("{} {}/bench/ladder_av_torch.py --store {} --batch-file {} --threads {}",
                                  py != nullptr ? py : "/usr/bin/python3", AVCTL_SOURCE_DIR, store_dir, batch_file,
                                  threads);
    FILE* p = popen(cmd.c_str(), "r");
    std::string out;
    char buf[4096];
    size_t n;
    while (p != nullptr && (n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    int rc = p != nullptr ? pclose(p) : -1;
    auto j = avctl::ParseJson(out, "ladder_av_torch.py output");
    if (rc != 0 || !j.ok()) {
      std::fprintf(stderr, "train_bench: the Python reference failed (rc %d): %s\n", rc, out.c_str());
      return 1;
    }
    python_cps = (*j)["clips_per_s"].get<double>();
    std::fprintf(stderr, "python reference: %s\n", out.c_str());
  }

  std::printf("train_bench: store %s (%s, audio %lld, visual %lld dims), %d steps of 32 clips, %d thread(s), %s\n\n",
              store_dir.c_str(), (*store)->manifest().synthetic ? "synthetic" : "real",
              static_cast<long long>((*store)->audio_dim()), static_cast<long long>((*store)->visual_dim()), batches,
              threads, device.c_str());
  std::printf("| variant | train clips/s (libtorch C++) | ratio to PyTorch Python ladder_av |\n| --- | ---: | ---: |\n");
  if (python) std::printf("| ladder_av (PyTorch, Python reference) | %.2f | 1.000 |\n", python_cps);
  for (const auto& variant : variants) {
    auto job = avctl::VariantPreset(variant);
    if (!job.ok()) {
      std::fprintf(stderr, "train_bench: %s\n", job.status().ToString().c_str());
      return 2;
    }
    job->train.epochs = 1;
    job->train.max_train_batches = batches;
    job->train.evaluate = false;
    job->train.batch_size = 32;
    job->model.audio_dropout_p = 0;
    job->model.visual_dropout_p = 0;
    job->threads = threads;
    job->device = device;
    job->seed = 1;
    auto r = avctl::TrainJob(*job, **store, &log);
    if (!r.ok()) {
      std::fprintf(stderr, "train_bench: %s: %s\n", variant.c_str(), r.status().ToString().c_str());
      return 1;
    }
    if (python) {
      std::printf("| %s | %.2f | %.3f |\n", variant.c_str(), r->train_clips_per_s, r->train_clips_per_s / python_cps);
    } else {
      std::printf("| %s | %.2f | - |\n", variant.c_str(), r->train_clips_per_s);
    }
    std::fflush(stdout);
  }
  return 0;
}
