#include "db/record.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/test_dir.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

Json SpecJson(int seeds = 2) {
  return Json{{"name", "t"},
              {"dataset", {{"synth", {{"profile", "tiny"}, {"seed", 1}}}}},
              {"base", {{"train", {{"epochs", 1}}}}},
              {"variants", {{{"name", "ladder_av"}, {"role", "proposed"}}, {{"name", "backbone"}, {"role", "baseline"}}}},
              {"seeds", seeds},
              {"max_attempts", 2},
              {"comparisons", {{{"variant", "ladder_av"}, {"baselines", {"backbone"}}}}}};
}

// A result that meets common/job_result.h.
Json OkResult(double f1 = 0.5, double compute_seconds = 7.5) {
  return {{"status", "ok"}, {"compute_seconds", compute_seconds},
          {"test", {{"metrics", {{"macro_f1", f1}, {"accuracy", f1}}}}}};
}

class RecordTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testutil::FreshTestDir("jobstore");
    auto store = Record::Open((dir_ / "record.db").string());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void TearDown() override {
    sql_.reset();
    store_.reset();
    fs::remove_all(dir_);
  }

  SubmitOutcome Submit(const Json& spec_json) {
    auto spec = ParseSweepSpec(spec_json, "spec.json");
    EXPECT_TRUE(spec.ok()) << spec.status().ToString();
    auto jobs = ExpandSweep(*spec);
    EXPECT_TRUE(jobs.ok());
    auto out = store_->SubmitSweep(*spec, spec_json, *jobs, "spec.json", 100.0);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : SubmitOutcome{};
  }

  // A second connection to the record for the test's own SQL (the record's
  // own is not exposed); it sees what the record committed.
  Database* Sql() {
    if (!sql_) {
      auto db = Database::Open((dir_ / "record.db").string());
      EXPECT_TRUE(db.ok()) << db.status().ToString();
      sql_ = std::move(*db);
    }
    return sql_.get();
  }

  int64_t Count(const std::string& sql) {
    auto q = Sql()->Prepare(sql);
    EXPECT_TRUE(q.ok());
    auto row = q->Step();
    EXPECT_TRUE(row.ok() && *row);
    return q->ColumnInt(0);
  }

  fs::path dir_;
  std::unique_ptr<Record> store_;
  std::unique_ptr<Database> sql_;
};

TEST_F(RecordTest, SubmitIsIdempotentByKeyAndGrowsWithNewSeeds) {
  SubmitOutcome first = Submit(SpecJson(2));
  EXPECT_TRUE(first.new_sweep);
  EXPECT_EQ(first.total, 4);
  EXPECT_EQ(first.added, 4);
  SubmitOutcome again = Submit(SpecJson(2));
  EXPECT_FALSE(again.new_sweep);
  EXPECT_EQ(again.sweep_id, first.sweep_id);
  EXPECT_EQ(again.added, 0);
  EXPECT_EQ(again.existing, 4);
  SubmitOutcome more = Submit(SpecJson(3));
  EXPECT_EQ(more.added, 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 6);
  auto queued = store_->QueuedJobs();
  ASSERT_TRUE(queued.ok());
  EXPECT_EQ(queued->size(), 6u);
}

TEST_F(RecordTest, AChangedSweepUnderTheSameNameIsRefusedAndNothingIsWritten) {
  Submit(SpecJson(2));
  Json changed = SpecJson(3);
  changed["base"]["train"]["epochs"] = 2;
  auto spec = ParseSweepSpec(changed, "spec.json");
  ASSERT_TRUE(spec.ok());
  auto jobs = ExpandSweep(*spec);
  auto out = store_->SubmitSweep(*spec, changed, *jobs, "spec.json", 101.0);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().ToString().find("another configuration"), std::string::npos);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs"), 4);  // the third seed's jobs were not added either
}

TEST_F(RecordTest, AChangedDatasetUnderTheSameNameIsRefused) {
  Submit(SpecJson(2));
  Json changed = SpecJson(2);
  changed["dataset"] = {{"store", "/data/crema-d"}};
  auto spec = ParseSweepSpec(changed, "spec.json");
  ASSERT_TRUE(spec.ok());
  auto jobs = ExpandSweep(*spec);
  auto out = store_->SubmitSweep(*spec, changed, *jobs, "spec.json", 101.0);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().ToString().find("dataset"), std::string::npos) << out.status().ToString();
}

