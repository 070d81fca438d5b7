// Finding and stopping every process of a job, however it was started: its
// process group, and any process carrying the job's marker in its
// environment (AVCTL_ATTEMPT_TOKEN, inherited by children, grandchildren,
// and one that called setsid to leave the group). The worker is a child
// subreaper, so a job's orphans become its children and are reaped here
// rather than by init. Linux only (/proc, prctl).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace avctl {

// The environment entry that marks every process of one attempt.
inline constexpr const char* kAttemptTokenVar = "AVCTL_ATTEMPT_TOKEN";

// PR_SET_CHILD_SUBREAPER for the calling process.
Status BecomeChildSubreaper();

// The fields of /proc/PID/stat that the scans use.
struct ProcStat {
  char state = '?';      // R, S, D, Z (zombie), X (dead), ...
  pid_t ppid = 0;
  unsigned flags = 0;    // the kernel's PF_* flags
  bool KernelThread() const { return (flags & 0x00200000u) != 0; }  // PF_KTHREAD
  bool Dead() const { return state == 'Z' || state == 'X'; }
};
// Parses "pid (comm) S ppid pgrp session tty tpgid flags ..." (comm may hold
// spaces and parentheses); nullopt when the text is not such a line.
std::optional<ProcStat> ParseProcStat(const std::string& text);

// The processes (other than the caller) whose environment holds exactly
// `entry` ("AVCTL_ATTEMPT_TOKEN=..."); processes that cannot be read (other
// users', gone meanwhile) are skipped. A process caught inside exec(2),
// between its new address space and its new environment (both environ and
// cmdline read empty for a few microseconds), is read again until its
// environment is there, so that a grandchild exec'ing at the moment of a
// scan is not missed.
std::vector<pid_t> ProcessesWithEnvEntry(const std::string& entry);

// Sends `sig` to process group `pgid` (when > 0) and to every process marked
// with `entry`; returns the marked processes it signalled (one scan of /proc).
std::vector<pid_t> SignalJobProcesses(pid_t pgid, const std::string& entry, int sig);

// Whether the caller has any child process (running, or exited and not yet
// reaped), without reaping one.
bool HasChildren();

// After a job's program was reaped: SIGKILL to whatever of the job is left
// (its group, processes with `entry`); returns the marked ones signalled.
// Every process of the job descends from the caller, a subreaper, so with no
// child left nothing of the job is: /proc is scanned only when one is.
std::vector<pid_t> KillLeftovers(pid_t pgid, const std::string& entry);

// Reaps those of `pids` that are the caller's children and have exited;
// returns the ones still to wait for (not exited yet).
std::vector<pid_t> ReapExited(const std::vector<pid_t>& pids);

// Reaps the caller's exited children that are not in `known` (orphans of
// jobs that the subreaper inherited and that exited on their own); returns
// how many it reaped.
int ReapOrphans(const std::vector<pid_t>& known);

}  // namespace avctl
