// One thread, a map of armed sockets ordered by deadline.
#include "persistence/socket_watchdog.hpp"

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <sys/socket.h>
#include <thread>

namespace sky::persistence {
namespace {

using clock = std::chrono::steady_clock;

class watchdog_thread {
public:
  watchdog_thread() : thread_([this] { loop(); }) {}
  ~watchdog_thread() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    thread_.join();
  }

  std::uint64_t arm(int fd, clock::time_point deadline) {
    std::lock_guard lock(mutex_);
    auto id = ++last_id_;
    armed_.emplace(id, entry{fd, deadline});
    by_deadline_.emplace(deadline, id);
    wake_.notify_all();
    return id;
  }

  void disarm(std::uint64_t id) {
    // Under the lock: once this returns, the socket is never touched again, so the caller may
    // close it and the descriptor may be reused.
    std::lock_guard lock(mutex_);
    if (auto it = armed_.find(id); it != armed_.end()) {
      by_deadline_.erase({it->second.deadline, id});
      armed_.erase(it);
    }
    fired_.erase(id);
  }

  bool fired(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    return fired_.count(id) != 0;
  }

private:
  struct entry {
    int fd;
    clock::time_point deadline;
  };

  void loop() {
    std::unique_lock lock(mutex_);
    while (!stopping_) {
      if (by_deadline_.empty()) {
        wake_.wait(lock);
        continue;
      }
      auto [deadline, id] = *by_deadline_.begin();
      if (clock::now() < deadline) {
        wake_.wait_until(lock, deadline);
        continue;
      }
      by_deadline_.erase(by_deadline_.begin());
      auto it = armed_.find(id);
      ::shutdown(it->second.fd, SHUT_RDWR);
      armed_.erase(it);
      fired_.insert(id);
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::map<std::uint64_t, entry> armed_;
  std::set<std::pair<clock::time_point, std::uint64_t>> by_deadline_;
  std::set<std::uint64_t> fired_;
  std::uint64_t last_id_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

watchdog_thread& the_watchdog() {
  static watchdog_thread w;
  return w;
}

} // namespace

socket_watchdog::ticket::~ticket() {
  if (id_)
    the_watchdog().disarm(id_);
}

bool socket_watchdog::ticket::fired() const {
  return id_ && the_watchdog().fired(id_);
}

socket_watchdog::ticket socket_watchdog::arm(int fd, std::chrono::milliseconds limit) {
  if (fd < 0 || limit.count() <= 0)
    return ticket{};
  return ticket{the_watchdog().arm(fd, clock::now() + limit)};
}

} // namespace sky::persistence
