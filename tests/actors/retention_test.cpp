// Retention: finished jobs past JOBS_RETENTION_DAYS go in small batches; recent and unfinished
// ones stay, and rows that pointed at a deleted job keep existing without it.
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/test_database.hpp"

#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

TEST(retention, finished_jobs_past_the_retention_are_deleted_in_batches) {
  scoped_database db;
  // The schema first, then a history: 2,500 old finished jobs (more than one batch), old ones
  // finished recently, an old job still queued, and contacts found by old jobs.
  auto migrate = run_to_end({SCRAPERSKY_BINARY, "migrate"}, {{"DATABASE_URL", db.url()}});
  ASSERT_EQ(migrate.first, 0) << migrate.second;
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    // Ids are time-ordered: an old job's id is of its creation time.
    tx.exec("INSERT INTO jobs (id, job_type, status, finished_at, created_at) SELECT "
            "sky_uuid_v7_at(now() - interval '20 days'), 'email_scan', 'Completed', now() - "
            "interval '20 days', now() - interval '20 days' FROM generate_series(1, 2500)");
    tx.exec("INSERT INTO jobs (id, job_type, status, finished_at, created_at) SELECT "
            "sky_uuid_v7_at(now() - interval '20 days'), 'email_scan', 'Error', now() - interval "
            "'2 days', now() - interval '20 days' FROM generate_series(1, 10)");
    tx.exec("INSERT INTO jobs (id, job_type, status, created_at, next_attempt_at) VALUES "
            "(sky_uuid_v7_at(now() - interval '30 days'), 'page_scrape', 'Queued', now() - "
            "interval '30 days', now() + interval '1 day')");
    tx.exec("INSERT INTO domains (domain) VALUES ('kept.example.org')");
    tx.exec("INSERT INTO contacts (domain_id, job_id, email) SELECT d.id, j.id, 'a' || n || "
            "'@kept.example.org' FROM domains d, (SELECT id, row_number() OVER () AS n FROM jobs "
            "WHERE finished_at < now() - interval '10 days' LIMIT 3) j");
    tx.commit();
  }
  auto server = start_server(db.url(), {{"JOBS_RETENTION_DAYS", "14"},
                                        {"EMAIL_SCAN_SCHEDULER_INTERVAL_MINUTES", "0.01"},
                                        {"MIGRATE_ON_START", "false"}});
  ASSERT_TRUE(eventually(
      [&] {
        return count(db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'email_scan'") == 10;
      },
      60s))
      << count(db.url(), "SELECT count(*) FROM jobs");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'page_scrape'"), 1);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM contacts WHERE job_id IS NULL"), 3);
  EXPECT_TRUE(server.process->wait_for_line("deleted 2500 jobs finished more than 14 days ago", 10s)
                  .has_value())
      << server.process->output();
}

// Retention keeps pace with intake whatever the poll interval: 100,000 finished jobs past it go
// within a few minutes (in passes of a bounded time, a second apart while a backlog lasts), and
// work queued meanwhile is done meanwhile.
TEST(retention, a_large_backlog_is_deleted_in_minutes_while_work_goes_on) {
  scoped_database db;
  auto migrate = run_to_end({SCRAPERSKY_BINARY, "migrate"}, {{"DATABASE_URL", db.url()}});
  ASSERT_EQ(migrate.first, 0) << migrate.second;
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (id, job_type, status, finished_at, created_at) SELECT "
            "sky_uuid_v7_at(now() - interval '20 days'), 'page_scrape', 'Completed', now() - "
            "interval '20 days', now() - interval '20 days' FROM generate_series(1, 100000)");
    tx.commit();
  }
  auto log = temp_path("exec");
  // The default poll interval (a minute): the backlog must not wait for it.
  auto server = start_server(
      db.url(), synthetic_env(log, {{"JOBS_RETENTION_DAYS", "14"}, {"MIGRATE_ON_START", "false"}}));
  auto fresh = insert_jobs(db.url(), 50, R"({"sleep_ms":20})");
  ASSERT_TRUE(eventually(
      [&] {
        return jobs_with(db.url(), "status = 'Completed' AND created_at > now() - interval "
                                   "'1 day'") == 50;
      },
      120s))
      << "work queued during retention was done";
  ASSERT_TRUE(eventually([&] { return count(db.url(), "SELECT count(*) FROM jobs") == 50; }, 240s))
      << count(db.url(), "SELECT count(*) FROM jobs") << " jobs left";
  EXPECT_TRUE(server.process->wait_for_line("(more to go)", 5s).has_value())
      << "the backlog took more than one pass";
}
