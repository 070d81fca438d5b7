#include "coordinator/status_page.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

TEST(StatusPage, RunningJobsUnrunnableQueuesReportLinksAndGoneWorkers) {
  const Json sweeps = {{{"id", 2}, {"name", "gpu<sweep>"}, {"jobs", 10},
                        {"states", {{"queued", 6}, {"running", 1}, {"done", 3}}},
                        {"unrunnable", {{"jobs", 6}, {"workers_ready", 1},
                                        {"reasons", {{{"reason", "it needs a cuda worker (resources.device); "
                                                                 "connected: 1 cpu worker"},
                                                      {"jobs", 6}}}}}}}};
  const Json workers = {{{"id", "w1"}, {"hostname", "h"}, {"device", "cpu"}, {"slots", 1}, {"state", "connected"}},
                        {{"id", "w2"}, {"hostname", "h"}, {"device", "cpu"}, {"slots", 1}, {"state", "gone"}}};
  const Json running = {{{"sweep", "gpu<sweep>"}, {"key", "gpu/ladder_av/-/seed=0/partition=1"}, {"worker", "w1"},
                         {"elapsed_seconds", 42.0},
                         {"progress", {{"epoch", 3}, {"epochs", 8}, {"dev_macro_f1", 0.4567}, {"train_loss", 1.25}}}}};
  const std::string html = RenderStatusPage(sweeps, workers, running, "abc");
  EXPECT_NE(html.find("<a href=\"/report/2/\">live report</a>"), std::string::npos) << html;
  EXPECT_NE(html.find("gpu&lt;sweep&gt;: 6 queued job(s) no connected worker can run: it needs a cuda worker"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>gpu/ladder_av/-/seed=0/partition=1</td><td>w1</td><td>42 s</td><td>3 / 8</td>"
                      "<td>0.457</td><td>1.2500</td>"),
            std::string::npos)
      << html;
  EXPECT_NE(html.find("<td>gone</td>"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  // Nothing running, nothing waiting.
  const std::string idle = RenderStatusPage(Json::array(), Json::array(), Json::array(), "abc");
  EXPECT_NE(idle.find("<h2>Running jobs</h2><p class=\"muted\">none</p>"), std::string::npos);
  EXPECT_EQ(idle.find("Waiting for a worker"), std::string::npos);
}

}  // namespace
}  // namespace avctl