TEST_F(RecordTest, DispatchResultAndDuplicate) {
  Submit(SpecJson(1));
  auto queued = store_->QueuedJobs();
  ASSERT_TRUE(queued.ok());
  const int64_t job = (*queued)[0].job_id;
  auto d = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->kind, JobKind::kTrain);
  EXPECT_EQ(Json::parse(d->dataset_raw), Json::parse(R"({"synth": {"profile": "tiny", "seed": 1}})"));
  EXPECT_EQ(Json::parse(d->job_raw)["variant"], "ladder_av");
  auto info = store_->AttemptInfo(d->attempt_id);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(info->dataset.contains("synth"));
  EXPECT_FALSE(info->job.contains("dataset"));
  EXPECT_EQ(info->job_key, d->job_key);
  EXPECT_FALSE(store_->Dispatch(job, "w2", 111.0).ok());  // already running
  Json result = OkResult(0.5);
  auto f = store_->RecordResult(d->attempt_id, result, "w1", 120.0);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_TRUE(f->transition.store_result);
  auto again = store_->RecordResult(d->attempt_id, result, "w1", 121.0);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->transition.duplicate);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'done'"), 1);
  auto results = store_->Results(1);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 1u);
  EXPECT_DOUBLE_EQ((*results)[0].metrics.at("macro_f1"), 0.5);
  EXPECT_DOUBLE_EQ((*results)[0].seconds, 7.5);  // the worker's measured compute time
  EXPECT_DOUBLE_EQ((*results)[0].wall_seconds, 10.0);  // dispatch to result, as the coordinator saw it
}

TEST_F(RecordTest, LostAttemptRequeuesAndALateResultIsStoredOnce) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto first = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(first.ok());
  auto lost = store_->RecordLost(first->attempt_id, "worker w1 silent", 115.0);
  ASSERT_TRUE(lost.ok()) << lost.status().ToString();
  ASSERT_TRUE(lost->requeue.has_value());
  EXPECT_EQ(lost->requeue->job_id, job);
  auto second = store_->Dispatch(job, "w2", 116.0);
  ASSERT_TRUE(second.ok());
  // w1 comes back and reports: its result is stored, w2's attempt is cancelled.
  Json result = OkResult(0.4);
  auto late = store_->RecordResult(first->attempt_id, result, "w1", 117.0);
  ASSERT_TRUE(late.ok()) << late.status().ToString();
  EXPECT_TRUE(late->transition.store_result);
  EXPECT_EQ(late->cancel_attempt, second->attempt_id);
  EXPECT_EQ(late->cancel_worker, "w2");
  // w2's result arrives anyway: recorded as a duplicate, not stored.
  auto dup = store_->RecordResult(second->attempt_id, result, "w2", 118.0);
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->transition.duplicate);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 1);
  EXPECT_EQ(Count("SELECT attempt_id FROM results"), first->attempt_id);
}

// The ack of a result says whether it became the job's (then the worker
// removes the job's checkpoints): a stale attempt's result that is not
// stored says no, so the retry keeps its checkpoints; the retry's says yes.
TEST_F(RecordTest, OnlyTheStoredResultLetsTheCheckpointsGo) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto first = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(store_->RecordLost(first->attempt_id, "worker w1 silent", 115.0).ok());
  auto retry = store_->Dispatch(job, "w2", 116.0);
  ASSERT_TRUE(retry.ok());
  // The stale attempt finishes with a result the record cannot keep.
  auto stale = store_->RecordResult(first->attempt_id, Json{{"status", "ok"}, {"compute_seconds", 1.0}}, "w1", 117.0);
  ASSERT_TRUE(stale.ok()) << stale.status().ToString();
  EXPECT_FALSE(stale->result_stored);
  EXPECT_EQ(stale->cancel_attempt, 0) << "the retry must go on";
  auto kept = store_->RecordResult(retry->attempt_id, OkResult(), "w2", 120.0);
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->result_stored);
  // A duplicate is not the stored one either.
  auto dup = store_->RecordResult(retry->attempt_id, OkResult(), "w2", 121.0);
  ASSERT_TRUE(dup.ok());
  EXPECT_FALSE(dup->result_stored);
}

