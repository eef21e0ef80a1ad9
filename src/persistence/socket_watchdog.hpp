// A deadline on blocking database calls that holds even when the server does not run at all.
#pragma once

#include "process/timer_thread.hpp"

#include <atomic>
#include <chrono>
#include <memory>

namespace sky::persistence {

// A statement_timeout is enforced by the server, so a server that is stopped, frozen or cut off
// behind a silent network never enforces it, and libpq waits forever. One process-wide thread
// shuts down the socket of a call that outlives its deadline instead; the blocked call then fails
// as a broken connection, and the connection is discarded. The deadlines run on the process's
// timer thread.
class socket_watchdog {
public:
  class ticket {
  public:
    ticket() = default;
    ticket(ticket&& other) noexcept = default;
    ticket& operator=(ticket&&) = delete;
    ~ticket() = default; // disarms: once gone, the socket is never touched again
    // True once the deadline passed and the socket was shut down.
    bool fired() const { return fired_ && fired_->load(); }

  private:
    friend class socket_watchdog;
    std::shared_ptr<std::atomic<bool>> fired_;
    process::timer_thread::handle timer_; // last: disarmed before fired_ goes
  };

  // Shuts `fd` down after `limit` unless the ticket is destroyed first. The caller must keep the
  // socket open for the ticket's lifetime.
  static ticket arm(int fd, std::chrono::milliseconds limit);
};

} // namespace sky::persistence
