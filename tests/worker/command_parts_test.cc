// The parts of a command job's run (docs/JOBS.md): what its end means
// (pure), what it is given (pure), how a program is started, how its output
// is drained and capped, and how every process of it is found.
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "common/subprocess.h"
#include "tests/child_process.h"
#include "tests/test_dir.h"
#include "tests/wait.h"
#include "worker/interpreter_info.h"
#include "worker/output_capture.h"
#include "worker/process_tree.h"
#include "worker/program_env.h"
#include "worker/program_exit.h"

namespace avctl {
namespace {

namespace fs = std::filesystem;

int Exited(int code) { return code << 8; }  // a wait status
int Signaled(int sig) { return sig; }

JobResult OkResult(double macro_f1) {
  JobResult r;
  r.test.metrics["macro_f1"] = macro_f1;
  return r;
}

TEST(ProgramExit, EachEndMeansWhatTheContractSays) {
  ProgramEnd e;
  e.result_path = "/spool/7/program_result.json";
  e.require_metrics = {"macro_f1"};
  e.stderr_tail = "epoch 1\nepoch 2\nTraceback: boom\n";

  e.wait_status = Exited(0);
  e.result = OkResult(0.7);
  ProgramOutcome o = ClassifyProgramEnd(e);
  EXPECT_TRUE(o.done);
  EXPECT_EQ(o.result.test.Metric("macro_f1"), 0.7);

  e.result = Status::NotFound("no result");
  o = ClassifyProgramEnd(e);
  EXPECT_FALSE(o.done);
  EXPECT_EQ(o.kind, FailureKind::kJob);
  EXPECT_NE(o.reason.find("exited with code 0 but wrote no result to /spool/7/program_result.json"), std::string::npos)
      << o.reason;

  e.result = Status::InvalidArgument("result.test: missing").WithFile(e.result_path);
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kJob);
  EXPECT_NE(o.reason.find("unusable"), std::string::npos) << o.reason;
  EXPECT_NE(o.reason.find("result.test: missing"), std::string::npos) << o.reason;

  JobResult no_metric;
  no_metric.test.metrics["accuracy"] = 0.5;
  e.result = no_metric;
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kJob);
  EXPECT_NE(o.reason.find("result.test.metrics.macro_f1: missing (the sweep compares macro_f1"), std::string::npos)
      << o.reason;

  e.result = Status::NotFound("no result");
  e.wait_status = Exited(3);
  EXPECT_EQ(ClassifyProgramEnd(e).kind, FailureKind::kPreempted);
  e.wait_status = Exited(2);
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kJob);
  EXPECT_NE(o.reason.find("code 2"), std::string::npos);
  e.wait_status = Exited(1);
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kCrash);
  EXPECT_NE(o.reason.find("exited with code 1; last lines of stderr:\nepoch 1\nepoch 2\nTraceback: boom"),
            std::string::npos)
      << o.reason;
  e.wait_status = Signaled(SIGSEGV);
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kCrash);
  EXPECT_NE(o.reason.find("signal 11"), std::string::npos) << o.reason;
  // Stopped by the worker (preemption): a signal or exit 3 is not a crash.
  e.stop_requested = true;
  e.wait_status = Signaled(SIGTERM);
  EXPECT_EQ(ClassifyProgramEnd(e).kind, FailureKind::kPreempted);
  e.stop_requested = false;
  e.timed_out = true;
  e.timeout_minutes = 5;
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kCrash);
  EXPECT_NE(o.reason.find("timeout of 5 minute(s)"), std::string::npos) << o.reason;
  e.timed_out = false;
  // Out of memory, said by stderr or by the program's failed result: another worker may have the memory.
  e.wait_status = Exited(1);
  e.stderr_tail = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB";
  o = ClassifyProgramEnd(e);
  EXPECT_TRUE(o.out_of_memory);
  EXPECT_EQ(o.kind, FailureKind::kWorker);
  JobResult failed;
  failed.status = ResultStatus::kFailed;
  failed.reason = "ValueError: bad lr";
  failed.failure_kind = FailureKind::kJob;
  e.result = failed;
  e.stderr_tail = "";
  o = ClassifyProgramEnd(e);
  EXPECT_EQ(o.kind, FailureKind::kJob);
  EXPECT_EQ(o.reason, "ValueError: bad lr");
  failed.out_of_memory = true;
  e.result = failed;
  EXPECT_TRUE(ClassifyProgramEnd(e).out_of_memory);
}