// A protocol-1 worker sends no compute_seconds: the wall time from dispatch
// stands for it, and the stored result says so.
TEST_F(RecordTest, AProtocolOneResultIsStoredWithTheWallTime) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto d = store_->Dispatch(job, "w1", 110.0);
  Json v1 = OkResult();
  v1.erase("compute_seconds");
  auto refused_as_v2 = store_->RecordResult(d->attempt_id, v1, "w1", 112.0, 2);
  ASSERT_TRUE(refused_as_v2.ok());
  EXPECT_FALSE(refused_as_v2->result_stored);  // version 2 requires it: the attempt fails, retried
  auto d2 = store_->Dispatch(job, "w1", 113.0);
  auto stored = store_->RecordResult(d2->attempt_id, v1, "w1", 117.5, 1);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_TRUE(stored->result_stored);
  auto results = store_->Results(1);
  ASSERT_TRUE(results.ok());
  ASSERT_EQ(results->size(), 1u);
  EXPECT_DOUBLE_EQ((*results)[0].seconds, 4.5);
  auto q = Sql()->Prepare("SELECT json_extract(result, '$.compute_seconds_source') FROM results");
  ASSERT_TRUE(q.ok() && *q->Step());
  EXPECT_NE(q->ColumnText(0).find("protocol-1 worker"), std::string::npos) << q->ColumnText(0);
}

// A job's stored resources that no longer parse are damage to the record,
// said with the job, not a job that needs nothing.
TEST_F(RecordTest, DamagedStoredResourcesAreCorruptionNamingTheJob) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  ASSERT_TRUE(Sql()->Exec(fmt::format("UPDATE jobs SET resources = '{{\"device\": 7' WHERE id = {}", job)).ok());
  auto q = store_->QueuedJobs();
  ASSERT_FALSE(q.ok());
  EXPECT_EQ(q.status().code(), StatusCode::kCorruption);
  EXPECT_NE(q.status().ToString().find(fmt::format("job {}", job)), std::string::npos) << q.status().ToString();
}

TEST_F(RecordTest, JobFailureKeepsItsReasonAndCrashesRetryUpToMaxAttempts) {
  Submit(SpecJson(1));
  auto queued = *store_->QueuedJobs();
  auto a = store_->Dispatch(queued[0].job_id, "w1", 110.0);
  auto f = store_->RecordFailure(a->attempt_id, FailureKind::kJob, "NaN loss at epoch 3, batch 2", "w1", 111.0);
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->transition.job, JobState::kFailed);
  EXPECT_FALSE(f->requeue.has_value());
  auto jobs = store_->Jobs(1, "failed");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_NE((*jobs)[0]["reason"].get<std::string>().find("NaN loss at epoch 3"), std::string::npos);

  auto b1 = store_->Dispatch(queued[1].job_id, "w1", 112.0);
  auto c1 = store_->RecordFailure(b1->attempt_id, FailureKind::kCrash, "killed by signal 9", "w1", 113.0);
  ASSERT_TRUE(c1->requeue.has_value());
  auto b2 = store_->Dispatch(queued[1].job_id, "w1", 114.0);
  auto c2 = store_->RecordFailure(b2->attempt_id, FailureKind::kCrash, "killed by signal 9", "w1", 115.0);
  EXPECT_FALSE(c2->requeue.has_value());
  EXPECT_EQ(c2->transition.job, JobState::kFailed);

  auto retried = store_->RetrySweep(1, 116.0);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->retried, 2);
  EXPECT_EQ(retried->queued.size(), 2u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND attempts = 0"), 2);
}

