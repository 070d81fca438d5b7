#include "coordinator/status_page.h"

#include <fmt/format.h>

#include "common/progress_event.h"

#include "common/text.h"

namespace avctl {

namespace {

std::string PromLabel(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string RenderStatusPage(const Json& sweeps, const Json& workers, const Json& running, const std::string& version,
                             const Json& record) {
  std::string html =
      "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>avcoord</title><style>body{font:14px system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
      "td,th{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}.bar{background:#eee;width:200px;"
      "height:10px}.bar div{background:#3a7;height:10px}.warn{color:#8a3b00}.muted{color:#595959}</style></head>"
      "<body><main>";
  html += fmt::format("<h1>avcoord</h1><p>code version {}; refreshes every 5 s; JSON under "
                      "<a href=\"/api/sweeps\">/api/sweeps</a>, <a href=\"/api/workers\">/api/workers</a>; "
                      "<a href=\"/metrics\">/metrics</a></p>", XmlEscape(version));
  if (record.is_object() && !record.value("writable", true)) {
    html += fmt::format("<p class=\"warn\" role=\"alert\"><strong>The record cannot be written.</strong> Dispatch "
                        "and results pause until it can; nothing is lost (workers keep their results and send them "
                        "again). {}</p>",
                        XmlEscape(record.value("reason", "")));
  }
  html += "<h2>Sweeps</h2><table><tr><th>id</th><th>name</th><th>progress</th><th>queued</th><th>running</th>"
          "<th>done</th><th>failed</th><th>cancelled</th><th>report</th></tr>";
  std::string waiting;
  for (const auto& s : sweeps) {
    const Json& st = s["states"];
    const int64_t total = s.value("jobs", 0);
    const int64_t done = st.value("done", 0);
    const double pct = total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0;
    const int64_t id = s.value("id", int64_t{0});
    const std::string name = XmlEscape(s.value("name", ""));
    html += fmt::format(
        "<tr><td>{}</td><td>{} (<a href=\"/api/sweeps/{}\">json</a>)</td><td><div class=\"bar\"><div "
        "style=\"width:{:.0f}%\"></div></div> {}/{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>"
        "<td><a href=\"/report/{}/\">live report</a></td></tr>",
        id, name, id, pct, done, total, st.value("queued", 0), st.value("running", 0), done, st.value("failed", 0),
        st.value("cancelled", 0), id);
    if (s.contains("unrunnable") && s["unrunnable"].value("jobs", 0) > 0) {
      for (const auto& r : s["unrunnable"]["reasons"]) {
        waiting += fmt::format("<li class=\"warn\">sweep {}: {} queued job(s) no connected worker can run: {}</li>",
                               name, r.value("jobs", 0), XmlEscape(r.value("reason", "")));
      }
    }
  }
  html += "</table>";
  if (!waiting.empty()) html += "<h2>Waiting for a worker that can run them</h2><ul>" + waiting + "</ul>";
  html += "<h2>Running jobs</h2>";
  if (running.empty()) {
    html += "<p class=\"muted\">none</p>";
  } else {
    html += "<table><tr><th>sweep</th><th>job</th><th>worker</th><th>running for</th><th>epoch</th>"
            "<th>dev macro F1</th><th>train loss</th></tr>";
    for (const auto& r : running) {
      std::string epoch = "-", f1 = "-", loss = "-";
      if (r.contains("progress") && !r["progress"].is_null()) {
        auto p = ParseProgress(r["progress"], "progress");
        if (!p.ok()) {
          epoch = "unreadable: " + p.status().message();
        } else {
          epoch = p->epochs > 0 ? fmt::format("{} / {}", p->epoch, p->epochs) : std::to_string(p->epoch);
          if (auto v = p->Value("dev_macro_f1")) f1 = fmt::format("{:.3f}", *v);
          if (auto v = p->Value("train_loss")) loss = fmt::format("{:.4f}", *v);
        }
      }
      html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.0f} s</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                          XmlEscape(r.value("sweep", "")), XmlEscape(r.value("key", "")),
                          XmlEscape(r.value("worker", "")), r.value("elapsed_seconds", 0.0), XmlEscape(epoch), f1,
                          loss);
    }
    html += "</table><p class=\"muted\">The first running jobs of each sweep, with their latest finished epoch.</p>";
  }
  html += "<h2>Workers</h2><table><tr><th>id</th><th>host</th><th>device</th><th>slots</th><th>running</th>"
          "<th>succeeded</th><th>state</th></tr>";
  for (const auto& w : workers) {
    std::string device = w.value("device", "");
    if (!w.value("gpu_name", "").empty()) device += " (" + w.value("gpu_name", "") + ")";
    html += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        XmlEscape(w.value("id", "")), XmlEscape(w.value("hostname", "")), XmlEscape(device),
                        w.value("slots", 0), w.value("running", 0), w.value("succeeded", 0),
                        XmlEscape(w.value("state", "")));
  }
  html += "</table><p class=\"muted\">Workers that said bye are \"gone\"; \"lost\" ones stopped answering heartbeats."
          "</p></main></body></html>\n";
  return html;
}