TEST(ProgramExit, LastLines) {
  EXPECT_EQ(LastLines("a\nb\nc\n\n", 2, 100), "b\nc");
  EXPECT_EQ(LastLines("a\nb", 5, 100), "a\nb");
  EXPECT_EQ(LastLines("abcdef", 1, 3), "...def");
  EXPECT_EQ(LastLines("", 3, 10), "");
}

TEST(ProgramEnv, GpusAreMappedThroughTheWorkersOwnList) {
  EXPECT_EQ(*VisibleDevices("cpu", nullptr), "");
  EXPECT_EQ(*VisibleDevices("cuda:1", nullptr), "1");
  EXPECT_EQ(*VisibleDevices("cuda", nullptr), "0");
  const std::string slurm = "4,5";
  EXPECT_EQ(*VisibleDevices("cuda:1", &slurm), "5");
  const std::string uuids = "GPU-aaa, GPU-bbb";
  EXPECT_EQ(*VisibleDevices("cuda:1", &uuids), "GPU-bbb");
  const std::string one = "4";
  auto bad = VisibleDevices("cuda:1", &one);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("cuda:1 is not in its CUDA_VISIBLE_DEVICES \"4\""), std::string::npos);
}

TEST(ProgramEnv, TheContractsVariablesAndTheJobsOwn) {
  CommandJob job;
  job.key = "s/v/-/seed=3/partition=1";
  job.seed = 3;
  job.partition = 4;
  job.params = {{"lr", 0.1}};
  job.env = {{"OMP_NUM_THREADS", "4"}, {"WANDB_API_KEY", "s3cret"}};
  ProgramSetup s;
  s.job = &job;
  s.attempt = 12;
  s.token = "w1-100-12";
  s.config_path = "/a/config.json";
  s.result_path = "/a/program_result.json";
  s.progress_path = "/a/progress.jsonl";
  s.checkpoint_dir = "/ck/job";
  s.output_dir = "/out/job";
  s.device = "cuda:0";
  s.threads = 2;
  const std::string inherited_gpus = "7";
  auto v = ProgramVariables(s, &inherited_gpus);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(v->at("AVCTL_CONFIG"), "/a/config.json");
  EXPECT_EQ(v->at("AVCTL_RESULT"), "/a/program_result.json");
  EXPECT_EQ(v->at("AVCTL_CHECKPOINT_DIR"), "/ck/job");
  EXPECT_EQ(v->at("AVCTL_SEED"), "3");
  EXPECT_EQ(v->at("AVCTL_PARTITION"), "4");
  EXPECT_EQ(v->at("CUDA_VISIBLE_DEVICES"), "7");
  EXPECT_EQ(v->at("PYTHONUNBUFFERED"), "1");
  EXPECT_EQ(v->at("MKL_NUM_THREADS"), "2");
  EXPECT_EQ(v->at("OMP_NUM_THREADS"), "4");  // the job's own setting wins
  EXPECT_EQ(v->count("AVCTL_DATASET"), 0u);
  const auto env = ProgramEnvironment({"PATH=/usr/bin", "CUDA_VISIBLE_DEVICES=0,1", "AVCTL_RESULT=/stale", "HOME=/h"}, *v);
  EXPECT_NE(std::find(env.begin(), env.end(), "PATH=/usr/bin"), env.end());
  EXPECT_NE(std::find(env.begin(), env.end(), "CUDA_VISIBLE_DEVICES=7"), env.end());
  EXPECT_EQ(std::find(env.begin(), env.end(), "CUDA_VISIBLE_DEVICES=0,1"), env.end());
  EXPECT_EQ(std::find(env.begin(), env.end(), "AVCTL_RESULT=/stale"), env.end());
  const Json redacted = RedactedVariables(*v);
  EXPECT_EQ(redacted["WANDB_API_KEY"], "(redacted)");
  EXPECT_EQ(redacted["AVCTL_ATTEMPT_TOKEN"], "w1-100-12");
  EXPECT_TRUE(IsSecretName("HF_TOKEN"));
  EXPECT_TRUE(IsSecretName("db_password"));
  EXPECT_FALSE(IsSecretName("OMP_NUM_THREADS"));
  const Json config = ProgramConfig(s);
  EXPECT_EQ(config["contract"], kJobContractVersion);
  EXPECT_EQ(config["params"]["lr"], 0.1);
  EXPECT_EQ(config["device"], "cuda");
  EXPECT_TRUE(config["dataset"].is_null());
}