TEST_F(RecordTest, AnOutOfMemoryJobAvoidsItsWorkerAndFailsAsTooLargeTheSecondTime) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto a = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(a.ok());
  auto f = store_->RecordFailure(a->attempt_id, FailureKind::kWorker, "CUDA out of memory", "w1", 111.0, true);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_TRUE(f->requeue.has_value());
  EXPECT_EQ(f->requeue->avoid_workers, std::vector<std::string>{"w1"});
  // The same from the start-up scan (a restarted coordinator).
  auto queued = store_->QueuedJobs();
  ASSERT_TRUE(queued.ok());
  for (const QueuedJob& q : *queued) {
    EXPECT_EQ(q.avoid_workers, q.job_id == job ? std::vector<std::string>{"w1"} : std::vector<std::string>{});
  }
  auto b = store_->Dispatch(job, "w2", 112.0);
  ASSERT_TRUE(b.ok());
  auto g = store_->RecordFailure(b->attempt_id, FailureKind::kWorker, "CUDA out of memory", "w2", 113.0, true);
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->requeue.has_value());
  EXPECT_EQ(g->transition.job, JobState::kFailed);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE out_of_memory = 1"), 2);
  auto jobs = store_->Jobs(1, "failed");
  ASSERT_TRUE(jobs.ok());
  ASSERT_EQ(jobs->size(), 1u);
  EXPECT_NE((*jobs)[0]["reason"].get<std::string>().find("too large for the fleet"), std::string::npos)
      << (*jobs)[0].dump();
}

TEST_F(RecordTest, PreemptedAttemptsRequeueUncountedAndTheNextOneLearnsWhereTheCheckpointIs) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto first = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(first.ok());
  EXPECT_FALSE(first->resume.has_value());  // nothing to resume from yet
  const Json written = {{"epoch", 2},
                        {"checkpoint", {{"path", "/scratch/ck/epoch-0002.ckpt"}, {"epochs", 2}, {"batches", 0},
                                        {"bytes", 100}, {"seconds", 0.1}}}};
  ASSERT_TRUE(store_->RecordProgress(first->attempt_id, written, 111.0).ok());
  int64_t attempt = first->attempt_id;
  // More preemptions than max_attempts (2): each requeues, none counts.
  for (int i = 0; i < 3; ++i) {
    auto f = store_->RecordFailure(attempt, FailureKind::kPreempted, "stopped by signal 15", "w1", 112.0 + i);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    EXPECT_EQ(f->transition.job, JobState::kQueued);
    EXPECT_TRUE(f->requeue.has_value());
    EXPECT_EQ(Count("SELECT attempts FROM jobs WHERE id = " + std::to_string(job)), 0);
    EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE state = 'preempted'"), i + 1);
    auto next = store_->Dispatch(job, "w2", 113.0 + i);
    ASSERT_TRUE(next.ok()) << next.status().ToString();
    ASSERT_TRUE(next->resume.has_value());
    EXPECT_EQ(next->resume->path, "/scratch/ck/epoch-0002.ckpt");
    EXPECT_EQ(next->resume->attempt_id, first->attempt_id);
    EXPECT_EQ(next->resume->epochs, 2);
    attempt = next->attempt_id;
  }
  const Json resumed = {{"epoch", 2}, {"resumed", {{"path", "/scratch/ck/epoch-0002.ckpt"}, {"epochs", 2},
                                                   {"batches", 0}, {"attempt_id", first->attempt_id}}}};
  ASSERT_TRUE(store_->RecordProgress(attempt, resumed, 120.0).ok());
  EXPECT_EQ(Count("SELECT resumed_epochs FROM attempts WHERE id = " + std::to_string(attempt)), 2);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM epochs"), 0);  // checkpoint lines are not epochs
  const Json bad = {{"epoch", 2}, {"checkpoint", {{"path", 7}}}};
  Status s = store_->RecordProgress(attempt, bad, 121.0);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.ToString().find("progress.checkpoint"), std::string::npos) << s.ToString();
}

