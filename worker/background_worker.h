// Values worked out on one thread beside an event loop (git in a large
// repository, a script's SHA-256), so that the loop never waits for them:
// Submit() gives a future that the loop checks without blocking, and
// `wake` (if any) is notified after each value is ready, so the loop need
// not poll. One thread for the daemon's life, not one per job: starting a
// thread for every job cost more than the job's own process did. Values are
// worked out in submission order. The destructor finishes what was
// submitted, then joins.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>

#include "common/wakeup.h"

namespace avctl {

template <typename T>
class BackgroundWorker {
 public:
  explicit BackgroundWorker(std::shared_ptr<Wakeup> wake) : wake_(std::move(wake)), thread_([this] { Run(); }) {}
  ~BackgroundWorker() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }
  BackgroundWorker(const BackgroundWorker&) = delete;
  BackgroundWorker& operator=(const BackgroundWorker&) = delete;

  std::future<T> Submit(std::function<T()> work) {
    std::packaged_task<T()> task(std::move(work));
    std::future<T> result = task.get_future();
    {
      std::lock_guard<std::mutex> lock(mu_);
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
    return result;
  }

 private:
  void Run() {
    while (true) {
      std::packaged_task<T()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;  // stopping, and everything submitted is done
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();                       // its future is ready from here on
      if (wake_) wake_->Notify();  // so a loop woken now finds it ready
    }
  }

  const std::shared_ptr<Wakeup> wake_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::packaged_task<T()>> queue_;  // guarded by mu_
  bool stopping_ = false;                      // guarded by mu_
  std::thread thread_;                         // last: starts once the rest is made
};

}  // namespace avctl