std::vector<std::string> ThisEnvironment(const std::string& extra) {
  std::vector<std::string> env = {"PATH=/usr/local/bin:/usr/bin:/bin"};
  if (!extra.empty()) env.push_back(extra);
  return env;
}

TEST(SpawnProgram, AProgramThatCannotStartIsTheCallsErrorNamingIt) {
  const fs::path dir = testutil::FreshTestDir("spawn-program");
  ProgramSpawn s;
  s.argv = {"./no_such_program.sh"};
  s.env = ThisEnvironment("");
  s.workdir = dir.string();
  auto pid = SpawnProgram(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().ToString().find("cannot run ./no_such_program.sh (relative to " + dir.string() + ")"),
            std::string::npos)
      << pid.status().ToString();
  EXPECT_NE(pid.status().ToString().find("No such file"), std::string::npos) << pid.status().ToString();
  s.argv = {"no-such-command-anywhere"};
  pid = SpawnProgram(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().ToString().find("looked up in PATH"), std::string::npos) << pid.status().ToString();
  s.argv = {"true"};
  s.workdir = (dir / "missing").string();
  pid = SpawnProgram(s);
  ASSERT_FALSE(pid.ok());
  EXPECT_NE(pid.status().ToString().find("cannot enter the job's workdir"), std::string::npos);
  s.workdir = dir.string();
  pid = SpawnProgram(s);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  fs::remove_all(dir);
}

// Runs `script` with its output captured by `capture`, until the program has
// exited and both streams are drained.
void RunCapturing(OutputCapture& capture, const std::string& script) {
  ProgramSpawn s;
  s.argv = {"sh", "-c", script};
  s.env = ThisEnvironment("");
  s.stdout_fd = capture.ChildStdout();
  s.stderr_fd = capture.ChildStderr();
  auto pid = SpawnProgram(s);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  capture.Start();
  // As the worker's loop does: poll the pipes, pump what is there.
  while (!capture.Done()) {
    std::vector<pollfd> fds;
    for (int fd : capture.Fds()) fds.push_back({fd, POLLIN, 0});
    ASSERT_GT(::poll(fds.data(), fds.size(), 30000), 0) << "the program's output neither came nor ended";
    capture.Pump();
  }
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  capture.Stop();
}

TEST(OutputCapture, AFloodIsDrainedAndCappedAndStderrsTailKept) {
  const fs::path dir = testutil::FreshTestDir("output-capture");
  CaptureLimits limits;
  limits.max_bytes = 1 << 20;
  auto capture = OutputCapture::Open((dir / "out.log").string(), (dir / "err.log").string(), limits);
  ASSERT_TRUE(capture.ok()) << capture.status().ToString();
  // 100 MB on stdout, then a last word on stderr: the program must not block on a full pipe.
  RunCapturing(**capture, "head -c 100000000 /dev/zero; echo 'line 1' >&2; echo 'the last line' >&2");
  if (HasFatalFailure()) return;
  EXPECT_EQ((*capture)->StderrTail(), "line 1\nthe last line");
  EXPECT_EQ((*capture)->DroppedBytes(), 100000000 - (1 << 20));
  const auto size = fs::file_size(dir / "out.log");
  EXPECT_GE(size, static_cast<uintmax_t>(1 << 20));
  EXPECT_LT(size, static_cast<uintmax_t>((1 << 20) + 200));
  auto text = ReadFileToString((dir / "out.log").string());
  EXPECT_NE(text->find("[avctl: output beyond 1048576 bytes is not kept]"), std::string::npos);
  fs::remove_all(dir);
}

