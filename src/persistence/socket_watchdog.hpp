// A deadline on blocking database calls that holds even when the server does not run at all.
#pragma once

#include <chrono>
#include <cstdint>

namespace sky::persistence {

// A statement_timeout is enforced by the server, so a server that is stopped, frozen or cut off
// behind a silent network never enforces it, and libpq waits forever. One process-wide thread
// shuts down the socket of a call that outlives its deadline instead; the blocked call then fails
// as a broken connection, and the connection is discarded.
class socket_watchdog {
public:
  class ticket {
  public:
    ticket() = default;
    ticket(ticket&& other) noexcept : id_(other.id_) { other.id_ = 0; }
    ticket& operator=(ticket&&) = delete;
    ~ticket();
    // True once the deadline passed and the socket was shut down.
    bool fired() const;

  private:
    friend class socket_watchdog;
    explicit ticket(std::uint64_t id) : id_(id) {}
    std::uint64_t id_ = 0;
  };

  // Shuts `fd` down after `limit` unless the ticket is destroyed first. The caller must keep the
  // socket open for the ticket's lifetime.
  static ticket arm(int fd, std::chrono::milliseconds limit);
};

} // namespace sky::persistence
