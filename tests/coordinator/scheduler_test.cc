#include "coordinator/scheduler.h"

#include <gtest/gtest.h>

namespace avctl {
namespace {

QueuedJob Job(int64_t id, int64_t sweep, int64_t order, int priority = 0, const std::string& device = "any",
              int64_t mem = 0) {
  QueuedJob j;
  j.job_id = id;
  j.sweep_id = sweep;
  j.order = order;
  j.priority = priority;
  j.resources.device = device;
  j.resources.memory_mb = mem;
  return j;
}

WorkerCapacity Worker(const std::string& id, int slots, const std::string& device = "cpu", int64_t mem = -1) {
  WorkerCapacity w;
  w.id = id;
  w.free_slots = slots;
  w.device = device;
  w.free_memory_mb = mem;
  return w;
}

TEST(Scheduler, SeedMajorOrderWithinASweep) {
  ReadyQueue q;
  // Expansion order: seed 0 of A, seed 0 of B, seed 1 of A, seed 1 of B.
  q.Push(Job(13, 1, 3));
  q.Push(Job(10, 1, 0));
  q.Push(Job(12, 1, 2));
  q.Push(Job(11, 1, 1));
  auto a = Schedule(q, {Worker("w1", 2)});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].job_id, 10);
  EXPECT_EQ(a[1].job_id, 11);
}

TEST(Scheduler, PriorityThenOlderSweep) {
  ReadyQueue q;
  q.Push(Job(1, 1, 0));
  q.Push(Job(2, 2, 0));
  q.Push(Job(3, 3, 0, /*priority=*/5));
  auto order = q.Ordered();
  ASSERT_EQ(order.size(), 3u);
  EXPECT_EQ(order[0].job_id, 3);
  EXPECT_EQ(order[1].job_id, 1);
  EXPECT_EQ(order[2].job_id, 2);
}

TEST(Scheduler, DeviceAndMemoryMustFit) {
  ReadyQueue q;
  q.Push(Job(1, 1, 0, 0, "cuda", 30000));  // fits only the 40 GB GPU
  q.Push(Job(2, 1, 1, 0, "cuda", 8000));
  q.Push(Job(3, 1, 2, 0, "cpu"));
  auto a = Schedule(q, {Worker("gpu-small", 4, "cuda", 10000), Worker("gpu-big", 4, "cuda", 40000),
                        Worker("cpu", 1, "cpu")});
  ASSERT_EQ(a.size(), 3u);
  EXPECT_EQ(a[0].job_id, 1);
  EXPECT_EQ(a[0].worker_id, "gpu-big");
  EXPECT_EQ(a[1].job_id, 2);
  EXPECT_EQ(a[1].worker_id, "gpu-small");  // most free slots (4 vs 3 left on gpu-big)
  EXPECT_EQ(a[2].job_id, 3);
  EXPECT_EQ(a[2].worker_id, "cpu");
}

TEST(Scheduler, NeverPacksMoreThanFitsInMemory) {
  ReadyQueue q;
  for (int i = 0; i < 10; ++i) q.Push(Job(i + 1, 1, i, 0, "cuda", 6000));
  auto a = Schedule(q, {Worker("g", 8, "cuda", 20000)});
  EXPECT_EQ(a.size(), 3u);  // 3 x 6000 <= 20000 < 4 x 6000
}

TEST(Scheduler, AJobThatFitsNowhereDoesNotBlockOthers) {
  ReadyQueue q;
  q.Push(Job(1, 1, 0, 0, "cuda"));
  q.Push(Job(2, 1, 1, 0, "any"));
  auto a = Schedule(q, {Worker("c", 1, "cpu")});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].job_id, 2);
}

TEST(Scheduler, SlotsSpreadOverWorkersAndDrainingTakesNothing) {
  ReadyQueue q;
  for (int i = 0; i < 6; ++i) q.Push(Job(i + 1, 1, i));
  WorkerCapacity draining = Worker("w0", 4);
  draining.accepting = false;
  auto a = Schedule(q, {draining, Worker("w1", 2), Worker("w2", 2)});
  ASSERT_EQ(a.size(), 4u);
  EXPECT_EQ(a[0].worker_id, "w1");
  EXPECT_EQ(a[1].worker_id, "w2");
  EXPECT_EQ(a[2].worker_id, "w1");
  EXPECT_EQ(a[3].worker_id, "w2");
}

TEST(Scheduler, QueueEraseAndRepush) {
  ReadyQueue q;
  q.Push(Job(1, 1, 0));
  q.Push(Job(2, 1, 1));
  EXPECT_TRUE(q.Erase(1));
  EXPECT_FALSE(q.Erase(1));
  EXPECT_EQ(q.size(), 1u);
  q.Push(Job(2, 1, 1));  // a second push of the same job replaces it
  EXPECT_EQ(q.size(), 1u);
  EXPECT_TRUE(Schedule(q, {}).empty());
  EXPECT_TRUE(Schedule(q, {Worker("w", 0)}).empty());
}

TEST(Scheduler, ResourcesParseWithPathErrors) {
  auto ok = ParseJobResources(Json{{"device", "cuda"}, {"gpu_memory_mb", 6000}}, "resources");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->device, "cuda");
  EXPECT_EQ(ok->memory_mb, 6000);
  auto bad = ParseJobResources(Json{{"device", "tpu"}}, "resources");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("resources.device"), std::string::npos);
  auto unknown = ParseJobResources(Json{{"gpus", 2}}, "resources");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().ToString().find("resources.gpus"), std::string::npos);
}