TEST(OutputCapture, ASilentStreamMakesNoFileAndALogFolderIsMadeWhenNeeded) {
  const fs::path dir = testutil::FreshTestDir("output-capture-lazy");
  auto capture = OutputCapture::Open((dir / "logs" / "out.log").string(), (dir / "logs" / "err.log").string(), {});
  ASSERT_TRUE(capture.ok()) << capture.status().ToString();
  RunCapturing(**capture, "echo only stderr >&2");
  if (HasFatalFailure()) return;
  EXPECT_FALSE(fs::exists(dir / "logs" / "out.log"));
  auto err = ReadFileToString((dir / "logs" / "err.log").string());
  ASSERT_TRUE(err.ok()) << err.status().ToString();
  EXPECT_EQ(*err, "only stderr\n");
  fs::remove_all(dir);
}

bool Gone(pid_t pid) { return testutil::ProcessGone(pid); }

TEST(ProcessTree, AGrandchildThatCalledSetsidIsFoundByItsMarkerAndStopped) {
  const fs::path dir = testutil::FreshTestDir("process-tree");
  ASSERT_TRUE(BecomeChildSubreaper().ok());
  const std::string marker = std::string(kAttemptTokenVar) + "=test-" + std::to_string(::getpid());
  ProgramSpawn s;
  // A child that ignores SIGTERM, and a grandchild in a session of its own.
  s.argv = {"sh", "-c", "(trap '' TERM; sleep 300) & echo $! > stubborn.pid; setsid sleep 300 & echo $! > escaped.pid; "
                        "wait"};
  s.env = ThisEnvironment(marker);
  s.workdir = dir.string();
  auto pid = SpawnProgram(s);
  ASSERT_TRUE(pid.ok()) << pid.status().ToString();
  ASSERT_TRUE(testutil::WaitUntil([&] { return fs::exists(dir / "escaped.pid") && fs::exists(dir / "stubborn.pid"); }, 10));
  const pid_t escaped = std::stoi(*ReadFileToString((dir / "escaped.pid").string()));
  const pid_t stubborn = std::stoi(*ReadFileToString((dir / "stubborn.pid").string()));
  ASSERT_TRUE(testutil::WaitUntil([&] { return ProcessesWithEnvEntry(marker).size() >= 3; }, 10));
  const auto found = ProcessesWithEnvEntry(marker);
  EXPECT_NE(std::find(found.begin(), found.end(), escaped), found.end());
  EXPECT_EQ(::getpgid(escaped), escaped) << "setsid made it a group of its own";
  // SIGTERM to the group and the marked processes: the stubborn child stays.
  SignalJobProcesses(*pid, marker, SIGTERM);
  int status = 0;
  ASSERT_EQ(::waitpid(*pid, &status, 0), *pid);
  EXPECT_FALSE(Gone(stubborn));
  SignalJobProcesses(*pid, marker, SIGKILL);
  // Both were reparented to this process (the subreaper): reaped here, and
  // so is the subshell's own sleep, so that no child is left to the next test.
  ASSERT_TRUE(testutil::WaitUntil([&] {
    ReapOrphans({});
    return Gone(stubborn) && Gone(escaped) && !HasChildren();
  }, 10));
  EXPECT_TRUE(ProcessesWithEnvEntry(marker).empty());
  fs::remove_all(dir);
}

// /proc/PID/stat as the kernel writes it: a command name may hold spaces and
// parentheses; a kernel thread carries PF_KTHREAD (0x00200000) in flags.
TEST(ProcessTree, StatLinesParseToStateParentAndFlags) {
  // kthreadd on Linux 6.1: flags 2129984 = 0x208040.
  auto kthread = ParseProcStat("2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 4 0 0");
  ASSERT_TRUE(kthread.has_value());
  EXPECT_EQ(kthread->state, 'S');
  EXPECT_EQ(kthread->ppid, 0);
  EXPECT_TRUE(kthread->KernelThread());
  EXPECT_FALSE(kthread->Dead());
  auto odd = ParseProcStat("4242 (a) b) (c) Z 17 4242 4242 0 -1 4194636 0 0 0 0 0 0 0 0 20 0 1 0 9 0 0");
  ASSERT_TRUE(odd.has_value());
  EXPECT_EQ(odd->state, 'Z');
  EXPECT_EQ(odd->ppid, 17);
  EXPECT_FALSE(odd->KernelThread());
  EXPECT_TRUE(odd->Dead());
  EXPECT_FALSE(ParseProcStat("").has_value());
  EXPECT_FALSE(ParseProcStat("12 (cut").has_value());
  EXPECT_FALSE(ParseProcStat("12 (short) S 1 2").has_value());
  auto self = ParseProcStat(*ReadFileToString("/proc/self/stat"));
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->ppid, ::getppid());
  EXPECT_EQ(self->state, 'R');
  EXPECT_FALSE(self->KernelThread());
}

