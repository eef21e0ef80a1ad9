// Through a transaction-mode pooler (PgBouncer, as ./scripts/test starts it): the engine and the
// API keep no session state, migrations serialise without session locks, and without a direct
// connection for LISTEN the engine polls. Skipped when no pooler is running.
#include "http/jwt.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

TEST(pooler, the_engine_polls_when_it_cannot_listen) {
  scoped_database db;
  auto pooled = through_pgbouncer(db.url());
  if (pooled.empty())
    GTEST_SKIP() << "TEST_PGBOUNCER_PORT is not set";
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log, {{"DATABASE_URL", pooled},
                                                           {"DATABASE_POOLER", "transaction"},
                                                           {"DATABASE_POLL_INTERVAL_MS", "200"}}));
  EXPECT_NE(server.process->output().find("every queue is polled every 200 ms"), std::string::npos)
      << server.process->output();
  auto ids = insert_jobs(db.url(), 200);
  ASSERT_TRUE(eventually(
      [&] {
        return count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'") == 200;
      },
      60s));
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  for (const auto& [id, n] : executions_per_id(runs))
    EXPECT_EQ(n, 1) << id;
  // No backend of the pooler was asked to LISTEN (it would hear nothing once handed to another
  // client).
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND query ILIKE 'LISTEN%'"),
            0);
}

TEST(pooler, migrations_and_the_api_work_through_the_pooler_alone) {
  scoped_database db;
  auto pooled = through_pgbouncer(db.url());
  if (pooled.empty())
    GTEST_SKIP() << "TEST_PGBOUNCER_PORT is not set";
  // Two servers migrate the same fresh database at once through the pooler.
  auto first =
      start_server(db.url(), {{"DATABASE_URL", pooled}, {"DATABASE_POOLER", "transaction"}}, "api");
  auto second =
      start_server(db.url(), {{"DATABASE_URL", pooled}, {"DATABASE_POOLER", "transaction"}}, "api");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM schema_migrations"),
            count(db.url(), "SELECT max(version) FROM schema_migrations"));
  for (int port : {first.port, second.port}) {
    auto r = raw_exchange(
        port, make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}));
    EXPECT_EQ(r.status, 200) << r.raw;
  }
  auto created = raw_exchange(first.port, make_request("POST", "/api/v3/domains",
                                                       {{"Authorization", test_bearer()},
                                                        {"Content-Type", "application/json"}},
                                                       R"({"domains":["pooled.example.org"]})"));
  EXPECT_EQ(created.status, 202) << created.raw;
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains WHERE domain = 'pooled.example.org'"), 1);
}

// Through a transaction-mode pooler the session cannot carry a statement_timeout (it would leak to
// the pooler's other clients): each API transaction sets its own, so the server stops a statement
// past it instead of leaving it to run behind the pooler after the client-side cut.
TEST(pooler, api_statements_are_limited_per_transaction_and_nothing_leaks) {
  scoped_database db;
  auto pooled = through_pgbouncer(db.url());
  if (pooled.empty())
    GTEST_SKIP() << "TEST_PGBOUNCER_PORT is not set";
  auto server = start_server(db.url(),
                             {{"DATABASE_URL", pooled},
                              {"DATABASE_POOLER", "transaction"},
                              {"DB_API_STATEMENT_TIMEOUT_MS", "500"}},
                             "api");
  pqxx::connection locker(db.url());
  pqxx::work lock_tx(locker);
  lock_tx.exec("LOCK TABLE domains IN ACCESS EXCLUSIVE MODE");
  auto r = raw_exchange(server.port,
                        make_request("POST", "/api/v3/domains", {{"Authorization", test_bearer()}},
                                     R"({"domains":["waits-on-a-lock.com"]})"));
  EXPECT_EQ(r.status, 503) << r.raw;
  // The server cancelled the statement itself: no backend still waits on the lock.
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"),
            0);
  lock_tx.commit();
  // The limit ended with its transaction: another client of the pooler does not inherit it.
  for (int i = 0; i < 4; ++i)
    EXPECT_EQ(scalar(pooled, "SHOW statement_timeout"), "0");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains"), 0);
}