// Progress lines can be lost (they are not kept until acknowledged); the
// result says where its attempt began, and the record takes it from there.
TEST_F(RecordTest, AResultThatResumedRecordsWhereItsAttemptBeganWithoutTheProgressLine) {
  Submit(SpecJson(1));
  auto queued = *store_->QueuedJobs();
  auto a = store_->Dispatch(queued[0].job_id, "w1", 110.0);
  ASSERT_TRUE(a.ok());
  Json result = OkResult();
  result["resume"] = {{"resumed", true}, {"from", "/scratch/ck/epoch-0002.ckpt"}, {"epochs", 2}, {"batches", 3},
                      {"attempt_id", 9}, {"skipped", Json::array()}};
  ASSERT_TRUE(store_->RecordResult(a->attempt_id, result, "w1", 120.0).ok());
  const std::string id = std::to_string(a->attempt_id);
  EXPECT_EQ(Count("SELECT resumed_epochs FROM attempts WHERE id = " + id), 2);
  EXPECT_EQ(Count("SELECT resumed_batches FROM attempts WHERE id = " + id), 3);
  // A result from scratch leaves the attempt's position empty.
  auto b = store_->Dispatch(queued[1].job_id, "w1", 121.0);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(store_->RecordResult(b->attempt_id, OkResult(), "w1", 122.0).ok());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM attempts WHERE resumed_epochs IS NULL AND id = " +
                  std::to_string(b->attempt_id)),
            1);
}

TEST_F(RecordTest, CancelNamesTheRunningAttempts) {
  Submit(SpecJson(1));
  auto queued = *store_->QueuedJobs();
  auto a = store_->Dispatch(queued[0].job_id, "w1", 110.0);
  auto c = store_->CancelSweep(1, 111.0);
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(c->size(), 2u);
  int named = 0;
  for (const auto& f : *c) {
    if (f.cancel_attempt == a->attempt_id) {
      EXPECT_EQ(f.cancel_worker, "w1");
      ++named;
    }
  }
  EXPECT_EQ(named, 1);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'cancelled'"), 2);
  // The cancelled attempt's result arrives later: not stored.
  auto late = store_->RecordResult(a->attempt_id, OkResult(), "w1", 112.0);
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->transition.store_result);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 0);
}

TEST_F(RecordTest, StateSurvivesReopening) {
  Submit(SpecJson(2));
  auto queued = *store_->QueuedJobs();
  auto a = store_->Dispatch(queued[0].job_id, "w1", 110.0);
  ASSERT_TRUE(a.ok());
  store_.reset();
  auto reopened = Record::Open((dir_ / "record.db").string());
  ASSERT_TRUE(reopened.ok());
  store_ = std::move(*reopened);
  auto running = store_->RunningAttempts();
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->size(), 1u);
  EXPECT_EQ((*running)[0].attempt_id, a->attempt_id);
  EXPECT_EQ((*running)[0].worker_id, "w1");
  EXPECT_EQ(store_->QueuedJobs()->size(), 3u);
}

TEST_F(RecordTest, StatusCountsPerVariantAndEta) {
  Submit(SpecJson(2));
  auto queued = *store_->QueuedJobs();
  auto a = store_->Dispatch(queued[0].job_id, "w1", 100.0);
  ASSERT_TRUE(store_->RecordResult(a->attempt_id, OkResult(), "w1", 110.0).ok());
  auto b = store_->Dispatch(queued[1].job_id, "w1", 110.0);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(store_->RecordProgress(b->attempt_id, Json{{"epoch", 1}, {"epochs", 8}, {"dev_loss", 1.5}}, 110.5).ok());
  ASSERT_TRUE(store_->RecordProgress(b->attempt_id, Json{{"epoch", 2}, {"epochs", 8}, {"dev_loss", 1.25}}, 110.9).ok());
  auto s = store_->SweepStatus(1, 111.0);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ((*s)["jobs"], 4);
  EXPECT_EQ((*s)["states"]["done"], 1);
  EXPECT_EQ((*s)["states"]["running"], 1);
  EXPECT_EQ((*s)["states"]["queued"], 2);
  ASSERT_EQ((*s)["variants"].size(), 2u);
  EXPECT_EQ((*s)["variants"][0]["name"], "ladder_av");
  EXPECT_DOUBLE_EQ((*s)["eta_seconds"].get<double>(), 30.0);  // 10 s x 3 left / 1 running
  EXPECT_FALSE((*s)["finished"].get<bool>());
  // The running job with its latest epoch record.
  ASSERT_EQ((*s)["running"].size(), 1u);
  const Json& r = (*s)["running"][0];
  EXPECT_EQ(r["id"], queued[1].job_id);
  EXPECT_EQ(r["worker"], "w1");
  EXPECT_DOUBLE_EQ(r["elapsed_seconds"].get<double>(), 1.0);
  EXPECT_EQ(r["progress"]["epoch"], 2);
  EXPECT_DOUBLE_EQ(r["progress"]["dev_loss"].get<double>(), 1.25);
  EXPECT_FALSE(store_->ResolveSweep("nope").ok());
  EXPECT_EQ(*store_->ResolveSweep("t"), 1);
  EXPECT_EQ(*store_->ResolveSweep("1"), 1);
}

