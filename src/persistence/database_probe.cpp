// A ping: connect when needed, ask, record.
#include "persistence/database_probe.hpp"

#include "persistence/connection_pool.hpp"
#include "persistence/socket_watchdog.hpp"
#include "persistence/sql_catalog.hpp"

#include <pqxx/pqxx>

namespace sky::persistence {
namespace {

long long now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

} // namespace

database_probe::database_probe(std::string url, std::chrono::milliseconds interval,
                               std::chrono::milliseconds timeout)
    : url_(std::move(url)), interval_(interval), timeout_(timeout) {
  ping_once();
}

bool database_probe::reachable() const {
  const auto now = now_ns();
  const auto started = ping_started_ns_.load();
  const auto timeout_ns = std::chrono::nanoseconds(timeout_).count();
  if (started != 0 && now - started > timeout_ns / 2)
    return false; // a ping is taking far longer than a healthy one ever does
  const auto last = last_ok_ns_.load();
  return last != 0 && now - last < std::chrono::nanoseconds(interval_ + timeout_).count();
}

std::vector<std::string> database_probe::paused_queues() const {
  std::lock_guard lock(mutex_);
  return paused_;
}

void database_probe::ping_once() {
  ping_started_ns_ = now_ns();
  try {
    if (!conn_ || looks_dead(*conn_))
      conn_ = std::make_unique<pqxx::connection>(url_);
    auto ticket = socket_watchdog::arm(conn_->sock(), timeout_);
    pqxx::nontransaction tx(*conn_);
    tx.exec(query("health_ping"));
    last_ok_ns_ = now_ns();
    std::vector<std::string> paused;
    for (auto row : tx.exec(query("queue_controls_list")))
      if (row[1].as<bool>())
        paused.push_back(row[0].as<std::string>());
    std::lock_guard lock(mutex_);
    paused_ = std::move(paused);
  } catch (const std::exception&) {
    conn_.reset();
  }
  ping_started_ns_ = 0;
}

} // namespace sky::persistence
