// A bounded pool of PostgreSQL connections that replaces broken ones on the next checkout.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/connection>

namespace sky::persistence {

class pool_exhausted : public std::runtime_error {
public:
  using std::runtime_error::runtime_error;
};

class connection_pool {
public:
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

  // Waits up to the acquire timeout for a free slot; opens a connection when needed.
  lease acquire();

  // Runs f(connection&); a broken connection is replaced and f retried once, since
  // a transaction that never committed is safe to repeat.
  template <class F> auto run(F&& f) -> decltype(f(std::declval<pqxx::connection&>()));

  // True when a connection answers a trivial query.
  bool ping();

  const std::string& url() const { return url_; }

private:
  friend class lease;
  void give_back(std::unique_ptr<pqxx::connection> conn);

  std::string url_;
  std::size_t size_;
  std::chrono::milliseconds acquire_timeout_;
  std::mutex mutex_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t checked_out_ = 0;
};

// True for errors that mean "the connection is gone", as opposed to an SQL error.
bool is_connection_error(const std::exception& e);

template <class F>
auto connection_pool::run(F&& f) -> decltype(f(std::declval<pqxx::connection&>())) {
  for (int attempt = 0;; ++attempt) {
    auto conn = acquire();
    try {
      return f(*conn);
    } catch (const std::exception& e) {
      if (!is_connection_error(e))
        throw;
      conn.discard();
      if (attempt > 0)
        throw;
    }
  }
}

} // namespace sky::persistence
