// What the coordinator fuzz targets drive: a record in a temporary file with
// one small sweep submitted (so reads find something), a broker with no
// workers (its messages are dropped), the control API, the HTTP API and the
// report renderer, on an io_context the target runs. Built once per fuzzing
// process; each input runs inside a transaction that is rolled back, so the
// record stays the same from one input to the next.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/beast/http.hpp>

#include "common/log.h"
#include "coordinator/control_api.h"
#include "coordinator/http_api.h"
#include "coordinator/report_renderer.h"
#include "coordinator/sequential_scheduler.h"
#include "coordinator/worker_broker.h"
#include "common/protocol.h"
#include "db/database.h"
#include "db/record.h"
#include "sweeps/sweep_spec.h"

namespace avctl::fuzz {

inline Json SeedSpec() {
  return {{"name", "seed"},
          {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
          {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
          {"seeds", 2}};
}

struct CoordinatorFixture {
  CoordinatorFixture() {
    char tmpl[] = "/tmp/avctl-fuzz-XXXXXX";
    dir = ::mkdtemp(tmpl);
    db_path = dir + "/record.db";
    auto opened = Record::Open(db_path);
    if (!opened.ok()) {
      std::fprintf(stderr, "fuzz fixture: %s\n", opened.status().ToString().c_str());
      std::abort();
    }
    record = std::move(*opened);
    broker = std::make_unique<WorkerBroker>(BrokerOptions{}, record.get(), &counters, &log,
                                            [](std::vector<std::string>) {});
    control = std::make_unique<ControlApi>(record.get(), broker.get(), &log);
    auto submitted = control->Handle({{"op", "submit"}, {"spec", SeedSpec()}, {"source", "seed.json"}});
    if (!submitted.ok()) {
      std::fprintf(stderr, "fuzz fixture: %s\n", submitted.status().ToString().c_str());
      std::abort();
    }
    reports = std::make_unique<ReportRenderer>(db_path, io, &log);
    http = std::make_unique<HttpApi>(record.get(), control.get(), broker.get(), &counters, reports.get());
  }

  std::string dir, db_path;
  Logger log{stderr, LogLevel::kError};
  boost::asio::io_context io;
  CoordinatorCounters counters;
  std::unique_ptr<Record> record;
  std::unique_ptr<WorkerBroker> broker;
  std::unique_ptr<ControlApi> control;
  std::unique_ptr<ReportRenderer> reports;
  std::unique_ptr<HttpApi> http;
};

// The HTTP target: Boost.Beast parses `bytes` as a request, as the server
// does; an accepted request goes through HttpApi::Handle. Returns how many
// replies came (exactly 1 is right), or -1 when Beast refused the bytes;
// `status` gets the last reply's status code.
inline int HandleHttpBytes(CoordinatorFixture& fx, const std::string& bytes, int* status) {
  namespace http = boost::beast::http;
  (void)ParseHttpTarget(bytes);
  http::request_parser<http::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(64 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(bytes), ec);
  if ((ec && ec != http::error::need_more) || !parser.is_header_done()) return -1;
  const std::string target(parser.get().target());
  int replies = 0;
  fx.http->Handle(target, [&](HttpResponse r) {
    ++replies;
    *status = r.status;
  });
  // A report renders on the renderer's thread and posts its reply back.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (replies == 0 && std::chrono::steady_clock::now() < deadline) {
    fx.io.restart();
    fx.io.run_one_for(std::chrono::milliseconds(100));
  }
  return replies;
}

// The control target: `bytes` as a control message body; what DecodeControl
// takes goes through ControlApi::Handle inside a transaction that is rolled
// back, with a fresh broker (its queue follows the record). Returns the
// reply as it would be sent. Submits expanding beyond 2,000 jobs are not run
// (nullopt): the limit itself (a million) is the sweep_spec target's and the
// malformed-input test's, and expanding that far per input only measures
// memory. `internal` says whether the reply is an escaped exception's.
inline std::optional<std::string> HandleControlBytes(CoordinatorFixture& fx, const std::string& bytes,
                                                     bool* internal) {
  *internal = false;
  auto req = DecodeControl({kControlSignature, bytes});
  if (!req.ok()) return EncodeControl(ControlError(req.status()));
  if ((*req).contains("op") && (*req)["op"] == "submit" && (*req).contains("spec")) {
    auto spec = ParseSweepSpec((*req)["spec"], "fuzz");
    if (spec.ok() && CountSweepJobs(*spec) > 2000) return std::nullopt;
  }
  WorkerBroker broker(BrokerOptions{}, fx.record.get(), &fx.counters, &fx.log, [](std::vector<std::string>) {});
  auto queued = fx.record->QueuedJobs();
  if (queued.ok()) broker.Enqueue(*queued);
  // Group-sequential sweeps as the coordinator runs them (no design thread:
  // a strict look is analysed at once).
  SequentialScheduler sequential(fx.record.get(), &broker, &fx.log);
  ControlApi api(fx.record.get(), &broker, &fx.log, &sequential);
  auto tx = fx.record->Begin();
  if (!tx.ok()) return EncodeControl(ControlError(tx.status()));
  if (Status st = sequential.Reload(); !st.ok()) return EncodeControl(ControlError(st));
  auto fields = api.Handle(*req);
  sequential.Process();
  *internal = !fields.ok() && fields.status().code() == StatusCode::kInternal;
  const std::string reply = EncodeControl(fields.ok() ? ControlOk(std::move(*fields)) : ControlError(fields.status()));
  (void)tx->Rollback();
  return reply;
}

}  // namespace avctl::fuzz
