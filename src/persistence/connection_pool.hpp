// A bounded pool of PostgreSQL connections: bounded waits, a deadline on every use, and dead
// connections found and replaced before they reach a caller.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <pqxx/connection>
#include <pqxx/transaction_base>

#include "persistence/socket_watchdog.hpp"

namespace sky::persistence {

// No connection became free within the pool's wait.
class pool_exhausted : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

// The database did not answer within a use's deadline; the connection was cut.
class database_timeout : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

struct pool_options {
  std::size_t size = 8;
  std::chrono::milliseconds acquire_timeout{5000}; // wait for a free connection
  // Server-side limit of each statement (SET at connect); zero leaves the server's default.
  std::chrono::milliseconds statement_timeout{0};
  // Client-side limit of one run(): past it the socket is shut down (see socket_watchdog).
  // Zero: none.
  std::chrono::milliseconds use_deadline{0};
  // Through a transaction-mode pooler a session setting would leak to other clients: each
  // transaction sets this limit for itself instead (limit_statements). Zero: none.
  std::chrono::milliseconds transaction_statement_timeout{0};
};

// Opens a connection and applies a session statement_timeout when one is given.
std::unique_ptr<pqxx::connection> open_connection(const std::string& url,
                                                  std::chrono::milliseconds statement_timeout);

// True when an idle connection's socket shows it cannot be used: the server closed it (a restart,
// a terminated backend) or it reports an error. Costs one non-blocking poll, no round trip.
bool looks_dead(const pqxx::connection& conn);

class connection_pool {
public:
  connection_pool(std::string url, pool_options options);
  connection_pool(std::string url, std::size_t size,
                  std::chrono::milliseconds acquire_timeout = std::chrono::seconds(5));
  ~connection_pool();
  connection_pool(const connection_pool&) = delete;
  connection_pool& operator=(const connection_pool&) = delete;

  // A checked-out connection; returned to the pool on destruction unless discarded.
  class lease {
  public:
    lease(connection_pool* pool, std::unique_ptr<pqxx::connection> conn);
    lease(lease&&) noexcept = default;
    lease& operator=(lease&&) = delete;
    ~lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }
    // The connection is broken or in an unknown state: close it instead of reusing it.
    void discard() { conn_.reset(); }

  private:
    connection_pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  // Waits up to the acquire timeout for a free slot and, when a connection must be opened, for the
  // connect too (pool_exhausted after it); never hands out an idle connection that looks dead.
  lease acquire();

  // Runs f(connection&) within the use deadline. A connection found broken is replaced, together
  // with every idle one (after a server restart they are all dead), and f is retried: a
  // transaction that never committed is safe to repeat. A use that hit its deadline is not
  // retried: it throws database_timeout.
  template <class F> auto run(F&& f) -> decltype(f(std::declval<pqxx::connection&>()));

  // True when a connection answers a trivial query within the use deadline.
  bool ping();

  const std::string& url() const { return url_; }
  const pool_options& options() const { return options_; }

private:
  friend class lease;
  void give_back(std::unique_ptr<pqxx::connection> conn);
  void drop_idle();

  std::string url_;
  pool_options options_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t checked_out_ = 0;
  std::size_t connecting_ = 0; // connects under way (one a caller gave up on included)
};

// Sets the pool's transaction_statement_timeout for the rest of `tx` (SET LOCAL: it ends with the
// transaction, so nothing leaks through a transaction-mode pooler). Call first in every API
// transaction; does nothing when the pool's sessions carry the limit themselves.
void limit_statements(pqxx::transaction_base& tx, const connection_pool& pool);

// True for errors that mean "the connection is gone", as opposed to an SQL error.
bool is_connection_error(const std::exception& e);

// True for errors that mean "the database cannot serve this now" (worth a 503 and a retry later):
// no free connection, a lost connection, a deadline, a cancelled statement, a server starting up,
// shutting down or out of connection slots.
bool is_unavailable_error(const std::exception& e);

template <class F>
auto connection_pool::run(F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
  constexpr int k_attempts = 3;
  for (int attempt = 1;; ++attempt) {
    auto conn = acquire();
    bool timed_out = false;
    try {
      auto ticket = socket_watchdog::arm(conn->sock(), options_.use_deadline);
      try {
        return f(*conn);
      } catch (const std::exception& e) {
        timed_out = ticket.fired();
        throw;
      }
    } catch (const std::exception& e) {
      if (!is_connection_error(e) && !timed_out)
        throw;
      conn.discard();
      drop_idle();
      if (timed_out)
        throw database_timeout("the database did not answer within " +
                               std::to_string(options_.use_deadline.count()) + " ms");
      if (attempt == k_attempts)
        throw;
    }
  }
}

// `url` with the connection parameters in `defaults` added where `url` does not set them itself
// (a postgresql:// URI gets them in its query, a key=value string as more pairs).
std::string
with_connection_defaults(std::string_view url,
                         const std::vector<std::pair<std::string, std::string>>& defaults);

} // namespace sky::persistence
