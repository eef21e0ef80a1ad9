// The PostgreSQL queue driver against a real PostgreSQL: the order of a claim's answers.
#include "actors/engine.hpp"
#include "actors/queue_driver.hpp"
#include "config/queue_catalog.hpp"
#include "messages/queue_metrics.hpp"
#include "persistence/database_threads.hpp"
#include "persistence/migrator.hpp"
#include "persistence/queue_store.hpp"
#include "support/engine_helpers.hpp"
#include "support/test_database.hpp"

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

// The next-due question answers when the earliest queued row is due, and does not answer while
// no row is queued.
TEST(queue_driver, the_next_due_question_names_the_earliest_queued_row) {
  scoped_database db;
  // Before the threads, so that a task still running when a check fails outlives neither.
  std::promise<std::size_t> claimed;
  std::atomic<int> answered_while_empty{0};
  std::promise<double> next_due;
  {
    pqxx::connection c(db.url());
    persistence::migrate(c);
  }
  const auto* def = config::find_queue_definition("page_scrape");
  config::queue_config qc;
  qc.name = def->name;
  qc.lease = 30s;
  messages::queue_metrics metrics;
  auto ctx = std::make_shared<actors::queue_context>();
  ctx->definition = def;
  ctx->config = qc;
  ctx->store = std::make_unique<persistence::queue_store>(*def, qc);
  ctx->metrics = &metrics;
  ctx->database_url = db.url();
  ctx->statement_timeout = 10s;
  ctx->node_id = "node-test";
  persistence::database_threads threads(1);
  auto driver = actors::make_postgres_driver(ctx, threads);

  insert_jobs(db.url(), 1);
  driver->claim(5, std::nullopt, [&](messages::claim_result r) {
    claimed.set_value(r.failed ? 0 : r.items.size());
  });
  auto rows = claimed.get_future();
  ASSERT_EQ(rows.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(rows.get(), 1u);
  driver->next_due([&](double) { ++answered_while_empty; }); // nothing queued now
  // A claim asked after it answers after it has run (the lane's order).
  std::promise<void> barrier;
  driver->claim(5, std::nullopt, [&](messages::claim_result) { barrier.set_value(); });
  ASSERT_EQ(barrier.get_future().wait_for(30s), std::future_status::ready);
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (job_type, params, next_attempt_at) "
            "VALUES ('page_scrape', '{}', now() + interval '1 hour')");
    tx.commit();
  }
  driver->next_due([&](double seconds) { next_due.set_value(seconds); });
  auto due = next_due.get_future();
  ASSERT_EQ(due.wait_for(30s), std::future_status::ready) << "no next-due answer";
  const double seconds = due.get();
  EXPECT_GT(seconds, 3500);
  EXPECT_LE(seconds, 3600);
  EXPECT_EQ(answered_while_empty.load(), 0) << "answered while no row was queued";
}
