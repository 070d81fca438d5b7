// Feature-store benchmark: synthesise a store, then open it (checksums
// verified) and read every value back as float32, against references
// measured in the same run on the same machine: writing the same number of
// bytes of zeros (for synth) and a plain sequential read() of the store's
// files (for open and read-all). Prints MB/s, ratios and peak memory.
//
//   store_bench [--profile full|small|tiny] [--dir DIR] [--threads N] [--keep]
#include <sys/resource.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/float16.h"
#include "common/log.h"
#include "store/feature_store.h"
#include "store/synth.h"

namespace fs = std::filesystem;
using SteadyClock = std::chrono::steady_clock;

namespace {

double Seconds(SteadyClock::time_point since) { return std::chrono::duration<double>(SteadyClock::now() - since).count(); }

double PeakRssMiB() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;  // ru_maxrss is in KiB on Linux
}

int64_t StoreBytes(const std::string& dir) {
  int64_t total = 0;
  for (const auto& e : fs::directory_iterator(dir)) total += static_cast<int64_t>(e.file_size());
  return total;
}

// Reference for synth: write the same number of bytes of zeros, fsync'd like the store.
double WriteZeros(const std::string& path, int64_t bytes) {
  std::vector<char> buf(4 << 20, 0);
  auto t0 = SteadyClock::now();
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  for (int64_t done = 0; done < bytes;) {
    size_t n = static_cast<size_t>(std::min<int64_t>(bytes - done, static_cast<int64_t>(buf.size())));
    if (::write(fd, buf.data(), n) != static_cast<ssize_t>(n)) break;
    done += static_cast<int64_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  double s = Seconds(t0);
  fs::remove(path);
  return s;
}

// Reference for reading: plain sequential read() of every file of the store.
double ReadFiles(const std::string& dir, int64_t* checksum) {
  std::vector<char> buf(4 << 20);
  auto t0 = SteadyClock::now();
  int64_t sum = 0;
  for (const auto& e : fs::directory_iterator(dir)) {
    int fd = ::open(e.path().c_str(), O_RDONLY);
    ssize_t n;
    while ((n = ::read(fd, buf.data(), buf.size())) > 0) sum += buf[static_cast<size_t>(n) - 1];
    ::close(fd);
  }
  *checksum = sum;
  return Seconds(t0);
}

}  // namespace

int main(int argc, char** argv) {
  std::string profile = "full", dir = (fs::temp_directory_path() / "avctl-store-bench").string();
  int threads = 0;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--profile" && i + 1 < argc) profile = argv[++i];
    else if (a == "--dir" && i + 1 < argc) dir = argv[++i];
    else if (a == "--threads" && i + 1 < argc) threads = std::stoi(argv[++i]);
    else if (a == "--keep") keep = true;
    else {
      std::fprintf(stderr, "usage: store_bench [--profile full|small|tiny] [--dir DIR] [--threads N] [--keep]\n");
      return 2;
    }
  }
  auto p = avctl::ParseSynthProfile(profile);
  if (!p.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", p.status().ToString().c_str());
    return 2;
  }
  avctl::Logger log(stderr, avctl::LogLevel::kWarn);
  avctl::SynthOptions o;
  for (int k = 1; k <= 5; ++k) o.label_files.push_back(fmt::format("{}/data/crema-d/partition_{}.csv", AVCTL_SOURCE_DIR, k));
  o.out_dir = dir;
  o.profile = *p;
  o.threads = threads;
  o.overwrite = true;

  auto t0 = SteadyClock::now();
  auto summary = avctl::SynthesizeStore(o, &log);
  double synth_s = Seconds(t0);
  if (!summary.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", summary.status().ToString().c_str());
    return 1;
  }
  const int64_t bytes = StoreBytes(dir);
  const double mb = bytes / 1e6;
  double rss_after_synth = PeakRssMiB();
  double zeros_s = WriteZeros(dir + ".zeros", bytes);

  int64_t ref_sum = 0;
  double read_ref_s = ReadFiles(dir, &ref_sum);  // also warms the page cache for the next two

  t0 = SteadyClock::now();
  auto store = avctl::FeatureStore::Open(dir);
  double open_s = Seconds(t0);
  if (!store.ok()) {
    std::fprintf(stderr, "store_bench: %s\n", store.status().ToString().c_str());
    return 1;
  }
  const avctl::FeatureStore& s = **store;
  t0 = SteadyClock::now();
  // Every value is read once and converted to float32, as a batch builder
  // does; eight independent partial sums keep the adds from serialising.
  float lanes[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  auto accumulate = [&lanes](const float* x, size_t n) {
    size_t k = 0;
    for (; k + 8 <= n; k += 8)
      for (int l = 0; l < 8; ++l) lanes[l] += x[k + l];
    for (; k < n; ++k) lanes[0] += x[k];
  };
  std::vector<float> row(static_cast<size_t>(s.visual_dim()));
  for (size_t i = 0; i < s.num_clips(); ++i) {
    const auto& c = s.clip(i);
    accumulate(s.audio(i), static_cast<size_t>(c.audio_frames * s.audio_dim()));
    for (int64_t t = 0; t < c.visual_frames; ++t) {
      avctl::HalvesToFloats(s.visual(i) + t * s.visual_dim(), row.data(), row.size());
      accumulate(row.data(), row.size());
    }
  }
  double total = 0;
  for (float l : lanes) total += l;
  double read_s = Seconds(t0);
  double rss_end = PeakRssMiB();

  std::printf("store_bench: profile %s, %lld clips, audio %lld x %lld, visual %lld x %lld, %.1f MB on disk\n\n",
              profile.c_str(), static_cast<long long>(summary->clips), static_cast<long long>(summary->audio_frames),
              static_cast<long long>(summary->audio_dim), static_cast<long long>(summary->visual_frames),
              static_cast<long long>(summary->visual_dim), mb);
  std::printf("| operation | seconds | MB/s | reference | ref MB/s | ratio to reference |\n");
  std::printf("| --- | ---: | ---: | --- | ---: | ---: |\n");
  std::printf("| synth (generate + write + stats + checksums) | %.2f | %.0f | write zeros + fsync | %.0f | %.3f |\n",
              synth_s, mb / synth_s, mb / zeros_s, zeros_s / synth_s);
  std::printf("| open (manifest + verify checksums) | %.2f | %.0f | sequential read() | %.0f | %.3f |\n", open_s,
              mb / open_s, mb / read_ref_s, read_ref_s / open_s);
  std::printf("| read all values as float32 (mmap) | %.2f | %.0f | sequential read() | %.0f | %.3f |\n", read_s,
              mb / read_s, mb / read_ref_s, read_ref_s / read_s);
  std::printf("\npeak RSS: %.0f MiB after synth, %.0f MiB at the end (mapped pages count while touched)\n",
              rss_after_synth, rss_end);
  std::printf("(sum of all values %.6g, reference byte sum %lld: keeps the loops honest)\n", total,
              static_cast<long long>(ref_sum));
  if (!keep) fs::remove_all(dir);
  return 0;
}