std::string RenderPrometheus(const CoordinatorCounters& c, const Json& sweeps) {
  std::string out;
  auto metric = [&](const char* name, const char* type, const char* help) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
  };
  metric("avctl_messages_received_total", "counter", "Worker messages received, by type.");
  for (const auto& [type, n] : c.messages_in) {
    out += fmt::format("avctl_messages_received_total{{type=\"{}\"}} {}\n", PromLabel(type), n);
  }
  // A metric without labels: its help, its type and its one value.
  auto scalar = [&](const char* name, const char* type, const char* help, int64_t value) {
    metric(name, type, help);
    out += fmt::format("{} {}\n", name, value);
  };
  scalar("avctl_bad_messages_total", "counter", "Messages refused by the decoder.", c.bad_messages);
  scalar("avctl_attempts_dispatched_total", "counter", "Attempts sent to workers.", c.dispatched);
  scalar("avctl_results_total", "counter", "Results received (stored or duplicate).", c.results);
  scalar("avctl_duplicate_results_total", "counter", "Results for jobs that already had one (not stored).",
         c.duplicate_results);
  scalar("avctl_failures_total", "counter", "Attempt failures reported by workers.", c.failures);
  scalar("avctl_attempts_lost_total", "counter", "Attempts lost with their worker.", c.lost_attempts);
  scalar("avctl_workers_lost_total", "counter", "Workers declared dead after missed heartbeats.", c.workers_lost);
  scalar("avctl_control_requests_total", "counter", "Requests on the control endpoint.", c.control_requests);
  scalar("avctl_record_writable", "gauge",
         "1 while the record takes writes; 0 while it cannot (full disk, I/O error): dispatch and results pause "
         "(the reason: avctl sweep list, /api/sweeps).",
         c.record_writable ? 1 : 0);
  scalar("avctl_record_unwritable_rounds_total", "counter", "Rounds rolled back because the record could not be written.",
         c.unwritable_rounds);
  scalar("avctl_deferred_reports_total", "counter",
         "Results and failures left unacknowledged while the record could not be written (workers resend them).",
         c.deferred_reports);
  scalar("avctl_handler_errors_total", "counter",
         "Requests and messages whose handler failed unexpectedly (answered with an error and logged).",
         c.handler_errors);
  scalar("avctl_http_connections_open", "gauge", "HTTP connections open.", c.http_open);
  scalar("avctl_http_connections_refused_total", "counter", "HTTP connections closed at once: the cap was reached.",
         c.http_refused);
  scalar("avctl_http_timeouts_total", "counter", "HTTP connections closed: a request or response took too long.",
         c.http_timeouts);
  scalar("avctl_queue_length", "gauge", "Jobs waiting for a slot.", c.queue_length);
  scalar("avctl_workers_connected", "gauge", "Worker daemons connected.", c.workers_connected);
  metric("avctl_slots", "gauge", "Job slots of connected workers, by use.");
  out += fmt::format("avctl_slots{{use=\"busy\"}} {}\navctl_slots{{use=\"free\"}} {}\n", c.slots_busy,
                     c.slots_total - c.slots_busy);
  metric("avctl_jobs", "gauge", "Jobs per sweep and state.");
  for (const auto& s : sweeps) {
    for (const auto& [state, n] : s["states"].items()) {
      out += fmt::format("avctl_jobs{{sweep=\"{}\",state=\"{}\"}} {}\n", PromLabel(s.value("name", "")), state,
                         n.is_number() ? n.get<int64_t>() : 0);
    }
  }
  metric("avctl_uptime_seconds", "gauge", "Seconds since the coordinator started.");
  out += fmt::format("avctl_uptime_seconds {:.1f}\n", c.uptime_seconds);
  return out;
}

}  // namespace avctl
