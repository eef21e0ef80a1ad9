// The process's one thread for deadlines: a database call's socket cut, the thread pools'
// watchdog ticks and the drain's deadline share it instead of a thread each.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace sky::process {

class timer_thread {
public:
  using clock = std::chrono::steady_clock;

  // A timer armed by after() or every(). Destroying or cancelling it disarms it: once that
  // returns, its callback is not running and never runs again (unless it is the callback itself
  // that cancels, which then ends as it likes).
  class handle {
  public:
    handle() = default;
    handle(handle&& other) noexcept : id_(other.id_) { other.id_ = 0; }
    handle& operator=(handle&& other) noexcept;
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() { cancel(); }
    void cancel();
    explicit operator bool() const { return id_ != 0; }

  private:
    friend class timer_thread;
    explicit handle(std::uint64_t id) : id_(id) {}
    std::uint64_t id_ = 0;
  };

  // Runs `callback` once, `delay` from now. Callbacks run one at a time on the timer's thread, so
  // each must be short and never block.
  static handle after(clock::duration delay, std::function<void()> callback);
  // Runs `callback` every `period`, the first time one period from now.
  static handle every(clock::duration period, std::function<void()> callback);
};

} // namespace sky::process
