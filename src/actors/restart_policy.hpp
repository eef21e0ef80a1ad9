// Restart intensity, as pure logic: how many failures within a window are tolerated before the
// supervised thing is paused, and for how long. Fed with timestamps, so it is tested without
// sleeping and without actors.
#pragma once

#include <chrono>
#include <deque>

namespace sky::actors {

struct restart_limits {
  int max_restarts = 10;                    // tolerated within `window`
  std::chrono::milliseconds window{60'000}; // sliding window
  std::chrono::milliseconds pause{60'000};  // pause once exceeded
};

class restart_intensity {
public:
  using clock = std::chrono::steady_clock;
  explicit restart_intensity(restart_limits limits) : limits_(limits) {}

  // Records a failure at `now`; true when it exceeds the limits, i.e. the caller must pause
  // for limits().pause and then call reset().
  bool exceeded_after_failure(clock::time_point now) {
    failures_.push_back(now);
    while (!failures_.empty() && now - failures_.front() > limits_.window)
      failures_.pop_front();
    return static_cast<int>(failures_.size()) > limits_.max_restarts;
  }
  // After a pause: the count starts again.
  void reset() { failures_.clear(); }
  int recent() const { return static_cast<int>(failures_.size()); }
  const restart_limits& limits() const { return limits_; }

private:
  restart_limits limits_;
  std::deque<clock::time_point> failures_;
};

} // namespace sky::actors
