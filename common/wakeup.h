// A file descriptor that threads make readable to wake an event loop: the
// worker's loop polls it beside its sockets, so a job's output reaching end
// of file or its provenance being worked out on another thread is handled at
// once instead of at the loop's next timeout. Linux eventfd; Notify() is
// safe from any thread, Clear() from the loop.
#pragma once

#include <memory>

#include "common/status.h"

namespace avctl {

class Wakeup {
 public:
  static Result<std::shared_ptr<Wakeup>> Create();
  ~Wakeup();
  Wakeup(const Wakeup&) = delete;
  Wakeup& operator=(const Wakeup&) = delete;

  int fd() const { return fd_; }
  void Notify();  // makes fd() readable (until Clear)
  void Clear();   // not readable again until the next Notify

 private:
  explicit Wakeup(int fd) : fd_(fd) {}
  const int fd_;
};

}  // namespace avctl