TEST_F(RecordTest, UnknownAttemptsAreNotFound) {
  auto r = store_->RecordResult(99, OkResult(), "w1", 1.0);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(store_->RecordProgress(99, Json{{"epoch", 1}}, 1.0).ok());
}

// A result without what the report needs is not stored: its attempt fails
// as a worker failure naming the field, and the job goes back to the queue.
TEST_F(RecordTest, AResultThatMissesTheSchemaFailsItsAttemptNamingTheField) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto d = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(d.ok());
  auto f = store_->RecordResult(d->attempt_id, Json{{"status", "ok"}, {"compute_seconds", 3.0}}, "w1", 111.0);
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_FALSE(f->transition.store_result);
  EXPECT_EQ(f->transition.attempt, AttemptState::kFailed);
  ASSERT_TRUE(f->requeue.has_value());  // retried (max_attempts 2)
  EXPECT_EQ(Count("SELECT COUNT(*) FROM results"), 0);
  auto attempts = store_->Jobs(1, "queued");
  ASSERT_TRUE(attempts.ok());
  EXPECT_NE((*attempts)[0]["reason"].get<std::string>().find("result.test: missing"), std::string::npos)
      << (*attempts)[0].dump();
  // A train result needs macro_f1 and accuracy among its metrics.
  auto d2 = store_->Dispatch(job, "w1", 112.0);
  ASSERT_TRUE(d2.ok());
  Json no_accuracy = OkResult();
  no_accuracy["test"]["metrics"].erase("accuracy");
  auto f2 = store_->RecordResult(d2->attempt_id, no_accuracy, "w1", 113.0);
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->transition.job, JobState::kFailed);  // its second and last attempt
  auto events = store_->Events(0, 100);
  ASSERT_TRUE(events.ok());
  bool named = false;
  for (const auto& e : *events) named |= e["message"].get<std::string>().find("result.test.metrics.accuracy") != std::string::npos;
  EXPECT_TRUE(named) << events->dump(1);
}

// A duplicate result is attributed to the worker that sent it, not to the
// worker the attempt was dispatched to.
TEST_F(RecordTest, ADuplicateResultIsBlamedOnItsSender) {
  Submit(SpecJson(1));
  const int64_t job = (*store_->QueuedJobs())[0].job_id;
  auto d = store_->Dispatch(job, "w1", 110.0);
  ASSERT_TRUE(d.ok());
  ASSERT_TRUE(store_->RecordResult(d->attempt_id, OkResult(), "w1", 111.0).ok());
  auto dup = store_->RecordResult(d->attempt_id, OkResult(), "w9", 112.0);
  ASSERT_TRUE(dup.ok());
  EXPECT_TRUE(dup->transition.duplicate);
  auto events = *store_->Events(0, 100);
  const Json& last = events.back();
  EXPECT_EQ(last["worker_id"], "w9");
  EXPECT_NE(last["message"].get<std::string>().find("reported by worker w9; the attempt ran on w1"),
            std::string::npos) << last.dump();
}

