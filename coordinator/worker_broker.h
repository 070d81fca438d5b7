// The worker side of the coordinator, after the zguide's Majordomo broker
// with Paranoid Pirate liveness: one session per worker from hello to bye or
// silence, the ready queue and dispatch to free slots, and what a worker's
// reports change in the record. It owns no socket: it hands its frames to
// `send` (the coordinator holds them until the round's transaction commits),
// and it runs inside the coordinator's rounds.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/log.h"
#include "common/protocol.h"
#include "coordinator/failure_streak.h"
#include "coordinator/scheduler.h"
#include "coordinator/status_page.h"
#include "db/record.h"

namespace avctl {

struct BrokerOptions {
  int heartbeat_ms = 1000;
  int liveness = 3;               // heartbeats missed before a worker is declared dead
  int restart_grace_ms = 10000;   // after a restart, how long running attempts wait for their worker
  int last_seen_ms = 10000;       // how often the record's workers.last_seen is brought up to date (one batch)
};

struct WorkerSession {
  std::string id;
  std::string identity;  // the ROUTER routing id of its current connection
  std::string device;    // "cpu" or "cuda"
  int64_t protocol = kProtocolVersion;  // the version its hello spoke
  int slots = 1;
  int64_t gpu_memory_mb = 0;
  int64_t gpu_budget_mb = 0;  // what its jobs may use: GpuBudgetMb(total, free at the daemon's start)
  Clock::TimePoint last_heard, last_sent;
  bool accepting = false;               // after "ready", until "drain"
  std::string slurm_job_id;             // from hello.labels, when Slurm started it
  std::map<int64_t, int64_t> running;   // attempt id -> declared memory
  FailureStreak streak;                 // its failures in a row (coordinator/failure_streak.h)
  std::string held;                     // why it is fed no more jobs ("": it is not held)
  int64_t pid = 0;                      // its daemon's, from hello: a new one is a restart, which ends a hold
};

class WorkerBroker {
 public:
  // Frames for the worker ROUTER: [routing id, signature, type, body].
  using SendFn = std::function<void(std::vector<std::string> frames)>;

  // `clock`: liveness, heartbeats, the restart grace and the record's times
  // (the daemon's is SystemClock(); tests move a ManualClock).
  WorkerBroker(BrokerOptions options, Record* record, CoordinatorCounters* counters, Logger* log, SendFn send,
               const Clock* clock = &SystemClock());

  // After a start: the record's queued jobs, and its running attempts waiting
  // up to the restart grace for their workers to claim them.
  Status Recover();
  // One message from the worker ROUTER: [routing id, signature, type, body].
  void OnMessage(const std::vector<std::string>& frames);
  // Heartbeats to quiet sessions, silent workers declared dead, orphans past the grace.
  void Tick();
  // Assigns queued jobs to free slots and sends them.
  void Schedule();
  // No more dispatch or "ready" (the coordinator is stopping).
  void SetStopping() { stopping = true; }

  // The record cannot be written (a full disk, an I/O error): no dispatch,
  // and results, failures and progress are neither recorded nor
  // acknowledged, so workers keep them and send them again. `reason` says
  // why (status and /metrics show it); an empty reason resumes.
  void SetPaused(std::string reason) { paused_ = std::move(reason); }
  const std::string& paused() const { return paused_; }
  // Makes the queue and the running attempts what the record says again,
  // after a round whose writes were rolled back: running attempts of
  // connected workers go back to them, the others wait the restart grace.
  Status Resync();

  // Called with the sweep of every job that ends done or failed (the
  // sequential scheduler's cue that a look may be ready).
  void SetJobEndedHook(std::function<void(int64_t sweep_id)> hook) { job_ended_ = std::move(hook); }

  // For the control API.
  void Enqueue(const std::vector<QueuedJob>& jobs);
  void Dequeue(int64_t job_id) { queue.Erase(job_id); }
  void ApplyFollowup(const Followup& f);
  // Drains one connected worker (NotFound if it is not connected).
  Status DrainWorker(const std::string& worker_id);
  // Drains the connected workers whose hello named this Slurm job; their ids.
  std::vector<std::string> DrainSlurmJob(const std::string& slurm_job_id);
  const WorkerSession* Session(const std::string& worker_id) const;
  // The queued jobs of a sweep that no connected worker could ever run
  // (WhyNoWorkerCanRun): {"jobs": N, "reasons": [{"reason", "jobs"}],
  // "workers_ready": accepting workers}. All sweeps at once, by id (sweeps
  // without such jobs are absent).
  Json Unrunnable(int64_t sweep_id) const;
  std::map<int64_t, Json> UnrunnableBySweep() const;
  size_t queued() const { return queue.size(); }
  size_t connected() const { return sessions.size(); }
  int64_t slots_total() const;
  int64_t slots_busy() const;

 private:
  WorkerSession* SessionByIdentity(const std::string& identity);
  int ReadyWorkers() const;  // connected and accepting jobs
  void OnHello(const std::string& identity, const Json& body);
  void Send(WorkerSession& w, MsgType type, Json body);
  void SendToIdentity(const std::string& identity, MsgType type, Json body);
  void ForgetAttempt(int64_t attempt_id);
  // Records the attempt lost (its job requeued or given up) and forgets it.
  void LoseAttempt(int64_t attempt, const std::string& reason, double now, bool never_started = false);
  void DeclareDead(const std::string& worker_id, const std::string& reason);
  // A failure reported by `w`: a worker whose attempts of several different
  // jobs fail in a row while others succeed is held (failure_streak.h).
  void NoteFailure(WorkerSession& w, int64_t job_id, const Json& failure_body);
  // Forgets a worker's session: its running attempts are lost (requeued),
  // and the record shows it `state` (lost: silent or replaced; gone: said bye).
  void EndSession(const std::string& worker_id, WorkerState state, const std::string& reason);

  BrokerOptions opt_;
  const Clock* clock_;
  Record* record_;
  CoordinatorCounters* counters_;
  Logger* log_;
  SendFn send_;
  bool stopping = false;
  std::string paused_;
  ReadyQueue queue;
  std::map<std::string, WorkerSession> sessions;    // by worker id
  std::map<std::string, std::string> by_identity;   // routing id -> worker id
  std::map<int64_t, Clock::TimePoint> orphans;     // running attempts waiting for their worker after a restart
  std::map<int64_t, std::string> attempt_worker;    // running attempt -> worker id
  Clock::TimePoint last_seen_written_{};            // when workers.last_seen was last written
  std::function<void(int64_t)> job_ended_;
};

}  // namespace avctl
