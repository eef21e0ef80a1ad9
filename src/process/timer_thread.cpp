// One thread, timers ordered by deadline; a callback runs outside the lock, and cancelling a
// running one waits for it.
#include "process/timer_thread.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <pthread.h>
#include <set>
#include <spdlog/spdlog.h>
#include <thread>

namespace sky::process {
namespace {

using clock = timer_thread::clock;

class timers {
public:
  timers() : thread_([this] { loop(); }) {}
  ~timers() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  std::uint64_t arm(clock::duration delay, clock::duration period, std::function<void()> callback) {
    std::lock_guard lock(mutex_);
    const auto id = ++last_id_;
    const auto deadline = clock::now() + delay;
    armed_.emplace(id, entry{deadline, period, std::move(callback)});
    by_deadline_.emplace(deadline, id);
    wake_.notify_all();
    return id;
  }

  void cancel(std::uint64_t id) {
    std::unique_lock lock(mutex_);
    if (auto it = armed_.find(id); it != armed_.end()) {
      by_deadline_.erase({it->second.deadline, id});
      armed_.erase(it);
    }
    // A running callback ends before its timer counts as gone, unless it is the one cancelling.
    if (std::this_thread::get_id() != thread_.get_id())
      done_.wait(lock, [&] { return running_ != id; });
  }

private:
  struct entry {
    clock::time_point deadline;
    clock::duration period; // zero: once
    std::function<void()> callback;
  };

  void loop() {
    ::pthread_setname_np(::pthread_self(), "sky-timer");
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (by_deadline_.empty()) {
        wake_.wait(lock);
        continue;
      }
      const auto [deadline, id] = *by_deadline_.begin();
      if (clock::now() < deadline) {
        wake_.wait_until(lock, deadline);
        continue;
      }
      by_deadline_.erase(by_deadline_.begin());
      auto it = armed_.find(id);
      auto callback =
          it->second.period.count() > 0 ? it->second.callback : std::move(it->second.callback);
      if (it->second.period.count() > 0) {
        // The next turn counts from now: a late tick is not followed by a burst of them.
        it->second.deadline = clock::now() + it->second.period;
        by_deadline_.emplace(it->second.deadline, id);
      } else {
        armed_.erase(it);
      }
      running_ = id;
      lock.unlock();
      try {
        callback();
      } catch (const std::exception& e) {
        spdlog::error("a timer's callback failed: {}", e.what());
      }
      callback = nullptr; // what it holds goes before a cancel returns
      lock.lock();
      running_ = 0;
      done_.notify_all();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::map<std::uint64_t, entry> armed_;
  std::set<std::pair<clock::time_point, std::uint64_t>> by_deadline_;
  std::uint64_t last_id_ = 0;
  std::uint64_t running_ = 0;
  bool stopping_ = false;
  std::thread thread_; // last: started once the rest exists
};

timers& the_timers() {
  static timers t;
  return t;
}

} // namespace

timer_thread::handle& timer_thread::handle::operator=(handle&& other) noexcept {
  if (this != &other) {
    cancel();
    id_ = other.id_;
    other.id_ = 0;
  }
  return *this;
}

void timer_thread::handle::cancel() {
  if (id_ != 0)
    the_timers().cancel(std::exchange(id_, 0));
}

timer_thread::handle timer_thread::after(clock::duration delay, std::function<void()> callback) {
  return handle(the_timers().arm(delay, clock::duration::zero(), std::move(callback)));
}

timer_thread::handle timer_thread::every(clock::duration period, std::function<void()> callback) {
  return handle(the_timers().arm(period, period, std::move(callback)));
}

} // namespace sky::process
