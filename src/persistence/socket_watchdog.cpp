// A socket's deadline is a one-shot timer that shuts it down.
#include "persistence/socket_watchdog.hpp"

#include <sys/socket.h>

namespace sky::persistence {

socket_watchdog::ticket socket_watchdog::arm(int fd, std::chrono::milliseconds limit) {
  ticket t;
  if (fd < 0 || limit.count() <= 0)
    return t;
  t.fired_ = std::make_shared<std::atomic<bool>>(false);
  t.timer_ = process::timer_thread::after(limit, [fd, fired = t.fired_] {
    ::shutdown(fd, SHUT_RDWR);
    fired->store(true);
  });
  return t;
}

} // namespace sky::persistence
