// Parsing nvidia-smi's GPU line: the worker announces total and free memory
// (the coordinator's budget from them is tested with the scheduler).
#include <gtest/gtest.h>

#include "worker/gpu_query.h"

namespace avctl {
namespace {

TEST(GpuQuery, ParsesNameTotalAndFree) {
  auto g = ParseNvidiaSmiGpu("NVIDIA H100 80GB HBM3, 81559, 80620\n");
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->name, "NVIDIA H100 80GB HBM3");
  EXPECT_EQ(g->total_mb, 81559);
  EXPECT_EQ(g->free_mb, 80620);
}

TEST(GpuQuery, RefusesWhatIsNotAGpuLine) {
  for (const char* bad : {"", "No devices were found", "A100, 40960", "A100, [N/A], 100", "A100, 100, 200",
                          "A100, 100, -5"}) {
    EXPECT_FALSE(ParseNvidiaSmiGpu(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace avctl
