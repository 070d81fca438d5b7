// Malformed input, table-driven: each case feeds the system something broken
// through the way it would arrive (a control request, worker-socket frames, a
// process's arguments, a file), expects a clear error naming what is at fault,
// and checks that nothing already stored changed (a snapshot of every table of
// the record but the event log, before and after).
#include <signal.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <zmq.hpp>

#include "cli/control_client.h"
#include "cli/report_command.h"
#include "common/file_util.h"
#include "common/json_util.h"
#include "common/protocol.h"
#include "db/record.h"
#include "sweeps/sweep_spec.h"
#include "db/database.h"
#include "net/zmq_util.h"
#include "tests/cluster/cluster_fixture.h"
#include "tests/process_runner.h"
#include "tests/raw_http.h"
#include "tests/sweeps/bad_specs.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;
using testutil::ChildProcess;
using testutil::kBin;
using testutil::RunCommand;
using testutil::WaitUntil;

struct Case {
  std::string name;
  std::function<std::string()> run;  // returns the error the system gave
  std::string expect;                // a fragment of it that names what is at fault
};

// Every table but events (the log of what happened, refusals included); of
// workers only who is known (liveness changes their state on its own).
std::string Snapshot(const std::string& db_path) {
  DatabaseOptions o;
  o.read_only = true;
  auto db = Database::Open(db_path, o);
  if (!db.ok()) return "cannot open: " + db.status().ToString();
  std::string out;
  for (const char* table : {"sweeps", "variants", "jobs", "attempts", "epochs", "results", "workers"}) {
    auto q = (*db)->Prepare(fmt::format("SELECT {} FROM {} ORDER BY 1", std::string(table) == "workers" ? "id" : "*",
                                        table));
    if (!q.ok()) return q.status().ToString();
    out += fmt::format("[{}]\n", table);
    while (true) {
      auto row = q->Step();
      if (!row.ok() || !*row) break;
      for (int c = 0; c < q->ColumnCount(); ++c) out += q->ColumnText(c) + "|";
      out += "\n";
    }
  }
  return out;
}

class MalformedInputTest : public testutil::ClusterTest {
 protected:
  // The coordinator log written since `mark`, waiting up to 5 s for `needle`.
  std::string LogSince(size_t mark, const std::string& needle) {
    std::string tail;
    WaitUntil([&] {
      const std::string log = coord_->Log();
      tail = log.size() > mark ? log.substr(mark) : "";
      return tail.find(needle) != std::string::npos;
    }, 5);
    return tail;
  }
};

