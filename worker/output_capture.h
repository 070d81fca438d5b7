// What a job's program writes to stdout and stderr, drained by the worker's
// event loop (its pipes are polled beside the loop's sockets; no thread per
// job) so that a program that floods its output never blocks the worker,
// nor itself for long: each Pump() reads what is there up to a budget, so
// that a flood shares the loop with everything else. Each stream goes to its
// log file (made, with its folder, when the stream's first bytes arrive) up
// to a cap; what is beyond the cap is read and counted but not kept, and the
// last bytes of stderr stay in memory for the failure reason.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

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
  ~OutputCapture();  // closes everything (and the log files)
  OutputCapture(const OutputCapture&) = delete;
  OutputCapture& operator=(const OutputCapture&) = delete;

  int ChildStdout() const { return streams_[0].write_fd; }
  int ChildStderr() const { return streams_[1].write_fd; }
  // After the child is started: the parent's copies of the write ends are
  // closed, so that end of file comes when the job's processes are gone.
  void Start();
  // The read ends not at end of file yet, to poll for POLLIN.
  std::vector<int> Fds() const;
  // Reads what the pipes hold, at most `budget` bytes in all (half per
  // stream), never blocking.
  void Pump(size_t budget = size_t{1} << 20);
  // Both streams reached end of file: every process of the job closed them.
  bool Done() const { return streams_[0].read_fd < 0 && streams_[1].read_fd < 0; }
  // Stops reading (a process of the job still holds a stream): closes the
  // read ends and the log files.
  void Stop();
  // The last lines of stderr (at most tail_bytes), trailing newlines removed.
  std::string StderrTail() const;
  int64_t DroppedBytes() const { return dropped_; }

 private:
  // One stream: its pipe and its log file, made when the first bytes arrive
  // (a silent program costs no files: most of a job's cost on a busy worker
  // is creating them).
  struct Stream {
    int read_fd = -1, write_fd = -1;
    std::string path;  // "" once the file was tried
    std::FILE* file = nullptr;
    int64_t kept = 0;
    bool noted = false;  // the "dropped" note is written
    std::FILE* File();
  };
  OutputCapture(CaptureLimits limits) : limits_(limits) {}
  void Keep(Stream& s, const char* data, size_t n, bool is_stderr);

  const CaptureLimits limits_;
  Stream streams_[2];
  int64_t dropped_ = 0;
  std::string tail_;
};

}  // namespace avctl
