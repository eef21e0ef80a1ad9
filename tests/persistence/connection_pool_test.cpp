// Connection pool against a real server: reuse, reconnect after a killed backend, exhaustion.
#include "persistence/connection_pool.hpp"
#include "support/test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;

namespace {

int backend_pid(persistence::connection_pool& pool) {
  return pool.run([](pqxx::connection& c) {
    pqxx::nontransaction tx(c);
    return tx.exec("SELECT pg_backend_pid()")[0][0].as<int>();
  });
}

} // namespace

TEST(connection_pool, reuses_connections) {
  test_support::scoped_database db;
  persistence::connection_pool pool(db.url(), 2);
  EXPECT_TRUE(pool.ping());
  EXPECT_EQ(backend_pid(pool), backend_pid(pool));
}

TEST(connection_pool, replaces_a_connection_whose_backend_was_killed) {
  test_support::scoped_database db;
  persistence::connection_pool pool(db.url(), 1);
  int before = backend_pid(pool);
  {
    pqxx::connection admin(db.url());
    pqxx::nontransaction tx(admin);
    tx.exec_params("SELECT pg_terminate_backend($1)", before);
  }
  int after = backend_pid(pool); // transparently retried on a fresh connection
  EXPECT_NE(before, after);
  EXPECT_TRUE(pool.ping());
}

TEST(connection_pool, exhaustion_times_out_instead_of_hanging) {
  test_support::scoped_database db;
  persistence::connection_pool pool(db.url(), 1, std::chrono::milliseconds(200));
  auto held = pool.acquire();
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(pool.acquire(), persistence::pool_exhausted);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(150));
}

TEST(connection_pool, unreachable_server_fails_ping_without_throwing) {
  persistence::connection_pool pool("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2", 1);
  EXPECT_FALSE(pool.ping());
  EXPECT_FALSE(pool.ping()); // the failed slot was returned
}

TEST(connection_pool, connection_defaults_never_override_the_url) {
  using sky::persistence::with_connection_defaults;
  const std::vector<std::pair<std::string, std::string>> defaults{{"connect_timeout", "5"},
                                                                  {"keepalives", "1"}};
  EXPECT_EQ(with_connection_defaults("postgresql://u@h:5/db", defaults),
            "postgresql://u@h:5/db?connect_timeout=5&keepalives=1");
  EXPECT_EQ(
      with_connection_defaults("postgresql://u@h/db?sslmode=require&connect_timeout=2", defaults),
      "postgresql://u@h/db?sslmode=require&connect_timeout=2&keepalives=1");
  EXPECT_EQ(with_connection_defaults("host=h dbname=db keepalives=0", defaults),
            "host=h dbname=db keepalives=0 connect_timeout=5");
  EXPECT_EQ(with_connection_defaults("postgres://h/db?application_name=connect_timeout", defaults),
            "postgres://h/db?application_name=connect_timeout&connect_timeout=5&keepalives=1");
}