TEST_F(MalformedInputTest, EachBadInputGetsAClearErrorAndChangesNothing) {
  StartCoordinator();
  // A record with something in it: a sweep and a worker session (a raw peer).
  auto quick = ReadJsonFile(testutil::kQuickSpec);
  ASSERT_TRUE(quick.ok());
  ASSERT_EQ(Call({{"op", "submit"}, {"spec", *quick}, {"source", "quick.json"}}).value("jobs", 0), 30);
  zmq::context_t ctx(1);
  zmq::socket_t peer(ctx, zmq::socket_type::dealer);
  ConfigureSocket(peer, 0);
  peer.set(zmq::sockopt::rcvtimeo, 3000);
  peer.connect(ep_["workers"].get<std::string>());
  ASSERT_TRUE(SendFrames(peer, EncodeWorkerMessage({MsgType::kHello, {{"protocol", kProtocolVersion},
                                                    {"worker_id", "peer"}, {"device", "cuda:0"}, {"slots", 1},
                                                    {"gpu_memory_mb", 1}}}), true).ok());
  auto welcome = RecvFrames(peer, true);
  ASSERT_TRUE(welcome.has_value());
  ASSERT_EQ(DecodeWorkerMessage(*welcome)->type, MsgType::kWelcome);  // a cuda peer: no cpu job goes to it

  auto hello = [&] {  // (again): the peer sends no heartbeats, so it says hello before each case
    EXPECT_TRUE(SendFrames(peer, EncodeWorkerMessage({MsgType::kHello, {{"protocol", kProtocolVersion},
                                                      {"worker_id", "peer"}, {"device", "cuda:0"}, {"slots", 1},
                                                      {"gpu_memory_mb", 1}}}), true).ok());
    for (int i = 0; i < 20; ++i) {
      auto r = RecvFrames(peer, true);
      if (!r) break;
      auto m = DecodeWorkerMessage(*r);
      if (m.ok() && m->type == MsgType::kWelcome) return;
    }
    ADD_FAILURE() << "no welcome for the raw peer";
  };
  auto send_frames = [&](const std::vector<std::string>& frames, const std::string& needle) {
    hello();
    const size_t mark = coord_->Log().size();
    EXPECT_TRUE(SendFrames(peer, frames, true).ok());
    return LogSince(mark, needle);
  };
  auto reply_to = [&](const std::vector<std::string>& frames) -> std::string {
    zmq::socket_t fresh(ctx, zmq::socket_type::dealer);  // a peer without a session
    ConfigureSocket(fresh, 0);
    fresh.set(zmq::sockopt::rcvtimeo, 3000);
    fresh.connect(ep_["workers"].get<std::string>());
    EXPECT_TRUE(SendFrames(fresh, frames, true).ok());
    auto r = RecvFrames(fresh, true);
    if (!r) return "(no reply)";
    auto m = DecodeWorkerMessage(*r);
    return m.ok() ? std::string(MsgTypeName(m->type)) + " " + m->body.dump() : m.status().ToString();
  };
  auto control = [&](const std::vector<std::string>& frames) -> std::string {
    zmq::socket_t req(ctx, zmq::socket_type::req);
    ConfigureSocket(req, 0);
    req.set(zmq::sockopt::rcvtimeo, 3000);
    req.connect(ep_["control"].get<std::string>());
    EXPECT_TRUE(SendFrames(req, frames, true).ok());
    auto r = RecvFrames(req, true);
    return r ? (r->size() > 1 ? (*r)[1] : (*r)[0]) : "(no reply)";
  };

  // A tiny store, a copy of it with one byte changed, and a job to run on them.
  const std::string store = (dir_ / "store").string();
  auto synth = RunCommand(fmt::format("{}avctl data synth --profile tiny --seed 2 --out {} 2>&1", kBin, store));
  ASSERT_EQ(synth.exit_code, 0) << synth.output;
  const std::string corrupt = (dir_ / "corrupt").string();
  fs::copy(store, corrupt, fs::copy_options::recursive);
  {
    std::fstream f(fs::path(corrupt) / "visual.f16", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good());
    f.seekp(4096);
    f.write("!!!!", 4);
  }
  const std::string job = (dir_ / "job.json").string();
  ASSERT_TRUE(WriteJsonFileAtomic(job, Json{{"variant", "backbone"}, {"seed", 1}, {"threads", 1},
                                            {"model", {{"heads", 2}, {"cross_layers", 1}, {"self_layers", 1},
                                                       {"aux_repeats", 1}, {"pooling", "mean"}}},
                                            {"train", {{"epochs", 1}, {"max_train_batches", 4}}}}).ok());
  const std::string nan_job = (dir_ / "nan_job.json").string();
  {
    auto j = ReadJsonFile(job);
    ASSERT_TRUE(j.ok());
    (*j)["train"]["lr"] = 1e30;  // the first Adam step sends the weights to ~1e30: the loss is not finite
    ASSERT_TRUE(WriteJsonFileAtomic(nan_job, *j).ok());
  }
  auto train = [&](const std::string& job_path, const std::string& store_args) -> std::string {
    const std::string out = (dir_ / "result.json").string();
    fs::remove(out);
    auto r = RunCommand(fmt::format("{}avworker train --job {} {} --out {} --threads 1 2>&1", kBin, job_path,
                                    store_args, out));
    EXPECT_EQ(r.exit_code, 1) << r.output;
    auto result = ReadJsonFile(out);
    return result.ok() ? result->dump() : r.output;
  };

  std::vector<Case> cases;
  // Broken sweep specs, submitted to the live coordinator.
  for (const testutil::BadSpec& b : testutil::BadSpecs()) {
    cases.push_back({"spec " + b.name, [&, b] {
                       auto r = cli::CallCoordinator(ep_["control"].get<std::string>(),
                                                     {{"op", "submit"}, {"spec", Json::parse(b.json)},
                                                      {"source", "bad.json"}});
                       return r.ok() ? std::string("(accepted)") : r.status().ToString();
                     }, b.field});
  }
  cases.push_back({"spec file that is not JSON", [&] {
                     const std::string path = (dir_ / "broken.json").string();
                     std::ofstream(path) << "{\"name\": \"x\",\n \"seeds\": [1, 2,, 3]}";
                     return RunCommand(fmt::format("{}avctl sweep submit {} --coordinator {} 2>&1", kBin, path,
                                                   ep_["control"].get<std::string>())).output;
                   }, "broken.json"});
  cases.push_back({"spec expanding beyond the limit", [&] {
                     Json spec = *quick;
                     spec["name"] = "huge";
                     spec["seeds"] = 100000;
                     Json values = Json::array();
                     for (int i = 1; i <= 20; ++i) values.push_back(i);
                     spec["variants"][0]["space"] = {{"train.epochs", values}};
                     auto r = cli::CallCoordinator(ep_["control"].get<std::string>(),
                                                   {{"op", "submit"}, {"spec", spec}, {"source", "huge.json"}});
                     return r.ok() ? std::string("(accepted)") : r.status().ToString();
                   }, "more than the 1000000"});
  // Worker-socket frames.
  cases.push_back({"garbage frame", [&] { return send_frames({"GET / HTTP/1.0"}, "bad message"); }, "bad message"});
  cases.push_back({"unknown message type",
                   [&] { return send_frames({kWorkerSignature, "explode", "{}"}, "explode"); },
                   "unknown message type \"explode\""});
  cases.push_back({"body that is not JSON",
                   [&] { return send_frames({kWorkerSignature, "heartbeat", "{nope"}, "bad message"); },
                   "invalid JSON"});
  cases.push_back({"number beyond a double (the fuzzer's finding)",
                   [&] { return send_frames({kWorkerSignature, "progress", R"({"attempt_id": 1e999})"}, "bad message"); },
                   "bad message"});
  cases.push_back({"message missing a required field",
                   [&] { return send_frames({kWorkerSignature, "result", R"({"result": {}})"}, "bad message"); },
                   "attempt_id"});
  cases.push_back({"result for an unknown attempt", [&] {
                     return send_frames(EncodeWorkerMessage({MsgType::kResult, {{"attempt_id", 4242},
                                                                                {"result", {{"status", "ok"}}}}}),
                                        "unknown to the record");
                   }, "attempt unknown to the record"});
  cases.push_back({"a message only the coordinator sends",
                   [&] { return send_frames(EncodeWorkerMessage({MsgType::kAck, {{"attempt_id", 1}}}), "only the coordinator"); },
                   "only the coordinator sends"});
  cases.push_back({"wrong protocol version", [&] {
                     return reply_to(EncodeWorkerMessage({MsgType::kHello, {{"protocol", 99}, {"worker_id", "old"},
                                                                            {"device", "cpu"}, {"slots", 1}}}));
                   }, "protocol version 99"});
  cases.push_back({"hello with an unknown device", [&] {
                     return reply_to(EncodeWorkerMessage({MsgType::kHello, {{"protocol", kProtocolVersion},
                                                                            {"worker_id", "tpu1"}, {"device", "tpu"},
                                                                            {"slots", 1}}}));
                   }, "refused {\"reason\":\"hello.device: expected"});
  cases.push_back({"result before hello", [&] {
                     return reply_to(EncodeWorkerMessage({MsgType::kResult, {{"attempt_id", 1},
                                                                             {"result", {{"status", "ok"}}}}}));
                   }, "reconnect"});
  cases.push_back({"frame beyond the 16 MiB limit", [&] {
                     // libzmq (ZMQ_MAXMSGSIZE) drops the connection before a byte reaches the coordinator,
                     // which keeps answering everyone else.
                     const std::string big(17 * 1024 * 1024, 'x');
                     reply_to({kWorkerSignature, "heartbeat", big});
                     return std::string("dropped; coordinator alive: ") +
                            (Call({{"op", "ping"}}).contains("workers") ? "yes" : "no");
                   }, "coordinator alive: yes"});
  // Control socket.
  cases.push_back({"control request that is not JSON", [&] { return control({kControlSignature, "{op"}); },
                   "invalid JSON"});
  cases.push_back({"control request with an unknown op",
                   [&] { return control({kControlSignature, R"({"op": "format_disk"})"}); }, "format_disk"});
  cases.push_back({"control request without the signature",
                   [&] { return control({"HELLO", R"({"op": "ping"})"}); }, "AVCTL-C1"});
  cases.push_back({"control status of a sweep id beyond int64 (ended avcoord once)", [&] {
                     return control({kControlSignature, R"({"op": "status", "sweep": "99999999999999999999"})"});
                   }, "99999999999999999999\\\": an id is at most"});
  cases.push_back({"avctl sweep status of a sweep id beyond int64", [&] {
                     return RunCommand(fmt::format("{}avctl sweep status 99999999999999999999 --coordinator {} 2>&1",
                                                   kBin, ep_["control"].get<std::string>())).output;
                   }, "an id is at most"});
  cases.push_back({"control events with a text 'after'",
                   [&] { return control({kControlSignature, R"({"op": "events", "after": "soon"})"}); },
                   "request.after: expected an integer"});
  cases.push_back({"control jobs with a numeric 'state'",
                   [&] { return control({kControlSignature, R"({"op": "jobs", "sweep": "quick", "state": 7})"}); },
                   "request.state: expected a string"});
  cases.push_back({"control events with a huge limit",
                   [&] { return control({kControlSignature, R"({"op": "events", "limit": 1000000000000})"}); },
                   "request.limit: expected 1 to 1000"});
  cases.push_back({"control body with a byte that is not UTF-8",
                   [&] { return control({kControlSignature, "{\"op\": \"ping\xff\"}"}); }, "invalid JSON"});
  cases.push_back({"control sweep name with a byte that is not UTF-8 (escaped, so valid JSON)",
                   [&] { return control({kControlSignature, R"({"op": "status", "sweep": "\u00ff\ud800"})"}); },
                   "error"});
  // HTTP.
  const int http_port = std::stoi(ep_["http"].get<std::string>().substr(ep_["http"].get<std::string>().rfind(':') + 1));
  auto http = [&](const std::string& target) {
    const std::string r = testutil::HttpGet(http_port, target);
    return fmt::format("status {}: {}", testutil::HttpStatus(r), r);
  };
  cases.push_back({"HTTP sweep id beyond int64 (ended avcoord once)",
                   [&] { return http("/api/sweeps/99999999999999999999"); }, "status 400"});
  cases.push_back({"HTTP path with a raw 0xFF byte (ended avcoord once)", [&] { return http("/\xff"); },
                   "status 404"});
  cases.push_back({"HTTP events after a non-number", [&] { return http("/api/events?after=1e99"); },
                   "after: expected an event id"});
  cases.push_back({"HTTP report of a sweep id beyond int64",
                   [&] { return http("/report/99999999999999999999/"); }, "an id is at most"});
  cases.push_back({"HTTP request that is not HTTP",
                   [&] { return fmt::format("status {}", testutil::HttpStatus(testutil::RawHttp(http_port, "\x16\x03\x01 hello\r\n\r\n"))); },
                   "status 400"});
  // Stores and jobs on a worker.
  cases.push_back({"store with a bad checksum", [&] { return train(job, "--store " + corrupt); }, "visual.f16"});
  cases.push_back({"store missing on the worker", [&] {
                     return train(job, "--store " + (dir_ / "nowhere").string());
                   }, "nowhere"});
  cases.push_back({"NaN loss", [&] { return train(nan_job, "--store " + store); }, "loss is"});
  // The record itself.
  cases.push_back({"second coordinator on the same record", [&] {
                     ChildProcess second;
                     second.Start({kBin + "avcoord", "--db", db_, "--workers", "tcp://127.0.0.1:*", "--control",
                                   "tcp://127.0.0.1:*", "--http", "-1"}, (dir_ / "second.log").string());
                     EXPECT_EQ(second.Wait(10000), 1);
                     return second.Log();
                   }, "another avcoord is running on this record"});
  cases.push_back({"full disk for the database (simulated on a copy)", [&] {
                     // A consistent copy of the live record; on it, SQLite's max_page_count makes the next
                     // page allocation fail exactly as a full disk does.
                     const std::string copy = (dir_ / "full.db").string();
                     {
                       DatabaseOptions ro;
                       ro.read_only = true;
                       auto db = Database::Open(db_, ro);
                       EXPECT_TRUE(db.ok());
                       EXPECT_TRUE((*db)->Exec(fmt::format("VACUUM INTO '{}'", copy)).ok());
                     }
                     const std::string before = Snapshot(copy);
                     std::string error = "(accepted)";
                     {
                       auto js = Record::Open(copy);
                       if (!js.ok()) return js.status().ToString();
                       EXPECT_TRUE((*js)->CapGrowth(0).ok());
                       Json spec = *quick;
                       spec["name"] = "wontfit";
                       spec["seeds"] = 2000;
                       auto parsed = ParseSweepSpec(spec, "wontfit.json");
                       EXPECT_TRUE(parsed.ok());
                       auto jobs = ExpandSweep(*parsed);
                       EXPECT_TRUE(jobs.ok());
                       auto st = (*js)->SubmitSweep(*parsed, spec, *jobs, "wontfit.json", 1.0);
                       if (!st.ok()) error = st.status().ToString();
                     }
                     EXPECT_EQ(Snapshot(copy), before) << "the failed submit left something behind";
                     return error;
                   }, "full"});
  cases.push_back({"hostile names in the report", [&] {
                     // A variant named like markup and CSV, in a record of its own, rendered.
                     const std::string hostile_db = (dir_ / "hostile.db").string();
                     auto js = Record::Open(hostile_db);
                     if (!js.ok()) return js.status().ToString();
                     Json spec = *quick;
                     spec["name"] = "hostile";
                     spec["variants"][1]["name"] = "<img src=x onerror=alert(1)>,\"x\"";  // no '/': names refuse it
                     spec["variants"][1]["variant"] = "backbone";
                     spec["comparisons"][0]["baselines"][0] = spec["variants"][1]["name"];
                     auto parsed = ParseSweepSpec(spec, "hostile.json");
                     if (!parsed.ok()) return parsed.status().ToString();
                     auto jobs = ExpandSweep(*parsed);
                     EXPECT_TRUE((*js)->SubmitSweep(*parsed, spec, *jobs, "hostile.json", 1.0).ok());
                     js->reset();  // closed before the report reads it
                     auto index = cli::WriteSweepReport(hostile_db, "hostile", (dir_ / "report").string());
                     if (!index.ok()) return index.status().ToString();
                     auto html = ReadFileToString(*index);
                     EXPECT_EQ(html->find("<img src=x"), std::string::npos);
                     auto csv = ReadFileToString((dir_ / "report" / "table.csv").string());
                     EXPECT_NE(csv->find("\"<img src=x onerror=alert(1)>,\"\"x\"\"\""), std::string::npos) << *csv;
                     return *html;
                   }, "&lt;img src=x onerror=alert(1)&gt;"});

  ASSERT_GE(cases.size(), 40u);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    const std::string before = Snapshot(db_);
    const std::string error = c.run();
    EXPECT_NE(error.find(c.expect), std::string::npos) << c.name << ": expected \"" << c.expect << "\" in:\n"
                                                       << error.substr(0, 2000);
    const std::string after = Snapshot(db_);
    if (after != before) {
      size_t at = 0;
      while (at < after.size() && at < before.size() && after[at] == before[at]) ++at;
      ADD_FAILURE() << c.name << " changed the record near: ..." << before.substr(at > 200 ? at - 200 : 0, 400)
                    << "\n now: ..." << after.substr(at > 200 ? at - 200 : 0, 400);
    }
    ASSERT_TRUE(coord_->running()) << c.name << " stopped the coordinator:\n" << coord_->Log();
  }
  EXPECT_EQ(Text("PRAGMA integrity_check"), "ok");
}

}  // namespace
}  // namespace avctl
