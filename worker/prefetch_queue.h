// Items 0..n-1 made in order on a background thread, at most `depth` ahead
// of the consumer: the training thread takes batch i while batch i+1 is
// being assembled. The maker runs strictly sequentially, so a maker that
// draws from its own random streams gives the same items, in the same
// order, as it would on the caller's thread. depth 0 makes each item on the
// caller's thread inside Next() (no thread at all).
//
// A maker error is delivered by Next() in its place in the order, and the
// producer stops there. Destroying the queue early (the consumer gave up)
// stops the producer after the item it is making and joins it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include "common/status.h"

namespace avctl {

template <typename T>
class PrefetchQueue {
 public:
  using Maker = std::function<Result<T>(size_t index)>;

  PrefetchQueue(size_t n, int depth, Maker make) : n_(n), depth_(depth), make_(std::move(make)) {
    if (depth_ > 0 && n_ > 0) producer_ = std::thread([this] { Produce(); });
  }
  ~PrefetchQueue() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (producer_.joinable()) producer_.join();
  }
  PrefetchQueue(const PrefetchQueue&) = delete;
  PrefetchQueue& operator=(const PrefetchQueue&) = delete;

  // The next item; call at most n times.
  Result<T> Next() {
    if (depth_ <= 0) return make_(next_++);
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return !ready_.empty(); });
    Result<T> item = std::move(ready_.front());
    ready_.pop_front();
    ++next_;
    lock.unlock();
    cv_.notify_all();
    return item;
  }

 private:
  void Produce() {
    for (size_t i = 0; i < n_; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return stop_ || ready_.size() < static_cast<size_t>(depth_); });
        if (stop_) return;
      }
      std::optional<Result<T>> item;
      try {
        item.emplace(make_(i));  // outside the lock: this is the work
      } catch (const std::exception& e) {  // a library throwing on this thread would end the process
        item.emplace(Status::Internal(std::string("making prefetched item ") + std::to_string(i) + ": " + e.what()));
      }
      const bool failed = !item->ok();
      {
        std::lock_guard<std::mutex> lock(mu_);
        ready_.push_back(std::move(*item));
      }
      cv_.notify_all();
      if (failed) return;
    }
  }

  const size_t n_;
  const int depth_;
  Maker make_;
  size_t next_ = 0;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Result<T>> ready_;
  bool stop_ = false;
  std::thread producer_;  // last: started after every other member exists
};

}  // namespace avctl