TEST(Scheduler, GpuBudgetIsTheFreeMemoryWhenKnown) {
  EXPECT_EQ(GpuBudgetMb(81559, 60000), 60000);  // another process holds 21 GB
  EXPECT_EQ(GpuBudgetMb(81559, 0), 81559);      // an old worker: total only
  EXPECT_EQ(GpuBudgetMb(0, 0), 0);              // CPU
  EXPECT_EQ(GpuBudgetMb(1000, 5000), 1000);     // never above the total
}

}  // namespace
}  // namespace avctl

namespace avctl {
namespace {

WorkerCapacity Fleet(const std::string& id, const std::string& device, int64_t budget_mb, bool accepting = true) {
  WorkerCapacity w;
  w.id = id;
  w.device = device;
  w.free_slots = 1;
  w.free_memory_mb = budget_mb;
  w.accepting = accepting;
  return w;
}

QueuedJob Needs(const JobResources& r, bool command = false) {
  QueuedJob j;
  j.resources = r;
  j.command = command;
  return j;
}

TEST(WhyNoWorkerCanRun, DeviceKindMemoryAndAnEmptyFleet) {
  const QueuedJob cuda = Needs({"cuda", 20000});
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {}), "no worker is connected");
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {Fleet("a", "cpu", -1), Fleet("b", "cpu", -1)}),
            "it needs a cuda worker (resources.device); connected: 2 cpu workers");
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {Fleet("a", "cpu", -1), Fleet("g1", "cuda", 16000), Fleet("g2", "cuda", 8000)}),
            "it declares 20000 MB of GPU memory (resources.gpu_memory_mb) and the largest budget of a connected cuda "
            "worker is 16000 MB (g1)");
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {Fleet("g1", "cuda", 40000)}), "");
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {Fleet("g1", "cuda", -1)}), "");  // budget not tracked: it may fit
  // A draining worker will take no job: it does not count.
  EXPECT_EQ(WhyNoWorkerCanRun(cuda, {Fleet("g1", "cuda", 40000, false), Fleet("a", "cpu", -1)}),
            "it needs a cuda worker (resources.device); connected: 1 cpu worker");
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"any", 0}), {Fleet("a", "cpu", -1)}), "");
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"cpu", 0}), {Fleet("g", "cuda", 8000)}),
            "it needs a cpu worker (resources.device); connected: 1 cuda worker");
}

// A command job goes only to workers whose protocol runs programs; an
// older worker next to a newer one just takes the built-in jobs.
TEST(Scheduler, CommandJobsGoOnlyToWorkersThatRunThem) {
  ReadyQueue q;
  QueuedJob program = Job(1, 1, 0);
  program.command = true;
  q.Push(program);
  q.Push(Job(2, 1, 1));
  WorkerCapacity old_worker = Worker("old", 2);
  old_worker.runs_commands = false;
  auto a = Schedule(q, {old_worker});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].job_id, 2);
  a = Schedule(q, {old_worker, Worker("new", 1)});
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].job_id, 1);
  EXPECT_EQ(a[0].worker_id, "new");
  EXPECT_EQ(a[1].worker_id, "old");
}

TEST(WhyNoWorkerCanRun, ACommandJobAndOnlyOlderWorkers) {
  WorkerCapacity old_worker = Fleet("old", "cpu", -1);
  old_worker.runs_commands = false;
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"any", 0}, true), {old_worker}),
            "it is a command job and the 1 connected worker speaks a protocol older than version 3, which runs "
            "built-in models only (upgrade avworker)");
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"any", 0}, false), {old_worker}), "");
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"any", 0}, true), {old_worker, Fleet("new", "cpu", -1)}), "");
  // A newer worker of the wrong device: the device is what is missing.
  EXPECT_EQ(WhyNoWorkerCanRun(Needs({"cuda", 0}, true), {old_worker, Fleet("new", "cpu", -1)}),
            "it needs a cuda worker (resources.device); connected: 2 cpu workers");
}

TEST(Scheduler, AJobThatRanOutOfMemoryOnAWorkerGoesElsewhere) {
  ReadyQueue q;
  QueuedJob big = Job(1, 1, 0);
  big.avoid_workers = {"small"};
  q.Push(big);
  EXPECT_TRUE(Schedule(q, {Worker("small", 4)}).empty());
  auto a = Schedule(q, {Worker("small", 4), Worker("big", 1)});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].worker_id, "big");
  QueuedJob only_small = Needs({"any", 0});
  only_small.avoid_workers = {"small"};
  EXPECT_EQ(WhyNoWorkerCanRun(only_small, {Fleet("small", "cpu", -1)}),
            "it ran out of memory on small and waits for another worker that can run it");
  EXPECT_EQ(WhyNoWorkerCanRun(only_small, {Fleet("small", "cpu", -1), Fleet("other", "cpu", -1)}), "");
}

TEST(Scheduler, ARetriedJobWaitsForAWorkerItHasNotFailedOnWhileOneIsConnected) {
  ReadyQueue q;
  QueuedJob retried = Job(1, 1, 0);
  retried.failed_on = {"broken"};
  q.Push(retried);
  q.Push(Job(2, 1, 1));
  WorkerCapacity busy = Worker("healthy", 0);  // connected, no free slot now
  auto a = Schedule(q, {Worker("broken", 1), busy});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].job_id, 2) << "the broken worker takes the other job, not the one that failed there";
  // Alone, the worker it failed on gets it again.
  a = Schedule(q, {Worker("broken", 1)});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].job_id, 1);
  // A draining other worker does not count.
  busy.accepting = false;
  a = Schedule(q, {Worker("broken", 1), busy});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].job_id, 1);
}

}  // namespace
}  // namespace avctl