// A program that exits leaving nothing: no child is left, so nothing of the
// job is, without a scan; one that leaves a setsid grandchild: it is found.
TEST(ProcessTree, LeftoversOfAnExitedProgramAreKilledAndNoneMeansNoScan) {
  const fs::path dir = testutil::FreshTestDir("leftovers");
  ASSERT_TRUE(BecomeChildSubreaper().ok());
  const std::string marker = std::string(kAttemptTokenVar) + "=left-" + std::to_string(::getpid());
  ProgramSpawn s;
  s.env = ThisEnvironment(marker);
  s.workdir = dir.string();
  s.argv = {"sh", "-c", "exit 0"};
  auto quiet = SpawnProgram(s);
  ASSERT_TRUE(quiet.ok()) << quiet.status().ToString();
  int status = 0;
  ASSERT_EQ(::waitpid(*quiet, &status, 0), *quiet);
  EXPECT_FALSE(HasChildren());
  EXPECT_TRUE(KillLeftovers(*quiet, marker).empty());

  s.argv = {"sh", "-c", "setsid sleep 300 & echo $! > escaped.pid; exit 0"};
  auto leaving = SpawnProgram(s);
  ASSERT_TRUE(leaving.ok()) << leaving.status().ToString();
  ASSERT_EQ(::waitpid(*leaving, &status, 0), *leaving);
  ASSERT_TRUE(testutil::WaitUntil([&] { return fs::exists(dir / "escaped.pid"); }, 10));
  const pid_t escaped = std::stoi(*ReadFileToString((dir / "escaped.pid").string()));
  // Past its setsid (before it, the group's SIGKILL takes it and the scan
  // finds a zombie); the exec of sleep that follows may be under way while
  // KillLeftovers scans, which the scan waits out.
  ASSERT_TRUE(testutil::WaitUntil([&] { return ::getpgid(escaped) == escaped; }, 10));
  EXPECT_TRUE(HasChildren()) << "the orphan is this subreaper's child";
  const auto killed = KillLeftovers(*leaving, marker);
  EXPECT_NE(std::find(killed.begin(), killed.end(), escaped), killed.end());
  // Gone counts a zombie as gone: reaped too, no child is left.
  ASSERT_TRUE(testutil::WaitUntil([&] {
    ReapOrphans({});
    return Gone(escaped) && !HasChildren();
  }, 10));
  fs::remove_all(dir);
}

TEST(InterpreterInfo, PathAndVersionOfAKnownInterpreterAskedOnce) {
  EXPECT_TRUE(IsKnownInterpreter("python3.11"));
  EXPECT_TRUE(IsKnownInterpreter("Rscript"));
  EXPECT_FALSE(IsKnownInterpreter("train"));
  EXPECT_EQ(ResolveInPath("sh", "/nonexistent:/bin"), "/bin/sh");
  EXPECT_EQ(ResolveInPath("no-such-program-here", "/usr/bin:/bin"), "");
  InterpreterInfo info;
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin"};
  Json bash = info.Describe({"bash", "train.sh"}, env, "/tmp");
  EXPECT_EQ(bash["path"], "/usr/bin/bash");
  ASSERT_TRUE(bash.contains("version")) << bash.dump();
  EXPECT_EQ(bash["version"].get<std::string>().rfind("GNU bash, version", 0), 0u) << bash.dump();
  // Not a known interpreter: its path only, never run with --version.
  Json sh = info.Describe({"sh", "-c", "true"}, env, "/tmp");
  EXPECT_EQ(sh, (Json{{"path", "/usr/bin/sh"}}));
  Json own = info.Describe({"./train"}, env, "/work");
  EXPECT_EQ(own, (Json{{"path", "/work/train"}}));
}

}  // namespace
}  // namespace avctl
