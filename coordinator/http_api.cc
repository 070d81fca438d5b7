#include "coordinator/http_api.h"

#include <fmt/format.h>

#include "common/protocol.h"
#include "common/text.h"
#include "common/version.h"

namespace avctl {

HttpTarget ParseHttpTarget(const std::string& target) {
  HttpTarget t;
  const size_t q = target.find('?');
  const std::string path = target.substr(0, q);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) t.parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  if (q != std::string::npos) {
    const std::string query = target.substr(q + 1);
    size_t s = 0;
    while (s < query.size()) {
      size_t e = query.find('&', s);
      if (e == std::string::npos) e = query.size();
      const std::string kv = query.substr(s, e - s);
      const size_t eq = kv.find('=');
      t.query[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
      s = e + 1;
    }
  }
  return t;
}

Result<Json> ApiRequest(const HttpTarget& t) {
  const auto& p = t.parts;
  if (p.size() < 2 || p[0] != "api") return Json(nullptr);
  if (p[1] == "workers" && p.size() == 2) return Json{{"op", "workers"}};
  if (p[1] == "events" && p.size() == 2) {
    auto it = t.query.find("after");
    int64_t after = 0;
    if (it != t.query.end()) {
      auto n = ParseInt64(it->second);
      if (!n) {
        return Status::InvalidArgument(fmt::format("after: expected an event id (decimal digits), got \"{}\"",
                                                   SanitizeText(it->second, 40)))
            .WithField("after");
      }
      after = *n;
    }
    return Json{{"op", "events"}, {"after", after}, {"limit", 500}};
  }
  if (p[1] != "sweeps") return Json(nullptr);
  if (p.size() == 2) return Json{{"op", "list"}};
  if (p.size() == 3) return Json{{"op", "status"}, {"sweep", p[2]}};
  if (p.size() == 4 && (p[3] == "jobs" || p[3] == "results")) {
    Json req = {{"op", p[3]}, {"sweep", p[2]}};
    auto it = t.query.find("state");
    if (p[3] == "jobs" && it != t.query.end()) req["state"] = it->second;
    return req;
  }
  return Json(nullptr);
}

HttpApi::HttpApi(Record* record, ControlApi* control, WorkerBroker* broker, const CoordinatorCounters* counters,
                 ReportRenderer* reports)
    : record_(record), control_(control), broker_(broker), counters_(counters), reports_(reports),
      started_(std::chrono::steady_clock::now()) {}

HttpResponse HttpApi::Metrics() {
  CoordinatorCounters c = *counters_;
  c.queue_length = static_cast<int64_t>(broker_->queued());
  c.workers_connected = static_cast<int64_t>(broker_->connected());
  c.slots_total = broker_->slots_total();
  c.slots_busy = broker_->slots_busy();
  c.record_writable = broker_->paused().empty();
  if (server_ != nullptr) {
    const HttpServerStats h = server_->stats();
    c.http_open = h.open;
    c.http_refused = h.refused;
    c.http_timeouts = h.timed_out;
    c.handler_errors += h.handler_errors;
  }
  c.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  auto sweeps = record_->ListSweeps();
  return {200, "text/plain; version=0.0.4", RenderPrometheus(c, sweeps.ok() ? *sweeps : Json::array())};
}

void HttpApi::Handle(const std::string& target, const HttpReply& reply) {
  const HttpTarget t = ParseHttpTarget(target);
  if (t.parts.empty()) {
    // Through the control API's read operations, so that the page shows
    // what `avctl sweep list/status` and /api/sweeps say.
    auto list = control_->Handle({{"op", "list"}});
    auto ws = record_->Workers();
    if (!list.ok() || !ws.ok()) {
      reply({500, "application/json", DumpJson(ControlError(list.ok() ? ws.status() : list.status())) + "\n"});
      return;
    }
    Json running = Json::array();
    for (const auto& sweep : (*list)["sweeps"]) {
      if (sweep["states"].value("running", 0) == 0) continue;
      auto st = control_->Handle({{"op", "status"}, {"sweep", std::to_string(sweep.value("id", int64_t{0}))}});
      if (!st.ok()) continue;  // the sweep went away between the two reads
      for (auto r : (*st)["status"].value("running", Json::array())) {
        r["sweep"] = sweep.value("name", "");
        running.push_back(std::move(r));
      }
    }
    reply({200, "text/html; charset=utf-8", RenderStatusPage((*list)["sweeps"], *ws, running, CodeVersion(),
                                                             list->value("record", Json::object()))});
    return;
  }
  if (t.parts.size() == 1 && t.parts[0] == "metrics") {
    reply(Metrics());
    return;
  }
  if (t.parts[0] == "report" && t.parts.size() == 2 && target.find('?') == std::string::npos &&
      target.back() != '/') {
    reply({301, "text/plain", "moved\n", target + "/"});  // the report's relative links need the slash
    return;
  }
  if (t.parts[0] == "report" && (t.parts.size() == 2 || t.parts.size() == 3)) {
    // The same static report as `avctl report`, rendered live from the record.
    reports_->Render(t.parts[1], t.parts.size() == 3 ? t.parts[2] : "index.html", reply);
    return;
  }
  const Result<Json> req = ApiRequest(t);
  if (!req.ok()) {
    reply({400, "application/json", DumpJson(ControlError(req.status()), 2) + "\n"});
    return;
  }
  if (!req->is_null()) {
    auto fields = control_->Handle(*req);
    if (fields.ok()) {
      reply({200, "application/json", DumpJson(ControlOk(std::move(*fields)), 2) + "\n"});
    } else {
      const int code = fields.status().code() == StatusCode::kNotFound ? 404 : 400;
      reply({code, "application/json", DumpJson(ControlError(fields.status()), 2) + "\n"});
    }
    return;
  }
  reply({404, "application/json",
         DumpJson(ControlError(Status::NotFound("no such page: " + SanitizeText(target)))) + "\n"});
}

}  // namespace avctl