TEST_F(RecordTest, WorkerStatesAreNamedAndRecorded) {
  WorkerRecord w;
  w.id = "w1";
  w.hostname = "h";
  w.device = "cpu";
  ASSERT_TRUE(store_->UpsertWorker(w, 100.0).ok());
  ASSERT_TRUE(store_->SetWorkerState("w1", WorkerState::kGone, 101.0).ok());
  EXPECT_EQ((*store_->Workers())[0]["state"], "gone");
  EXPECT_STREQ(WorkerStateName(WorkerState::kLost), "lost");
}

// A group-sequential sweep: later stages held at submit, released and
// ended "not needed" by group, its looks stored once each; cancel and retry
// treat held and not-needed jobs as the scheduler needs.
TEST_F(RecordTest, ASequentialSweepHoldsLaterStagesUntilReleasedAndEndsUnneededJobs) {
  Json spec = SpecJson(4);
  spec["sequential"] = {{"looks", {2, 4}}};
  const SubmitOutcome out = Submit(spec);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'held' AND stage = 1"), 4) << "seeds 2, 3 of both variants";
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'queued' AND stage = 0"), 4);
  EXPECT_EQ(store_->QueuedJobs()->size(), 4u) << "held jobs are not in the ready queue";
  auto groups = store_->SweepGroups(out.sweep_id);
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 2u);
  EXPECT_EQ((*groups)[0].first, "ladder_av");
  auto counts = store_->StageCounts(out.sweep_id);
  ASSERT_TRUE(counts.ok());
  int64_t held = 0;
  for (const auto& c : *counts) held += c.state == JobState::kHeld ? c.jobs : 0;
  EXPECT_EQ(held, 4);
  auto row = store_->SequentialSweepOf(out.sweep_id);
  ASSERT_TRUE(row.ok()) << row.status().ToString();
  EXPECT_EQ(row->spec["sequential"]["looks"], Json({2, 4}));
  EXPECT_EQ(store_->SequentialSweeps()->size(), 1u);
  // Release one group's stage 1; end the other's as not needed.
  auto released = store_->ReleaseHeld(out.sweep_id, "backbone", "", 1, 101.0);
  ASSERT_TRUE(released.ok()) << released.status().ToString();
  EXPECT_EQ(released->size(), 2u);
  auto ended = store_->EndNotNeeded(out.sweep_id, "ladder_av", "", 0, "not needed: decided", 102.0);
  ASSERT_TRUE(ended.ok()) << ended.status().ToString();
  EXPECT_EQ(ended->size(), 2u);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'not_needed' AND variant = 'ladder_av' AND stage = 1"), 2);
  auto st = store_->SweepStatus(out.sweep_id, 103.0);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ((*st)["states"]["not_needed"], 2);
  EXPECT_EQ((*st)["states"]["held"], 0);
  // Looks: stored in order, once each.
  SequentialLook look;
  look.look = 0;
  look.planned_pairs = 2;
  look.tests.push_back({});
  look.tests[0].variant = "ladder_av";
  look.tests[0].baseline = "backbone";
  look.tests[0].t = std::numeric_limits<double>::infinity();
  ASSERT_TRUE(store_->AddSequentialLook(out.sweep_id, look, 104.0).ok());
  const Status again = store_->AddSequentialLook(out.sweep_id, look, 105.0);
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.ToString().find("look 1 of sweep"), std::string::npos) << again.ToString();
  auto looks = store_->SequentialLooks(out.sweep_id);
  ASSERT_TRUE(looks.ok()) << looks.status().ToString();
  ASSERT_EQ(looks->size(), 1u);
  EXPECT_TRUE(std::isinf((*looks)[0].tests[0].t)) << "an infinite t survives the record";
  // Cancel ends held jobs too; retry holds them again (the scheduler
  // releases them) and leaves the not-needed ones alone.
  ASSERT_TRUE(store_->ReleaseHeld(out.sweep_id, "backbone", "", 1, 106.0).ok());
  auto cancelled = store_->CancelSweep(out.sweep_id, 107.0);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->size(), 6u);
  auto retried = store_->RetrySweep(out.sweep_id, 108.0, true);
  ASSERT_TRUE(retried.ok());
  EXPECT_EQ(retried->retried, 6);
  EXPECT_TRUE(retried->queued.empty());
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'held'"), 6);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM jobs WHERE state = 'not_needed'"), 2);
}

