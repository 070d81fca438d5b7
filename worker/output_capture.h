// What a job's program writes to stdout and stderr, drained on a thread of
// its own so that a program that floods its output never blocks the worker
// (nor itself, for long): each stream goes to its log file (made, with its
// folder, when the stream's first bytes arrive) up to a cap,
// what is beyond the cap is read and counted but not kept, and the last
// bytes of stderr stay in memory for the failure reason.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "common/status.h"

namespace avctl {

struct CaptureLimits {
  int64_t max_bytes = int64_t{64} << 20;  // kept per stream; the rest is dropped (and said in the file)
  size_t tail_bytes = 4096;              // of stderr, kept in memory
};

class OutputCapture {
 public:
  // Makes the two pipes; the child gets ChildStdout()/ChildStderr().
  static Result<std::unique_ptr<OutputCapture>> Open(std::string stdout_path, std::string stderr_path,
                                                     CaptureLimits limits);
  ~OutputCapture();  // stops the thread (if still reading) and closes everything
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  int ChildStdout() const { return out_write_; }
  int ChildStderr() const { return err_write_; }
  // After the child is started: the parent's copies of the write ends are
  // closed (so that end of file comes when the job's processes are gone)
  // and the draining thread starts.
  Status Start();
  // Both streams reached end of file: every process of the job closed them.
  bool Done() const { return done_.load(); }
  // Stops reading (a process of the job still holds a stream) and joins.
  void Stop();
  // The last lines of stderr (at most tail_bytes), trailing newlines removed.
  std::string StderrTail() const;
  int64_t DroppedBytes() const { return dropped_.load(); }

 private:
  OutputCapture(std::string stdout_path, std::string stderr_path, CaptureLimits limits);
  void Drain();

  const std::string stdout_path_, stderr_path_;
  const CaptureLimits limits_;
  int out_read_ = -1, out_write_ = -1, err_read_ = -1, err_write_ = -1;
  int wake_read_ = -1, wake_write_ = -1;
  std::thread thread_;
  std::atomic<bool> done_{false};
  std::atomic<int64_t> dropped_{0};
  mutable std::mutex tail_mu_;
  std::string tail_;  // guarded by tail_mu_
};

}  // namespace avctl
