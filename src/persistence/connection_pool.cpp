// Connection pool: lazy connects, bounded size and waits, dead connections dropped before use.
#include "persistence/connection_pool.hpp"

#include "persistence/sql_catalog.hpp"

#include <poll.h>
#include <pqxx/pqxx>
#include <thread>

namespace sky::persistence {
namespace {

bool has_parameter(std::string_view url, std::string_view key) {
  const bool uri = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  std::string_view params = url;
  if (uri) {
    auto q = url.find('?');
    if (q == std::string_view::npos)
      return false;
    params = url.substr(q + 1);
  }
  const char separator = uri ? '&' : ' ';
  std::size_t pos = 0;
  while (pos < params.size()) {
    auto end = params.find(separator, pos);
    if (end == std::string_view::npos)
      end = params.size();
    auto pair = params.substr(pos, end - pos);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    auto eq = pair.find('=');
    auto name = pair.substr(0, eq);
    while (!name.empty() && name.back() == ' ')
      name.remove_suffix(1);
    if (name == key)
      return true;
    pos = end + 1;
  }
  return false;
}

} // namespace

bool is_connection_error(const std::exception& e) {
  return dynamic_cast<const pqxx::broken_connection*>(&e) != nullptr;
}

bool is_unavailable_error(const std::exception& e) {
  if (is_connection_error(e) || dynamic_cast<const pool_exhausted*>(&e) ||
      dynamic_cast<const database_timeout*>(&e))
    return true;
  if (const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e)) {
    const auto& state = sql->sqlstate();
    // query_canceled (statement_timeout), admin_shutdown, crash_shutdown, cannot_connect_now,
    // too_many_connections.
    return state == "57014" || state == "57P01" || state == "57P02" || state == "57P03" ||
           state == "53300";
  }
  return false;
}

std::string
with_connection_defaults(std::string_view url,
                         const std::vector<std::pair<std::string, std::string>>& defaults) {
  std::string out(url);
  const bool uri = url.rfind("postgres://", 0) == 0 || url.rfind("postgresql://", 0) == 0;
  for (const auto& [key, value] : defaults) {
    if (has_parameter(url, key))
      continue;
    if (uri)
      out += (out.find('?') == std::string::npos ? "?" : "&") + key + "=" + value;
    else
      out += (out.empty() ? "" : " ") + key + "=" + value;
  }
  return out;
}

std::unique_ptr<pqxx::connection> open_connection(const std::string& url,
                                                  std::chrono::milliseconds statement_timeout) {
  auto conn = std::make_unique<pqxx::connection>(url);
  if (statement_timeout.count() > 0) {
    pqxx::nontransaction tx(*conn);
    tx.exec_params(query("session_statement_timeout"), std::to_string(statement_timeout.count()));
  }
  return conn;
}

void limit_statements(pqxx::transaction_base& tx, const connection_pool& pool) {
  const auto limit = pool.options().transaction_statement_timeout;
  if (limit.count() > 0)
    tx.exec_params(query("transaction_statement_timeout"), std::to_string(limit.count()));
}

bool looks_dead(const pqxx::connection& conn) {
  if (!conn.is_open())
    return true;
  pollfd p{conn.sock(), POLLIN, 0};
  if (p.fd < 0)
    return true;
  // An idle connection has nothing to read: readable means the server closed it or sent an
  // error (e.g. "terminating connection due to administrator command").
  return ::poll(&p, 1, 0) != 0;
}

connection_pool::connection_pool(std::string url, pool_options options)
    : url_(std::move(url)), options_(options) {
  if (options_.size == 0)
    options_.size = 1;
}

connection_pool::connection_pool(std::string url, std::size_t size,
                                 std::chrono::milliseconds acquire_timeout)
    : connection_pool(std::move(url), pool_options{size, acquire_timeout, {}, {}}) {}

connection_pool::~connection_pool() {
  // A connect the caller gave up on still ends in give_back(): wait for it (connect_timeout
  // bounds it).
  std::unique_lock lock(mutex_);
  available_.wait(lock, [&] { return connecting_ == 0; });
}

connection_pool::lease::lease(connection_pool* pool, std::unique_ptr<pqxx::connection> conn)
    : pool_(pool), conn_(std::move(conn)) {}

connection_pool::lease::~lease() {
  if (pool_)
    pool_->give_back(std::move(conn_));
}

connection_pool::lease connection_pool::acquire() {
  const auto deadline = std::chrono::steady_clock::now() + options_.acquire_timeout;
  std::unique_ptr<pqxx::connection> conn;
  {
    std::unique_lock lock(mutex_);
    if (!available_.wait_until(lock, deadline,
                               [&] { return !idle_.empty() || checked_out_ < options_.size; }))
      throw pool_exhausted("no database connection free within " +
                           std::to_string(options_.acquire_timeout.count()) + " ms");
    ++checked_out_;
    if (!idle_.empty()) {
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
  }
  if (conn && looks_dead(*conn))
    conn.reset();
  if (conn)
    return lease(this, std::move(conn));
  // Connect outside the lock, and within what is left of the wait: a server that does not answer
  // (connect_timeout is whole seconds, often more than the wait) must not hold the caller longer
  // than a busy pool would. The connect goes on in the background when the caller gives up, and
  // its slot stays taken until it ends: the pool's size still bounds the connections.
  struct pending_connect {
    std::mutex mutex;
    std::condition_variable done;
    bool finished = false;
    bool abandoned = false;
    std::unique_ptr<pqxx::connection> conn;
    std::exception_ptr error;
  };
  auto pending = std::make_shared<pending_connect>();
  {
    std::lock_guard count(mutex_);
    ++connecting_;
  }
  try {
    std::thread([this, pending, url = url_, timeout = options_.statement_timeout] {
      std::unique_ptr<pqxx::connection> opened;
      std::exception_ptr error;
      try {
        opened = open_connection(url, timeout);
      } catch (...) {
        error = std::current_exception();
      }
      bool abandoned = false;
      {
        std::lock_guard lock(pending->mutex);
        abandoned = pending->abandoned;
        if (!abandoned) {
          pending->conn = std::move(opened);
          pending->error = error;
          pending->finished = true;
          pending->done.notify_all();
        }
      }
      if (abandoned)
        give_back(std::move(opened)); // the caller left: the connection goes to the pool
      std::lock_guard count(mutex_);
      --connecting_;
      available_.notify_all();
    }).detach();
  } catch (...) {
    {
      std::lock_guard count(mutex_);
      --connecting_;
    }
    give_back(nullptr);
    throw;
  }
  std::unique_lock lock(pending->mutex);
  if (!pending->done.wait_until(lock, deadline, [&] { return pending->finished; })) {
    pending->abandoned = true;
    throw pool_exhausted("no database connection opened within " +
                         std::to_string(options_.acquire_timeout.count()) + " ms");
  }
  if (pending->error) {
    lock.unlock();
    give_back(nullptr);
    std::rethrow_exception(pending->error);
  }
  return lease(this, std::move(pending->conn));
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

void connection_pool::drop_idle() {
  std::vector<std::unique_ptr<pqxx::connection>> dropped;
  {
    std::lock_guard lock(mutex_);
    dropped.swap(idle_);
  }
  // Closed outside the lock; `dropped` goes out of scope here.
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
