#include "web/resource_needs.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace avctl {

namespace {

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int SuggestedGpuMemoryMb(double peak_device_mib) {
  const double need = (peak_device_mib + kCudaContextMiB) * kGpuMemoryHeadroom;
  return static_cast<int>(std::ceil(need / 256.0) * 256.0);
}

std::vector<VariantResources> SummarizeResources(const ReportData& data) {
  std::vector<VariantResources> out;
  std::map<std::string, size_t> index;
  std::map<std::string, std::vector<double>> clips, waits;
  std::map<std::string, std::set<std::string>> devices;
  for (const auto& r : data.runs) {
    if (!r.resources.measured) continue;
    auto [it, inserted] = index.emplace(r.variant, out.size());
    if (inserted) {
      out.emplace_back();
      out.back().variant = r.variant;
    }
    VariantResources& v = out[it->second];
    const RunResources& m = r.resources;
    ++v.measured;
    devices[r.variant].insert(m.device);
    clips[r.variant].push_back(m.train_clips_per_s);
    if (m.data_wait_share >= 0) waits[r.variant].push_back(m.data_wait_share);
    v.max_peak_rss_mib = std::max(v.max_peak_rss_mib, m.peak_rss_mib);
    if (m.peak_device_mib >= 0) {
      ++v.gpu_runs;
      v.max_peak_device_mib = std::max(v.max_peak_device_mib, m.peak_device_mib);
    }
    v.all_deterministic = v.all_deterministic && m.deterministic;
  }
  for (auto& v : out) {
    v.devices.assign(devices[v.variant].begin(), devices[v.variant].end());
    v.median_clips_per_s = Median(clips[v.variant]);
    if (!waits[v.variant].empty()) v.median_data_wait_share = Median(waits[v.variant]);
    if (v.gpu_runs > 0) v.suggested_gpu_memory_mb = SuggestedGpuMemoryMb(v.max_peak_device_mib);
  }
  return out;
}

}  // namespace avctl
