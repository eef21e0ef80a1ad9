// Heartbeats for the threads that are not actors: the work context that runs every work step and
// the HTTP server's threads. Actors have their supervisors; a thread pool blocked for good (a
// deadlock in a library, say) would otherwise leave a node that answers ready and does nothing.
// The watchdog's ticks are a timer of the process's timer thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::process {

using watchdog_clock = std::chrono::steady_clock;

// The verdict on one pool from its heartbeats; pure, driven by the caller's clock. One heartbeat
// is outstanding at a time. A pool is stalled when its heartbeat has waited `stall_after` and,
// when the pool reports progress (tasks it finished), nothing progressed meanwhile either: a
// pool busy with a long queue is slow, not stalled.
class heartbeat_monitor {
public:
  explicit heartbeat_monitor(std::chrono::milliseconds stall_after) : stall_after_(stall_after) {}

  // Whether a new heartbeat should be posted now (none is outstanding); if so, it is recorded as
  // posted and its sequence number returned.
  std::optional<std::uint64_t> post(watchdog_clock::time_point now);
  // The heartbeat `sequence` ran (stale ones are ignored).
  void ran(std::uint64_t sequence);
  // The pool's count of finished tasks, sampled at `now`.
  void progress(std::uint64_t finished, watchdog_clock::time_point now);

  // How long the pool has gone without running a heartbeat or progressing; zero when none is
  // outstanding.
  std::chrono::milliseconds silent_for(watchdog_clock::time_point now) const;
  bool stalled(watchdog_clock::time_point now) const { return silent_for(now) >= stall_after_; }

private:
  std::chrono::milliseconds stall_after_;
  std::uint64_t next_ = 1;
  std::optional<std::uint64_t> outstanding_;
  watchdog_clock::time_point posted_at_{};
  std::optional<std::uint64_t> finished_;
  watchdog_clock::time_point progressed_at_{};
};

// One watched pool.
struct watched_pool {
  std::string name;
  // Runs `task` on one of the pool's threads, in its turn.
  std::function<void(std::function<void()>)> post;
  // The kernel ids of the pool's threads, for the log line of a stall; may be empty.
  std::function<std::vector<int>()> thread_ids;
  // Tasks the pool has finished so far, when it can count them; empty otherwise.
  std::function<std::uint64_t()> finished;
};

struct pool_status {
  std::string name;
  std::chrono::milliseconds silent_for{0};
  bool stalled = false;
};

class thread_watchdog {
public:
  struct settings {
    std::chrono::milliseconds interval{1000};
    std::chrono::milliseconds stall{std::chrono::seconds(10)};
    std::chrono::milliseconds abort{std::chrono::seconds(60)}; // 0: never
    // Called once a pool has been stalled for `abort`, after the log line; the default logs,
    // flushes and ends the process with k_exit_stalled.
    std::function<void(const std::string& pool)> on_abort;
  };

  explicit thread_watchdog(settings s);
  ~thread_watchdog();
  thread_watchdog(const thread_watchdog&) = delete;
  thread_watchdog& operator=(const thread_watchdog&) = delete;

  // Watching ends when the registration is destroyed (before the pool it names).
  class registration {
  public:
    registration() = default;
    registration(registration&&) noexcept;
    registration& operator=(registration&&) noexcept;
    ~registration();

  private:
    friend class thread_watchdog;
    registration(thread_watchdog* owner, std::uint64_t id) : owner_(owner), id_(id) {}
    thread_watchdog* owner_ = nullptr;
    std::uint64_t id_ = 0;
  };
  [[nodiscard]] registration watch(watched_pool pool);

  std::vector<pool_status> status() const;
  std::vector<std::string> stalled() const;
  // What each thread of each stalled pool is doing, as far as the kernel and a backtrace tell.
  std::string describe_stalled() const;

  // Test only: blocks every thread of `pool` for good (each takes one never-ending task), as a
  // deadlock would. False when no such pool is watched.
  bool block_for_test(std::string_view pool);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

// What each of `thread_ids` is doing: its name, scheduler state, kernel wait channel and, where
// the thread answers a signal, its backtrace. One line per thread, then the frames indented.
std::string describe_threads(const std::vector<int>& thread_ids);

// The calling thread's kernel id.
int current_thread_id();
// Names the calling thread (as ps, top, gdb and the watchdog's reports show it).
void name_this_thread(const char* name);

} // namespace sky::process
