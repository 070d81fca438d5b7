// Time as the daemons read it. Code that decides by time (liveness,
// heartbeats, backoff, retry deadlines) is given a Clock, so that its tests
// move time by hand instead of sleeping; the daemons pass SystemClock().
#pragma once

#include <chrono>

namespace avctl {

// Wall-clock time as the record stores it: seconds since the Unix epoch.
inline double UnixSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Clock {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  virtual ~Clock() = default;
  // Monotonic time, for intervals and deadlines.
  virtual TimePoint Now() const = 0;
  // Wall time for the record (seconds since the Unix epoch).
  virtual double Unix() const = 0;
};

// The machine's clocks (stateless; one shared instance).
class SystemClockImpl final : public Clock {
 public:
  TimePoint Now() const override { return std::chrono::steady_clock::now(); }
  double Unix() const override { return UnixSeconds(); }
};
inline const Clock& SystemClock() {
  static const SystemClockImpl kClock;
  return kClock;
}

// A clock that moves only when told (tests). Starts at an arbitrary point.
class ManualClock final : public Clock {
 public:
  TimePoint Now() const override { return now_; }
  double Unix() const override { return unix_; }
  void Advance(std::chrono::milliseconds d) {
    now_ += d;
    unix_ += std::chrono::duration<double>(d).count();
  }

 private:
  TimePoint now_ = TimePoint(std::chrono::hours(1000));
  double unix_ = 1.7e9;
};

}  // namespace avctl
