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
