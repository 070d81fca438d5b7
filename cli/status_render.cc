#include "cli/status_render.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include <fmt/format.h>

#include "common/progress_event.h"

#include "common/text.h"

namespace avctl::cli {

namespace {

int64_t StateCount(const Json& states, const char* s) {
  return states.contains(s) && states[s].is_number() ? states[s].get<int64_t>() : 0;
}

}  // namespace

std::string FormatDuration(double seconds) {
  if (!(seconds >= 0)) return "?";
  const int64_t s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

std::string RenderRecordHealth(const Json& reply) {
  const Json record = reply.is_object() ? reply.value("record", Json::object()) : Json::object();
  if (!record.is_object() || record.value("writable", true)) return "";
  return fmt::format("warning: {}; dispatch and results pause until it can be written (nothing is lost: workers "
                     "keep their results)\n",
                     record.value("reason", "the record cannot be written"));
}

std::string RenderUnrunnable(const Json& st) {
  if (!st.contains("unrunnable") || !st["unrunnable"].is_object()) return "";
  std::string out;
  for (const auto& r : st["unrunnable"].value("reasons", Json::array())) {
    out += fmt::format("  waiting: {} queued job(s) that no connected worker can run: {}\n", r.value("jobs", 0),
                       r.value("reason", ""));
  }
  return out;
}

std::string RenderSequential(const Json& st) {
  if (!st.contains("sequential") || !st["sequential"].is_object()) return "";
  const Json& seq = st["sequential"];
  const Json design = seq.value("design", Json::object());
  std::string looks;
  for (const auto& n : design.value("looks", Json::array())) looks += (looks.empty() ? "" : ", ") + n.dump();
  const Json list = seq.value("looks", Json::array());
  std::string out = fmt::format("  group-sequential: {} of {} looks analysed (pairs {}; {} spending{}, {} release)\n",
                                list.size(), design.value("looks", Json::array()).size(), looks,
                                design.value("spending", "obrien_fleming"),
                                design.value("futility", "none") == "none" ? "" : ", non-binding futility",
                                design.value("release", "held"));
  if (seq.contains("error")) out += "  looks stopped: " + seq.value("error", "") + "\n";
  if (list.empty()) return out;
  const Json& last = list.back();
  for (const auto& t : last.value("tests", Json::array())) {
    const std::string name = fmt::format("{} vs {} ({})", t.value("variant", ""), t.value("baseline", ""),
                                         t.value("metric", ""));
    const std::string decision = t.value("decision", "continue");
    const auto num = [&](const char* k) { return t.contains(k) && t[k].is_number() ? t[k].get<double>() : NAN; };
    if (decision == "continue") {
      out += fmt::format("    {}: continues; p {:.3g} with {} pairs (bound {:.3g}), alpha share {:.3g}\n", name,
                         num("p"), t.value("pairs", 0), num("bound_p"), num("level"));
    } else {
      out += fmt::format("    {}: {} at look {}; p {:.3g} with {} pairs (bound {:.3g})\n", name, decision,
                         t.value("decided_look", -1) + 1, num("p"), t.value("pairs", 0), num("bound_p"));
    }
  }
  return out;
}

std::string RenderSweepStatus(const Json& st) {
  const Json& states = st["states"];
  const int64_t total = st.value("jobs", int64_t{0});
  const int64_t done = StateCount(states, "done"), failed = StateCount(states, "failed"),
                cancelled = StateCount(states, "cancelled"), not_needed = StateCount(states, "not_needed");
  const int64_t finished = done + failed + cancelled + not_needed;
  const bool sequential = st.contains("sequential");
  const int width = 30;
  const int filled = total > 0 ? static_cast<int>(width * finished / total) : width;
  std::string eta = st.contains("eta_seconds") && st["eta_seconds"].is_number()
                        ? "ETA " + FormatDuration(st["eta_seconds"].get<double>())
                        : (st.value("finished", false) ? "finished" : "ETA ?");
  std::string out = fmt::format("sweep {} (id {})  [{}{}] {}/{} finished, {}\n", st.value("name", ""),
                                st.value("id", 0), std::string(filled, '#'), std::string(width - filled, '.'),
                                finished, total, eta);
  out += fmt::format("  {:<24} {:>8} {:>7} {:>7} {:>6} {:>6} {:>9}", "variant", "role", "queued", "running", "done",
                     "failed", "cancelled");
  out += sequential ? fmt::format(" {:>6} {:>10}\n", "held", "not needed") : "\n";
  for (const auto& v : st["variants"]) {
    const Json& s = v["states"];
    out += fmt::format("  {:<24} {:>8} {:>7} {:>7} {:>6} {:>6} {:>9}", v.value("name", ""),
                       v.value("role", "").substr(0, 8), StateCount(s, "queued"), StateCount(s, "running"),
                       StateCount(s, "done"), StateCount(s, "failed"), StateCount(s, "cancelled"));
    out += sequential ? fmt::format(" {:>6} {:>10}\n", StateCount(s, "held"), StateCount(s, "not_needed")) : "\n";
  }
  out += RenderSequential(st);
  out += RenderUnrunnable(st);
  if (st.contains("running") && st["running"].is_array() && !st["running"].empty()) {
    out += fmt::format("  running:\n");
    for (const auto& r : st["running"]) {
      std::string progress = "starting";
      if (r.contains("progress") && !r["progress"].is_null()) {
        auto p = ParseProgress(r["progress"], "progress of " + r.value("key", std::string("?")));
        if (!p.ok()) {
          progress = "unreadable progress: " + p.status().message();
        } else {
          progress = fmt::format("epoch {}/{}", p->epoch, p->epochs);
          if (p->epochs > 0) {
            const int bar = 10, full = static_cast<int>(bar * std::min(p->epoch, p->epochs) / p->epochs);
            progress = fmt::format("[{}{}] {}", std::string(full, '#'), std::string(bar - full, '.'), progress);
          }
          if (auto v = p->Value("dev_loss")) progress += fmt::format("  dev loss {:.4f}", *v);
          if (auto v = p->Value("dev_macro_f1")) progress += fmt::format("  dev F1 {:.3f}", *v);
        }
      }
      out += fmt::format("    {:<40} {:<16} {:>7}  {}\n", r.value("key", ""), r.value("worker", ""),
                         FormatDuration(r.value("elapsed_seconds", 0.0)), progress);
    }
  }
  return out;
}

std::string RenderSweepList(const Json& sweeps) {
  std::string out = fmt::format("{:>4}  {:<24} {:>6} {:>7} {:>7} {:>6} {:>6}\n", "id", "name", "jobs", "queued",
                                "running", "done", "failed");
  for (const auto& s : sweeps) {
    const Json& st = s["states"];
    out += fmt::format("{:>4}  {:<24} {:>6} {:>7} {:>7} {:>6} {:>6}\n", s.value("id", 0), s.value("name", ""),
                       s.value("jobs", 0), StateCount(st, "queued"), StateCount(st, "running"),
                       StateCount(st, "done"), StateCount(st, "failed"));
  }
  return out;
}

std::string RenderWorkers(const Json& workers) {
  std::string out = fmt::format("{:<20} {:<16} {:<22} {:>5} {:>7} {:>9}  {}\n", "id", "host", "device", "slots",
                                "running", "succeeded", "state");
  for (const auto& w : workers) {
    std::string device = w.value("device", "");
    if (!w.value("gpu_name", "").empty()) device += " " + w.value("gpu_name", "");
    std::string state = w.value("state", "");
    const Json& labels = w.contains("labels") ? w["labels"] : Json::object();
    if (labels.is_object() && labels.contains("slurm_job_id")) {
      state += " slurm:" + labels["slurm_job_id"].get<std::string>();
    }
    if (w.contains("held") && w["held"].is_string()) state += " (held: " + w["held"].get<std::string>() + ")";
    out += fmt::format("{:<20} {:<16} {:<22} {:>5} {:>7} {:>9}  {}\n", w.value("id", ""), w.value("hostname", ""),
                       device, w.value("slots", 0), w.value("running", 0), w.value("succeeded", 0), state);
  }
  return out;
}

std::string RenderJobs(const Json& jobs) {
  std::string out = fmt::format("{:<52} {:<9} {:>8} {:<14} {}\n", "key", "state", "attempts", "worker", "reason");
  for (const auto& j : jobs) {
    out += fmt::format("{:<52} {:<9} {:>8} {:<14} {}\n", j.value("key", ""), j.value("state", ""),
                       fmt::format("{}/{}", j.value("attempts", 0), j.value("max_attempts", 0)),
                       j.value("worker", ""), j.value("reason", ""));
  }
  return out;
}

std::string ResultsToCsv(const std::vector<ResultRow>& results) {
  std::set<std::string> metrics;
  for (const auto& r : results) {
    for (const auto& [k, v] : r.metrics) metrics.insert(k);
  }
  std::string out = "key,variant,point,seed,partition,worker,seconds";
  for (const auto& m : metrics) out += "," + CsvField(m);
  out += "\n";
  for (const auto& r : results) {
    out += fmt::format("{},{},{},{},{},{},{:.3f}", CsvField(r.key), CsvField(r.variant), CsvField(r.point), r.seed,
                       r.partition, CsvField(r.worker), r.seconds);
    for (const auto& m : metrics) {
      auto it = r.metrics.find(m);
      out += it != r.metrics.end() ? fmt::format(",{:.6g}", it->second) : std::string(",");
    }
    out += "\n";
  }
  return out;
}

std::string RenderResultSummary(const std::vector<ResultRow>& results, const std::string& metric) {
  std::map<std::string, std::vector<double>> by_variant;
  std::vector<std::string> order;
  for (const auto& r : results) {
    const std::string v = r.variant + (r.point.empty() ? "" : " " + r.point);
    if (!by_variant.count(v)) order.push_back(v);
    auto& xs = by_variant[v];
    if (auto it = r.metrics.find(metric); it != r.metrics.end()) xs.push_back(it->second);
  }
  std::string out = fmt::format("  {:<32} {:>5} {:>10} {:>8}\n", "variant", "runs", metric, "sd");
  for (const auto& v : order) {
    const auto& xs = by_variant[v];
    double mean = 0, sd = 0;
    for (double x : xs) mean += x;
    if (!xs.empty()) mean /= static_cast<double>(xs.size());
    for (double x : xs) sd += (x - mean) * (x - mean);
    sd = xs.size() > 1 ? std::sqrt(sd / static_cast<double>(xs.size() - 1)) : 0;
    out += fmt::format("  {:<32} {:>5} {:>10.4f} {:>8.4f}\n", v, xs.size(), mean, sd);
  }
  return out;
}

}  // namespace avctl::cli
