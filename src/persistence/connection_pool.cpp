// Connection pool: lazy connects, bounded size, broken connections dropped on return.
#include "persistence/connection_pool.hpp"

#include "persistence/sql_catalog.hpp"

#include <pqxx/pqxx>

namespace sky::persistence {

bool is_connection_error(const std::exception& e) {
  return dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
}

connection_pool::connection_pool(std::string url, std::size_t size,
                                 std::chrono::milliseconds acquire_timeout)
    : url_(std::move(url)), size_(size == 0 ? 1 : size), acquire_timeout_(acquire_timeout) {}

connection_pool::~connection_pool() = default;

connection_pool::lease::lease(connection_pool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

connection_pool::lease::~lease() {
  if (pool_)
    pool_->give_back(std::move(conn_));
}

connection_pool::lease connection_pool::acquire() {
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock lock(mutex_);
    if (!available_.wait_for(lock, acquire_timeout_,
                             [&] { return !idle_.empty() || checked_out_ < size_; }))
      throw pool_exhausted("no database connection free within " +
                           std::to_string(acquire_timeout_.count()) + " ms");
    ++checked_out_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  // Connect outside the lock: a slow or failing server must not block other checkouts.
  try {
    if (conn && !conn->is_open())
      conn.reset();
    if (!conn)
      conn = std::make_unique<pqxx::connection>(url_);
  } catch (...) {
    give_back(nullptr);
    throw;
  }
  return lease(this, std::move(conn));
}

void connection_pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  {
    std::lock_guard lock(mutex_);
    --checked_out_;
    if (conn && conn->is_open())
      idle_.push_back(std::move(conn));
  }
  available_.notify_one();
}

bool connection_pool::ping() {
  try {
    return run([](pqxx::connection& c) {
      pqxx::nontransaction tx(c);
      return tx.exec(query("health_ping")).size() == 1;
    });
  } catch (const std::exception&) {
    return false;
  }
}

} // namespace sky::persistence
