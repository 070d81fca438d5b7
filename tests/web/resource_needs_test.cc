#include "web/resource_needs.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

ReportRun MeasuredRun(const std::string& variant, const std::string& device, double clips_per_s, double peak_device,
              bool deterministic = true) {
  ReportRun r;
  r.variant = variant;
  r.resources.measured = true;
  r.resources.device = device;
  r.resources.train_clips_per_s = clips_per_s;
  r.resources.data_wait_share = 0.02;
  r.resources.peak_rss_mib = 900;
  r.resources.peak_device_mib = peak_device;
  r.resources.deterministic = deterministic;
  return r;
}

TEST(ResourceNeedsTest, DeclaredGpuMemoryCoversTheLargestPeakAndTheContext) {
  // (3000 + 512) x 1.1 = 3863.2 -> 16 x 256 = 4096
  EXPECT_EQ(SuggestedGpuMemoryMb(3000), 4096);
  EXPECT_EQ(SuggestedGpuMemoryMb(0), 768);  // 563.2 -> 768
}

TEST(ResourceNeedsTest, PerVariantMediansMaximaAndDevices) {
  ReportData d;
  d.runs = {MeasuredRun("ladder_av", "cuda:0", 100, 2000), MeasuredRun("ladder_av", "cuda:0", 120, 3000, false),
            MeasuredRun("ladder_av", "cuda:1", 90, 2500), MeasuredRun("backbone", "cpu", 5, -1)};
  ReportRun unmeasured;  // a failed job: no result
  unmeasured.variant = "backbone";
  d.runs.push_back(unmeasured);
  auto rs = SummarizeResources(d);
  ASSERT_EQ(rs.size(), 2u);
  EXPECT_EQ(rs[0].variant, "ladder_av");
  EXPECT_EQ(rs[0].measured, 3);
  EXPECT_EQ(rs[0].devices, (std::vector<std::string>{"cuda:0", "cuda:1"}));
  EXPECT_DOUBLE_EQ(rs[0].median_clips_per_s, 100);
  EXPECT_DOUBLE_EQ(rs[0].max_peak_device_mib, 3000);
  EXPECT_EQ(rs[0].suggested_gpu_memory_mb, 4096);
  EXPECT_FALSE(rs[0].all_deterministic);
  EXPECT_EQ(rs[1].variant, "backbone");
  EXPECT_EQ(rs[1].measured, 1);
  EXPECT_EQ(rs[1].gpu_runs, 0);
  EXPECT_EQ(rs[1].suggested_gpu_memory_mb, 0);  // nothing measured on a GPU: no suggestion
  EXPECT_TRUE(rs[1].all_deterministic);
}

}  // namespace
}  // namespace avctl
