// The README's first command, short of its apt-get and build steps: `avctl
// sweep run sweeps/demo.json` with two local workers to the end, then its
// report checked in headless Chromium by the report's browser test
// (tests/web/report_browser_test.cc, through AVCTL_REPORT_DIRS): no overflow
// or clipped chart text at 1280 and 390 px nor in print. The figures are not
// asserted: they depend on the machine's CPU kernels (bench/RESULTS.md).
#include <filesystem>

#include <gtest/gtest.h>

#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"
#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

TEST(DemoReport, TheDemoRunsToItsReportAndTheReportFitsEveryScreen) {
  const fs::path dir = testutil::FreshTestDir("demo-report");
  auto run = testutil::RunCommand("timeout 900 " + testutil::kBin + "avctl sweep run " +
                                  std::string(AVCTL_SOURCE_DIR) + "/sweeps/demo.json --local-workers 2 --dir " +
                                  (dir / "demo").string());
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("20/20 finished"), std::string::npos) << run.output;
  const fs::path report = dir / "demo" / "report";
  ASSERT_TRUE(fs::exists(report / "index.html")) << run.output;
  auto check = testutil::RunCommand("AVCTL_REPORT_DIRS=" + report.string() + " " + testutil::kBin +
                                    "web_test --gtest_filter=ReportBrowser.ReportFoldersNamedInTheEnvironmentFit");
  EXPECT_EQ(check.exit_code, 0) << check.output;
  if (check.output.find("no chromium here") == std::string::npos) {
    EXPECT_NE(check.output.find("[  PASSED  ] 1 test"), std::string::npos) << check.output;
    EXPECT_EQ(check.output.find("SKIPPED"), std::string::npos) << check.output;
  }
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl
