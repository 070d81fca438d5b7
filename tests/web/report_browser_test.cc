// The report in a real browser: headless Chromium (Debian's chromium,
// installed by scripts/install-deps.sh --test) loads the fixture sweep's
// report and a λ-grid sweep's report with long variant names, at 1280 px and
// at 390 px (a phone), and a script appended to a copy of the page measures
// the layout after it rendered: no element reaches past the viewport, no
// table is wider than its box, no SVG text runs past its chart's viewBox.
// Its findings are written into the DOM, which Chromium dumps and the test
// reads back. Screenshots of each page and width are kept in
// build/test-artifacts/. axe-core (from the npm registry) checks
// accessibility in the same Chromium; the test is skipped, saying why, where
// npm or the registry cannot be reached.
//
// AVCTL_REPORT_DIRS=dir1:dir2 adds report folders to check as they are (the
// demo's: AVCTL_REPORT_DIRS=runs/demo/report build/bin/web_test
// --gtest_filter='ReportBrowser*').
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "common/json_util.h"
#include "common/text.h"
#include "web/report_analysis.h"
#include "web/report_render.h"
#include "tests/process_runner.h"
#include "tests/web/report_fixture.h"

namespace avctl {
namespace {

std::string FindBrowser() {
  for (const char* c : {"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}) {
    if (fs::exists(c)) return c;
  }
  return "";
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteText(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// Measures the rendered page; the findings go into <pre id="layout-check">.
const char* kLayoutScript = R"JS(
<script>
window.addEventListener('load', function () {
  function name(e) {
    var s = e.tagName.toLowerCase();
    if (e.id) s += '#' + e.id;
    if (e.className && typeof e.className === 'string') s += '.' + e.className.split(' ').join('.');
    var text = (e.textContent || '').trim().slice(0, 40);
    return s + ' "' + text + '"';
  }
  var vw = document.documentElement.clientWidth;
  var out = {viewport: vw, page_width: document.documentElement.scrollWidth, overflow: [], clipped: [], svg_texts: 0};
  document.querySelectorAll('body *').forEach(function (e) {
    if (e.closest('svg') && e.tagName.toLowerCase() !== 'svg') return;
    var r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) return;
    if (r.right > vw + 0.5 || r.left < -0.5) out.overflow.push(name(e) + ' spans ' + r.left.toFixed(1) + '..' + r.right.toFixed(1));
    // Content (text too) wider than its block: it runs out of the box.
    var cs = getComputedStyle(e);
    if (cs.display !== 'inline' && cs.overflowX === 'visible' && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1) {
      out.overflow.push(name(e) + ' holds content ' + e.scrollWidth + ' px wide in ' + e.clientWidth);
    }
  });
  document.querySelectorAll('.scroll').forEach(function (e) {
    if (e.scrollWidth > e.clientWidth + 1) out.overflow.push('scroll box ' + name(e.firstElementChild) + ' ' + e.scrollWidth + ' > ' + e.clientWidth);
  });
  document.querySelectorAll('svg').forEach(function (svg) {
    var vb = svg.viewBox.baseVal;
    var to_svg = svg.getScreenCTM().inverse();
    svg.querySelectorAll('text').forEach(function (t) {
      out.svg_texts++;
      var b = t.getBBox();
      var m = to_svg.multiply(t.getScreenCTM());
      var xs = [], ys = [];
      [[b.x, b.y], [b.x + b.width, b.y], [b.x, b.y + b.height], [b.x + b.width, b.y + b.height]].forEach(function (c) {
        var p = svg.createSVGPoint(); p.x = c[0]; p.y = c[1]; p = p.matrixTransform(m); xs.push(p.x); ys.push(p.y);
      });
      var x0 = Math.min.apply(null, xs), x1 = Math.max.apply(null, xs), y0 = Math.min.apply(null, ys), y1 = Math.max.apply(null, ys);
      if (x0 < vb.x - 0.5 || y0 < vb.y - 0.5 || x1 > vb.x + vb.width + 0.5 || y1 > vb.y + vb.height + 0.5) {
        out.clipped.push('"' + t.textContent + '" at ' + [x0, y0, x1, y1].map(function (v) { return v.toFixed(1); }).join(',') +
                         ' in ' + [vb.x, vb.y, vb.width, vb.height].join(','));
      }
    });
  });
  parent.postMessage({id: 'layout-check', text: JSON.stringify(out)}, '*');
});
</script>
)JS";

const char* kAxeScript = R"JS(
<script src="axe.min.js"></script>
<script>
window.addEventListener('load', function () {
  function put(v) { parent.postMessage({id: 'axe-check', text: JSON.stringify(v)}, '*'); }
  axe.run(document, {resultTypes: ['violations']}).then(function (r) {
    put({violations: r.violations.map(function (v) {
      return {id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.length,
              first: v.nodes.length ? String(v.nodes[0].target) + ' ' + (v.nodes[0].failureSummary || '') : ''};
    })});
  }).catch(function (e) { put({error: String(e)}); });
});
</script>
)JS";

// The JSON a check script left in <pre id="id"> of a dumped DOM.
Json ReadBack(const std::string& dom, const std::string& id) {
  const std::string open = "<pre id=\"" + id + "\">";
  const size_t a = dom.find(open);
  if (a == std::string::npos) return Json();
  const size_t b = dom.find("</pre>", a);
  std::string text = dom.substr(a + open.size(), b - a - open.size());
  // The serialiser escapes <, > and & in text; &amp; last, so that "&amp;lt;" stays "&lt;".
  for (const auto& [entity, ch] : {std::pair<std::string, std::string>{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
    for (size_t at = text.find(entity); at != std::string::npos; at = text.find(entity, at + ch.size())) {
      text.replace(at, entity.size(), ch);
    }
  }
  return Json::parse(text, nullptr, false);
}

class ReportBrowser : public ReportTest {
 protected:
  void SetUp() override {
    ReportTest::SetUp();
    browser_ = FindBrowser();
    if (browser_.empty()) {
      GTEST_SKIP() << "no chromium here: install it with scripts/install-deps.sh --test (the test set-up does)";
    }
    artefacts_ = fs::path(AVCTL_BINARY_DIR) / "test-artifacts";
    fs::create_directories(artefacts_);
  }

  // The fixture's report (grid: the λ-grid sweep with long names) written to a folder.
  fs::path Site(bool grid) {
    BuildFixture(grid ? 4 : 6, grid);
    ReportData d = Load();
    const fs::path site = dir_ / (grid ? "grid" : "fixture");
    fs::create_directories(site);
    for (const auto& [name, content] : RenderReport(d, AnalyzeReport(d))) WriteText(site / name, content);
    return site;
  }

  testutil::ProcessRun Chromium(const std::string& args) {
    const std::string flags = "--headless=new --no-sandbox --disable-gpu --no-first-run --hide-scrollbars "
                              "--user-data-dir=" + (dir_ / "profile").string() + " --enable-logging=stderr --v=0 ";
    return testutil::RunCommand("timeout 120 " + browser_ + " " + flags + args);
  }

  // Loads `page` of `site` with `script` appended in a `width` px frame (a
  // headless window is at least 500 px wide, so phones are framed); the JSON
  // the script posted to the frame's parent under `id`.
  Json Check(const fs::path& site, const std::string& page, const char* script, const std::string& id, int width,
             std::string* log, bool print = false) {
    const fs::path copy = site / ("check-" + page);
    std::string html = ReadText(site / page);
    if (print) {
      // Print, emulated: the print rules apply, the narrow-screen ones do not
      // (a printout keeps the table layout), at the width of A4 less margins.
      const auto swap = [&](const std::string& from, const std::string& to) {
        const size_t at = html.find(from);
        ASSERT_NE(at, std::string::npos) << from;
        html.replace(at, from.size(), to);
      };
      swap("@media print{", "@media all{");
      swap("@media (max-width:720px){", "@media (max-width:1px){");
    }
    const size_t body = html.rfind("</body>");
    html.insert(body == std::string::npos ? html.size() : body, script);
    WriteText(copy, html);
    const fs::path frame = site / "check-frame.html";
    WriteText(frame, fmt::format("<!doctype html><html><body style=\"margin:0\"><iframe src=\"{}\" style=\"width:{}px;"
                                 "height:3000px;border:0\"></iframe><script>window.addEventListener('message', "
                                 "function (e) {{ var pre = document.createElement('pre'); pre.id = e.data.id; "
                                 "pre.textContent = e.data.text; document.body.appendChild(pre); }});</script>"
                                 "</body></html>",
                                 copy.filename().string(), width));
    auto r = Chromium(fmt::format("--window-size={},2000 --virtual-time-budget=20000 --dump-dom file://{}",
                                  std::max(width + 40, 600), frame.string()));
    fs::remove(copy);
    fs::remove(frame);
    *log = r.output.substr(0, 3000);
    return ReadBack(r.output, id);
  }

  void ExpectFits(const fs::path& site, const std::string& label) {
    for (const char* page : {"index.html", "variant-1.html"}) {
      if (!fs::exists(site / page)) continue;
      for (int width : {1280, 390}) {
        SCOPED_TRACE(fmt::format("{} {} at {} px", label, page, width));
        std::string log;
        const Json j = Check(site, page, kLayoutScript, "layout-check", width, &log);
        ASSERT_TRUE(j.is_object()) << "the layout script left no result: " << log;
        EXPECT_EQ(j["viewport"].get<int>(), width) << "the window was not the size asked for";
        EXPECT_LE(j["page_width"].get<int>(), width) << j.dump(1);
        EXPECT_TRUE(j["overflow"].empty()) << j["overflow"].dump(1);
        EXPECT_TRUE(j["clipped"].empty()) << j["clipped"].dump(1);
        if (std::string(page) == "index.html") {
          EXPECT_GT(j["svg_texts"].get<int>(), 20);
        }
        if (width == 1280) {
          SCOPED_TRACE("printed (print rules at the 718 px of A4 less 1 cm margins)");
          const Json p = Check(site, page, kLayoutScript, "layout-check", 718, &log, /*print=*/true);
          ASSERT_TRUE(p.is_object()) << "the layout script left no result: " << log;
          EXPECT_TRUE(p["overflow"].empty()) << p["overflow"].dump(1);
          EXPECT_LE(p["page_width"].get<int>(), 718);
        }
        const fs::path shot = artefacts_ / fmt::format("report-{}-{}-{}.png", label, fs::path(page).stem().string(), width);
        fs::remove(shot);
        const fs::path frame = site / "shot-frame.html";
        WriteText(frame, fmt::format("<!doctype html><html><body style=\"margin:0\"><iframe src=\"{}\" "
                                     "style=\"width:{}px;height:2400px;border:0\"></iframe></body></html>",
                                     page, width));
        auto r = Chromium(fmt::format("--window-size={},2400 --virtual-time-budget=5000 --screenshot={} file://{}",
                                      std::max(width, 500), shot.string(), frame.string()));
        fs::remove(frame);
        EXPECT_TRUE(fs::exists(shot)) << r.output.substr(0, 2000);
      }
    }
  }

  std::string browser_;
  fs::path artefacts_;
};

TEST_F(ReportBrowser, LoadsWithoutConsoleErrors) {
  const fs::path site = Site(false);
  const std::string url = "file://" + (site / "index.html").string();
  auto r = Chromium("--window-size=1280,2400 --dump-dom " + url);
  // Console messages (script errors, console.error) are logged as CONSOLE lines.
  EXPECT_EQ(r.output.find("CONSOLE"), std::string::npos) << r.output.substr(0, 2000);
  EXPECT_EQ(r.output.find("Uncaught"), std::string::npos) << r.output.substr(0, 2000);
  EXPECT_NE(r.output.find("Comparisons: matched paired one-tailed t-tests"), std::string::npos);
  EXPECT_NE(r.output.find("<svg"), std::string::npos);
}

TEST_F(ReportBrowser, FixtureReportFitsAt1280And390Pixels) { ExpectFits(Site(false), "fixture"); }

TEST_F(ReportBrowser, GridReportWithLongNamesFitsAt1280And390Pixels) { ExpectFits(Site(true), "grid"); }

// Report folders named in AVCTL_REPORT_DIRS (the demo's, say), checked as they are.
TEST_F(ReportBrowser, ReportFoldersNamedInTheEnvironmentFit) {
  const char* dirs = std::getenv("AVCTL_REPORT_DIRS");
  if (dirs == nullptr || *dirs == '\0') GTEST_SKIP() << "AVCTL_REPORT_DIRS is not set";
  int n = 0;
  for (std::string_view d : SplitOn(dirs, ':')) {
    const fs::path src(d);
    ASSERT_TRUE(fs::exists(src / "index.html")) << src;
    const fs::path site = dir_ / fmt::format("env-{}", ++n);
    fs::copy(src, site, fs::copy_options::recursive);
    ExpectFits(site, fmt::format("env{}", n));
  }
}

// axe-core's rules (WCAG 2 A/AA and best practices) in the same Chromium:
// the path of axe.min.js, fetched once into build/test-tools, or "" with
// the reason it could not be had.
fs::path AxeJs(std::string* why) {
  if (const char* env = std::getenv("AVCTL_AXE_JS"); env != nullptr && *env != '\0') return env;
  const fs::path tools = fs::path(AVCTL_BINARY_DIR) / "test-tools";
  const fs::path installed = tools / "node_modules" / "axe-core" / "axe.min.js";
  if (fs::exists(installed)) return installed;
  if (testutil::RunCommand("command -v npm").exit_code != 0) {
    *why = "axe-core not run: npm is not installed (it fetches axe-core from the npm registry)";
    return "";
  }
  auto r = testutil::RunCommand("timeout 180 npm install --prefix " + tools.string() +
                                " axe-core@4 --no-audit --no-fund --loglevel=error");
  if (r.exit_code != 0 || !fs::exists(installed)) {
    *why = "axe-core not run: npm could not fetch it from the registry: " + r.output.substr(0, 600);
    return "";
  }
  return installed;
}

class ReportAccessibility : public ReportBrowser, public ::testing::WithParamInterface<bool> {};

TEST_P(ReportAccessibility, NoSeriousOrCriticalViolations) {
  std::string why;
  const fs::path axe = AxeJs(&why);
  if (axe.empty()) GTEST_SKIP() << why;
  const bool grid = GetParam();
  const fs::path site = Site(grid);
  fs::copy_file(axe, site / "axe.min.js", fs::copy_options::overwrite_existing);
  for (const char* page : {"index.html", "variant-1.html"}) {
    for (int width : {1280, 390}) {
      SCOPED_TRACE(fmt::format("{} {} at {} px", grid ? "grid" : "fixture", page, width));
      std::string log;
      const Json j = Check(site, page, kAxeScript, "axe-check", width, &log);
      ASSERT_TRUE(j.is_object()) << "axe left no result: " << log;
      ASSERT_FALSE(j.contains("error")) << j.dump();
      for (const auto& v : j["violations"]) {
        const std::string impact = v.value("impact", "");
        EXPECT_TRUE(impact != "serious" && impact != "critical") << v.dump(1);
        if (impact == "minor" || impact == "moderate") std::printf("axe (%s): %s\n", impact.c_str(), v.dump().c_str());
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(FixtureAndGrid, ReportAccessibility, ::testing::Values(false, true),
                         [](const ::testing::TestParamInfo<bool>& i) { return i.param ? "Grid" : "Fixture"; });

}  // namespace
}  // namespace avctl