// A record written before results kept the worker's compute time (schema
// step 5) opens migrated; its results report the wall time as before.
TEST(RecordMigrationTest, AStepFiveRecordGainsComputeSecondsAndKeepsItsResults) {
  const auto dir = testutil::FreshTestDir("record_migration");
  const std::string path = (dir / "old.db").string();
  {
    auto db = Database::Open(path);
    ASSERT_TRUE(db.ok());
    const auto& steps = RecordSchemaSteps();
    ASSERT_GE(steps.size(), 6u);
    ASSERT_TRUE(Migrate(db->get(), std::vector<std::string>(steps.begin(), steps.begin() + 5)).ok());
    ASSERT_TRUE((*db)->Exec("INSERT INTO sweeps (id, name, spec, source, dataset, created_at, updated_at) "
                            "VALUES (1, 'old', '{}', 'old.json', '{}', 1, 1);"
                            "INSERT INTO jobs (id, sweep_id, key, variant, point, seed, partition, ord, config, "
                            "resources, state, max_attempts, created_at, updated_at) VALUES (1, 1, 'k', 'v', '', 0, 1, "
                            "0, '{}', '{}', 'done', 1, 1, 1);"
                            "INSERT INTO attempts (id, job_id, worker_id, state, started_at, ended_at) "
                            "VALUES (1, 1, 'w1', 'succeeded', 10, 22);"
                            "INSERT INTO results (job_id, attempt_id, metrics, result, received_at) "
                            "VALUES (1, 1, '{\"macro_f1\": 0.5}', '{}', 22);"
                            "INSERT INTO epochs (attempt_id, epoch, data, at) VALUES (1, 1, '{}', 15);"
                            "UPDATE jobs SET current_attempt = 1;").ok());
  }
  auto record = Record::Open(path);
  ASSERT_TRUE(record.ok()) << record.status().ToString();
  auto own = Database::Open(path);  // the test's own connection
  ASSERT_TRUE(own.ok());
  EXPECT_EQ(*UserVersion(own->get()), static_cast<int64_t>(RecordSchemaSteps().size()));
  {
    // Step 7 rebuilt the attempts table: every row that refers to an attempt still finds it.
    auto check = (*own)->Prepare("PRAGMA foreign_key_check");
    ASSERT_TRUE(check.ok());
    auto row = check->Step();
    ASSERT_TRUE(row.ok());
    EXPECT_FALSE(*row) << "a row refers to a missing parent after the migration";
    auto attempt = (*record)->GetAttempt(1);
    ASSERT_TRUE(attempt.ok()) << attempt.status().ToString();
    EXPECT_EQ(attempt->state, AttemptState::kSucceeded);
    EXPECT_TRUE((*own)->Exec("UPDATE attempts SET state = 'preempted' WHERE id = 1").ok());
    // Step 9 rebuilt the jobs table: the job keeps its state and result, in stage 0, and may now be held.
    auto stage = (*own)->Prepare("SELECT state, stage FROM jobs WHERE id = 1");
    ASSERT_TRUE(stage.ok());
    ASSERT_TRUE(*stage->Step());
    EXPECT_EQ(stage->ColumnText(0), "done");
    EXPECT_EQ(stage->ColumnInt(1), 0);
    stage->Reset();
    EXPECT_TRUE((*own)->Exec("UPDATE jobs SET state = 'held' WHERE id = 1").ok());
    EXPECT_TRUE((*own)->Exec("UPDATE jobs SET state = 'not_needed' WHERE id = 1").ok());
    EXPECT_FALSE((*own)->Exec("UPDATE jobs SET state = 'finished' WHERE id = 1").ok());
    EXPECT_TRUE((*own)->Exec("UPDATE jobs SET state = 'done' WHERE id = 1").ok());
    EXPECT_EQ((*(*record)->SequentialLooks(1)).size(), 0u);
  }
  auto results = (*record)->Results(1);
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  ASSERT_EQ(results->size(), 1u);
  EXPECT_DOUBLE_EQ((*results)[0].seconds, 12.0);  // no compute time: the wall time
  record->reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace avctl
