// The job engine end to end: real server processes, real PostgreSQL, injected faults. Every test
// checks that nothing is lost and that no item ever ran twice at the same time.
#include "http/jwt.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <pqxx/pqxx>
#include <thread>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

void expect_each_ran_once(const std::string& log, const std::vector<std::string>& ids) {
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  auto per_id = executions_per_id(runs);
  for (const auto& id : ids)
    EXPECT_EQ(per_id[id], 1) << id;
}

boost::json::object get_json(int port, const std::string& target) {
  auto r = raw_exchange(port, make_request("GET", target, {{"Authorization", test_bearer()}}));
  return boost::json::parse(r.body).as_object();
}

const boost::json::object& queue_named(const boost::json::object& body, std::string_view name) {
  for (const auto& q : body.at("queues").as_array())
    if (q.as_object().at("name").as_string() == name)
      return q.as_object();
  throw std::runtime_error("no queue " + std::string(name));
}

// One poisoned item among many, so that it shares batches with good ones: it alone ends in
// Error after its attempts, with the reason; the good ones complete once each.
void a_refused_result_fails_that_item_alone(std::map<std::string, std::string> extra) {
  scoped_database db;
  auto log = temp_path("exec");
  extra["PAGE_SCRAPE_SCHEDULER_MAX_ATTEMPTS"] = "2";
  auto server = start_server(db.url(), synthetic_env(log, extra));
  auto good = insert_jobs(db.url(), 200, R"({"sleep_ms":1})");
  auto bad = insert_jobs(db.url(), 1, R"({"fault":"bad_result"})");
  auto more = insert_jobs(db.url(), 200, R"({"sleep_ms":1})");
  ASSERT_TRUE(eventually(
      [&] { return jobs_with(db.url(), "status IN ('Completed', 'Error')") == 401; }, 60s));
  EXPECT_EQ(jobs_with(db.url(), "status = 'Completed'"), 400);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Completed' AND attempts <> 1"), 0);
  EXPECT_EQ(scalar(db.url(),
                   "SELECT status::text || ':' || attempts FROM jobs WHERE id = '" + bad[0] + "'"),
            "Error:2");
  EXPECT_NE(scalar(db.url(), "SELECT last_error FROM jobs WHERE id = '" + bad[0] + "'")
                .find("result write failed"),
            std::string::npos);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Completed' AND result_data IS NULL"), 0);
  expect_each_ran_once(log, good);
  expect_each_ran_once(log, more);
}

// Every item ran at least once (a lost claim may run again), never twice at the same time.
void expect_each_ran_at_least_once(const std::string& log, const std::vector<std::string>& ids) {
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  auto per_id = executions_per_id(runs);
  for (const auto& id : ids)
    EXPECT_GE(per_id[id], 1) << id;
}

// Two servers on one database, each with `extra`, work through 1,000 items: each once, with one
// attempt, and both take part.
void two_servers_never_share_an_item(const std::map<std::string, std::string>& extra) {
  scoped_database db;
  auto log = temp_path("exec");
  auto env_a = extra, env_b = extra;
  env_a["NODE_ID"] = "node-a";
  env_b["NODE_ID"] = "node-b";
  auto a = start_server(db.url(), synthetic_env(log, env_a));
  auto b = start_server(db.url(), synthetic_env(log, env_b));
  auto ids = insert_jobs(db.url(), 1000, R"({"sleep_ms":2})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 1000; }, 90s));
  EXPECT_EQ(jobs_with(db.url(), "attempts <> 1"), 0);
  expect_each_ran_once(log, ids);
  std::map<std::string, int> per_node;
  for (const auto& e : read_executions(log))
    ++per_node[e.node];
  EXPECT_GT(per_node["node-a"], 0);
  EXPECT_GT(per_node["node-b"], 0);
}

// A server killed with SIGKILL after 40 of 200 items of 20 ms, 4 at a time; `after_kill` looks at
// the database before a second server starts and finishes every item: each ran at least once,
// none is left locked. The survivor stays up for its counters.
struct killed_mid_batch {
  scoped_database db;
  std::string log = temp_path("exec");
  running_server survivor;
};

void kill_9_mid_batch(killed_mid_batch& run, std::map<std::string, std::string> extra,
                      const std::function<void()>& after_kill) {
  extra["PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES"] = "4";
  auto env = synthetic_env(run.log, extra);
  const auto url = run.db.url();
  std::vector<std::string> ids;
  {
    auto victim = start_server(url, env);
    ids = insert_jobs(url, 200, R"({"sleep_ms":20})");
    ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") >= 40; }, 30s));
    victim.process->signal(SIGKILL);
    victim.process->wait_exit(10s);
  }
  after_kill();
  run.survivor = start_server(url, env);
  ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") == 200; }, 60s));
  EXPECT_EQ(jobs_with(url, "locked_by IS NOT NULL"), 0);
  expect_each_ran_at_least_once(run.log, ids);
}

} // namespace

TEST(engine, completes_every_item_exactly_once) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log));
  auto ids = insert_jobs(db.url(), 500);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 500; }, 60s));
  EXPECT_EQ(jobs_with(db.url(), "attempts <> 1 OR locked_by IS NOT NULL OR progress <> 1 "
                                "OR finished_at IS NULL OR result_data IS NULL"),
            0);
  expect_each_ran_once(log, ids);
  auto queues = get_json(server.port, "/api/v3/queues");
  const auto& q = queue_named(queues, "page_scrape");
  EXPECT_EQ(q.at("state").as_string(), "running");
  EXPECT_EQ(q.at("totals").as_object().at("completed").as_int64(), 500);
  EXPECT_EQ(q.at("counts").as_object().at("Completed").as_int64(), 500);
}

TEST(engine, notify_wakes_an_idle_poller_long_before_its_interval) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(
      db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "30"}}));
  // The first poll ran before "listening"; with a 30-minute interval only NOTIFY finds new work.
  for (int i = 0; i < 5; ++i) {
    auto start = std::chrono::steady_clock::now();
    insert_jobs(db.url(), 1);
    ASSERT_TRUE(
        eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == i + 1; }, 5s));
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  }
}

TEST(engine, a_dropped_listen_connection_reconnects_and_wakes_every_queue) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(
      db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "30"}}));
  auto notifier_sessions = [&] {
    return count(db.url(), "SELECT count(*) FROM pg_stat_activity WHERE application_name = "
                           "'scrapersky-notifier' AND datname = current_database()");
  };
  ASSERT_TRUE(eventually([&] { return notifier_sessions() == 1; }, 10s));
  for (int round = 1; round <= 2; ++round) {
    // Drop the LISTEN session and queue work while it is gone: that NOTIFY is lost, and only
    // the wake-up after reconnecting can find the job before the 30-minute fallback.
    {
      pqxx::connection admin(db.url());
      pqxx::work tx(admin);
      tx.exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = "
              "'scrapersky-notifier' AND datname = current_database()");
      tx.exec("INSERT INTO jobs (job_type) VALUES ('page_scrape')");
      tx.commit();
    }
    ASSERT_TRUE(
        eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == round; }, 15s));
    ASSERT_TRUE(eventually([&] { return notifier_sessions() == 1; }, 10s));
  }
}

TEST(engine, throwing_worker_is_replaced_and_the_item_ends_in_error_after_max_attempts) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_ATTEMPTS", "3"}}));
  auto bad = insert_jobs(db.url(), 1, R"({"fault":"throw"})");
  auto good = insert_jobs(db.url(), 50);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Error'") == 1; }, 30s));
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 50; }, 30s));
  EXPECT_EQ(scalar(db.url(), "SELECT attempts FROM jobs WHERE id = '" + bad[0] + "'"), "3");
  EXPECT_NE(scalar(db.url(), "SELECT last_error FROM jobs WHERE id = '" + bad[0] + "'")
                .find("worker died"),
            std::string::npos);
  EXPECT_FALSE(
      scalar(db.url(), "SELECT finished_at FROM jobs WHERE id = '" + bad[0] + "'").empty());
  expect_each_ran_once(log, good);
  auto q = queue_named(get_json(server.port, "/api/v3/queues"), "page_scrape");
  EXPECT_EQ(q.at("totals").as_object().at("worker_restarts").as_int64(), 3);
}

TEST(engine, transient_failure_is_retried_with_backoff_and_permanent_failure_is_not) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log));
  auto flaky = insert_jobs(db.url(), 10, R"({"fault":"retry_once"})");
  auto broken = insert_jobs(db.url(), 1, R"({"fault":"fail"})");
  ASSERT_TRUE(eventually(
      [&] { return jobs_with(db.url(), "status IN ('Completed','Error')") == 11; }, 30s));
  EXPECT_EQ(jobs_with(db.url(), "status = 'Completed' AND attempts = 2"), 10);
  EXPECT_EQ(scalar(db.url(),
                   "SELECT status::text || ':' || attempts || ':' || error FROM jobs WHERE id = '" +
                       broken[0] + "'"),
            "Error:1:injected permanent failure");
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  EXPECT_EQ(executions_per_id(runs)[flaky[0]], 2);
}

// A claim that took fewer rows than it could is followed by the question when the next waiting
// row is due: a row due a second later that arrives beside a due one, right after such a claim,
// gets its timer and runs when due instead of at the fallback interval (a minute). (A poller
// that put the question off without making it later fails this test.)
TEST(engine, a_row_due_later_that_arrives_beside_due_work_runs_when_due) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log));
  insert_jobs(db.url(), 1); // a short claim, then the question
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c); // one transaction, one NOTIFY: the claim finds the due row only
    tx.exec("INSERT INTO jobs (job_type, params) VALUES ('page_scrape', '{}')");
    tx.exec("INSERT INTO jobs (job_type, params, next_attempt_at) VALUES ('page_scrape', '{}', "
            "now() + interval '1 second')");
    tx.commit();
  }
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 3; }, 20s))
      << jobs_with(db.url(), "status = 'Queued'") << " still queued";
  EXPECT_EQ(jobs_with(db.url(), "finished_at >= next_attempt_at AND attempts = 1"), 3);
}

TEST(engine, hung_worker_is_abandoned_after_its_time_limit_and_the_item_retried) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_TIMEOUT_SECONDS", "1"},
                                                 {"DRAIN_TIMEOUT_SECONDS", "2"}}));
  auto hung = insert_jobs(db.url(), 1, R"({"fault":"hang"})"); // hangs on attempt 1 only
  auto others = insert_jobs(db.url(), 20);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 21; }, 30s));
  EXPECT_EQ(scalar(db.url(), "SELECT attempts FROM jobs WHERE id = '" + hung[0] + "'"), "2");
  expect_each_ran_once(log, others);
  auto q = queue_named(get_json(server.port, "/api/v3/queues"), "page_scrape");
  EXPECT_EQ(q.at("totals").as_object().at("timeouts").as_int64(), 1);
  // The hung thread cannot be joined; shutdown still exits 0 within the drain timeout.
  server.process->signal(SIGTERM);
  auto code = server.process->wait_exit(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

TEST(engine, a_queue_whose_workers_keep_dying_pauses_while_other_queues_go_on) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_ATTEMPTS", "1"}}));
  insert_jobs(db.url(), 15, R"({"fault":"throw"})");
  ASSERT_TRUE(eventually(
      [&] {
        auto q = queue_named(get_json(server.port, "/api/v3/queues"), "page_scrape");
        return q.at("state").as_string() == "degraded";
      },
      30s));
  auto ready = raw_exchange(server.port, make_request("GET", "/ready"));
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("page_scrape"), std::string::npos);
  // Paused: new page_scrape work waits...
  auto waiting = insert_jobs(db.url(), 3);
  // ...while domain_extraction still runs.
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO local_businesses (place_id, website_url, domain_extraction_status) "
            "VALUES ('p-1', 'https://www.example.co.uk/contact', 'Queued')");
    tx.commit();
  }
  ASSERT_TRUE(eventually(
      [&] {
        return count(db.url(), "SELECT count(*) FROM local_businesses WHERE "
                               "domain_extraction_status = 'Completed'") == 1;
      },
      10s));
  // None of the work queued after the pause was started (some of the 15 may not have been
  // claimed before it either).
  for (const auto& id : waiting)
    EXPECT_EQ(scalar(db.url(), "SELECT status::text || attempts FROM jobs WHERE id = '" + id + "'"),
              "Queued0");
  EXPECT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 0; }, 10s));
}

TEST(engine, db_writer_commit_failures_are_retried_without_losing_or_repeating_work) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log, {{"TEST_WRITER_FAILURES", "3"}}));
  auto ids = insert_jobs(db.url(), 100);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 100; }, 60s));
  EXPECT_EQ(jobs_with(db.url(), "attempts <> 1"), 0);
  expect_each_ran_once(log, ids);
  auto q = queue_named(get_json(server.port, "/api/v3/queues"), "page_scrape");
  EXPECT_GE(q.at("totals").as_object().at("db_errors").as_int64(), 3);
}

TEST(engine, a_result_the_database_refuses_rolls_back_that_item_alone) {
  a_refused_result_fails_that_item_alone({});
}

// A commit costs PostgreSQL a WAL flush and two statements' set-up whatever its size, so
// results that trickle in share commits within the commit interval, and claims wait for a
// useful batch of free slots instead of refilling them one by one.
TEST(engine, results_arriving_under_load_share_commits_and_claims_share_statements) {
  scoped_database db;
  auto log = temp_path("exec");
  const auto interval = 250ms;
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "8"},
                                                 {"PAGE_SCRAPE_SCHEDULER_BATCH_SIZE", "1000"},
                                                 {"PAGE_SCRAPE_SCHEDULER_COMMIT_INTERVAL_MS",
                                                  std::to_string(interval.count())}}));
  const auto start = std::chrono::steady_clock::now();
  // 8 workers on 100 ms steps: a result every 12 ms or so, each alone in its commit without the
  // interval. Steps far longer than a claim's round trip, on any machine, so that no rows are
  // claimed ahead of the free slots (rows_ahead): with 15 ms steps, a slow machine (sanitizers,
  // the pooler, parallel tests) freed a slot during most claims, and the rows then claimed ahead
  // came one by one.
  auto ids = insert_jobs(db.url(), 200, R"({"sleep_ms": 100})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 200; }, 60s));
  const auto elapsed = std::chrono::steady_clock::now() - start;
  expect_each_ran_once(log, ids);
  auto totals =
      queue_named(get_json(server.port, "/api/v3/queues"), "page_scrape").at("totals").as_object();
  const auto commits = totals.at("commits").as_int64();
  const auto claims = totals.at("claim_batches").as_int64();
  // A batch of 1,000 never fills here, so commits come only from the interval: the first at once
  // (the writer was idle), then at most one per interval.
  EXPECT_LE(commits, elapsed / interval + 2) << "in " << elapsed / 1ms << " ms";
  EXPECT_GE(commits, 1);
  // Claims of at least half of min(batch, instances) = 4 rows, but for the first and the last.
  EXPECT_LE(claims, 200 / 4 + 2);
}

TEST(engine, a_writer_commits_at_once_when_idle_and_within_its_interval_when_busy) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(
      db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_COMMIT_INTERVAL_MS", "5000"}}));
  auto first = insert_jobs(db.url(), 1).front();
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 1; }, 30s));
  // Nothing was committed before: the result did not wait for the interval.
  auto runs = read_executions(log);
  ASSERT_EQ(runs.size(), 1u);
  pqxx::connection c(db.url());
  pqxx::nontransaction tx(c);
  const auto waited_s =
      tx.exec_params1("SELECT extract(epoch FROM finished_at)::float8 - $2::float8 / 1e9 FROM "
                      "jobs WHERE id = $1",
                      first, std::to_string(runs[0].end_ns))[0]
          .as<double>();
  EXPECT_LT(waited_s, 5.0);
  // The next result comes within the interval of that commit, so it waits out the interval.
  auto second = insert_jobs(db.url(), 1).front();
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 2; }, 30s));
  const auto apart_s =
      tx.exec_params1("SELECT extract(epoch FROM b.finished_at - a.finished_at)::float8 FROM jobs "
                      "a, jobs b WHERE a.id = $1 AND b.id = $2",
                      first, second)[0]
          .as<double>();
  EXPECT_GE(apart_s, 5.0);
}

TEST(engine, manual_queue_runs_are_refused_outside_development) {
  scoped_database db;
  auto server = start_server(db.url());
  auto r = raw_exchange(server.port, make_request("POST", "/api/v3/dev/queues/page_scrape/run",
                                                  {{"Authorization", test_bearer()}}));
  EXPECT_EQ(r.status, 403);
  auto dev = start_server(db.url(), {{"ENVIRONMENT", "development"}});
  auto ok = raw_exchange(dev.port, make_request("POST", "/api/v3/dev/queues/page_scrape/run",
                                                {{"Authorization", test_bearer()}}));
  EXPECT_EQ(ok.status, 202) << ok.raw;
  auto unknown = raw_exchange(dev.port, make_request("POST", "/api/v3/dev/queues/nope/run",
                                                     {{"Authorization", test_bearer()}}));
  EXPECT_EQ(unknown.status, 404);
}

TEST(engine, cancel_stops_a_queued_job_before_it_starts_and_a_running_one_at_its_next_check) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "1"},
                                                 {"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "5"}}));
  auto running = insert_jobs(db.url(), 1, R"({"fault":"wait_cancel"})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 1; }, 10s));
  auto queued = insert_jobs(db.url(), 1);
  // Jobs of no subject (inserted here, as the pipeline makes them): an operator's to control.
  auto post = [&](const std::string& target) {
    return raw_exchange(server.port,
                        make_request("POST", target, {{"Authorization", test_operator_bearer()}}));
  };
  auto r1 = post("/api/v3/jobs/" + queued[0] + "/cancel");
  EXPECT_EQ(r1.status, 200) << r1.raw;
  auto r2 = post("/api/v3/jobs/" + running[0] + "/cancel");
  EXPECT_EQ(r2.status, 202) << r2.raw;
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Cancelled'") == 2; }, 15s));
  auto per_id = executions_per_id(read_executions(log));
  EXPECT_EQ(per_id.count(queued[0]), 0u) << "a cancelled queued job must never start";
  EXPECT_EQ(post("/api/v3/jobs/" + queued[0] + "/cancel").status, 409);
  // Retry brings a cancelled job back and it runs.
  EXPECT_EQ(post("/api/v3/jobs/" + queued[0] + "/retry").status, 202);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 1; }, 10s));
  EXPECT_EQ(post("/api/v3/jobs/00000000-0000-0000-0000-000000000000/cancel").status, 404);
  EXPECT_EQ(post("/api/v3/jobs/nope/retry").status, 400);
}

TEST(engine, sigterm_finishes_in_flight_items_and_releases_nothing_unfinished) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "2"},
                                                 {"DRAIN_TIMEOUT_SECONDS", "10"}}));
  insert_jobs(db.url(), 20, R"({"sleep_ms":300})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 2; }, 10s));
  server.process->signal(SIGTERM);
  auto code = server.process->wait_exit(30s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(jobs_with(db.url(), "status = 'InProgress'"), 0);
  EXPECT_GE(jobs_with(db.url(), "status = 'Completed'"), 2);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Queued' AND attempts <> 0"), 0);
  EXPECT_EQ(jobs_with(db.url(), "status IN ('Completed', 'Queued')"), 20);
}

TEST(engine, sigterm_returns_items_that_outlive_the_drain_without_counting_the_attempt) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "2"},
                                                 {"DRAIN_TIMEOUT_SECONDS", "1"}}));
  auto ids = insert_jobs(db.url(), 4, R"({"sleep_ms":2500})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 2; }, 10s));
  server.process->signal(SIGTERM);
  auto code = server.process->wait_exit(20s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Queued' AND attempts = 0 AND locked_by IS NULL"), 4)
      << scalar(db.url(), "SELECT string_agg(status || ' ' || attempts || ' ' || "
                          "coalesce(locked_by, '-'), '; ') FROM jobs")
      << "\n"
      << server.process->output();
  // A new process picks them up and finishes them.
  auto next = start_server(db.url(), synthetic_env(log));
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 4; }, 30s));
  EXPECT_TRUE(overlapping_executions(read_executions(log)).empty());
}

TEST(engine, kill_9_mid_batch_then_restart_finishes_every_item) {
  killed_mid_batch run;
  kill_9_mid_batch(run,
                   {{"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "5"},
                    {"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "0.01"}},
                   [&] {
                     EXPECT_GT(jobs_with(run.db.url(), "status = 'InProgress'"), 0)
                         << "the kill should strand some rows";
                   });
  ASSERT_TRUE(run.survivor.process);
  auto q = queue_named(get_json(run.survivor.port, "/api/v3/queues"), "page_scrape");
  EXPECT_GT(q.at("totals").as_object().at("rescued").as_int64(), 0);
}

long long metric_of(int port, const std::string& series) {
  return metric_value(raw_exchange(port, make_request("GET", "/metrics")).body, series);
}

TEST(engine, one_node_leads_maintenance_and_another_takes_over_when_it_is_killed) {
  scoped_database db;
  const auto url = db.url();
  auto log = temp_path("exec");
  // The killed node strands rows that only a rescue returns.
  auto env = [&](const std::string& node) {
    return synthetic_env(log, {{"NODE_ID", node},
                               {"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "4"},
                               {"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "5"}});
  };
  const std::string leader_now = "SELECT node_id FROM maintenance_leader WHERE expires_at > now()";
  auto first = start_server(url, env("first"));
  ASSERT_TRUE(eventually([&] { return scalar(url, leader_now) == "first"; }, 20s));
  auto second = start_server(url, env("second"));
  // The lease is renewed by its holder while the other node keeps asking for it: wait until it
  // has been renewed past the end it had when the second node was up.
  const auto held_until = scalar(url, "SELECT expires_at FROM maintenance_leader");
  ASSERT_TRUE(eventually(
      [&] {
        return scalar(url, "SELECT (expires_at > '" + held_until +
                               "'::timestamptz + interval '2 seconds')::text "
                               "FROM maintenance_leader") == "true";
      },
      20s));
  EXPECT_EQ(scalar(url, leader_now), "first");
  EXPECT_EQ(metric_of(first.port, "scrapersky_maintenance_leader"), 1);
  EXPECT_EQ(metric_of(second.port, "scrapersky_maintenance_leader"), 0);
  EXPECT_EQ(metric_of(second.port, R"(scrapersky_maintenance_total{kind="queue_passes"})"), 0);

  auto ids = insert_jobs(url, 200, R"({"sleep_ms":50})");
  ASSERT_TRUE(eventually(
      [&] { return jobs_with(url, "status = 'InProgress' AND locked_by = 'first'") > 0; }, 30s));
  first.process->signal(SIGKILL);
  first.process->wait_exit(10s);
  const auto stranded = jobs_with(url, "status = 'InProgress' AND locked_by = 'first'");
  ASSERT_GT(stranded, 0);
  // The survivor takes the lease once it ends and rescues what the dead leader held as soon as
  // those leases end: well before the queue's interval (a minute) comes round.
  ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") == 200; }, 30s))
      << scalar(url,
                "SELECT string_agg(status || ' ' || coalesce(locked_by, '-') || ' ' || "
                "coalesce(lease_expires_at::text, '-') || ' ' || n, '; ') FROM (SELECT status, "
                "locked_by, lease_expires_at, count(*) n FROM jobs GROUP BY 1, 2, 3) t")
      << " leader: " << scalar(url, "SELECT node_id || ' ' || expires_at FROM maintenance_leader")
      << "\n"
      << second.process->output();
  EXPECT_EQ(scalar(url, leader_now), "second");
  ASSERT_TRUE(eventually(
      [&] { return metric_of(second.port, "scrapersky_maintenance_leader") == 1; }, 10s));
  EXPECT_GE(metric_of(second.port, R"(scrapersky_maintenance_total{kind="rescued"})"), stranded);
  expect_each_ran_at_least_once(log, ids);
  // A node that stops gives the lease up at once.
  second.process->signal(SIGTERM);
  second.process->wait_exit(30s);
  EXPECT_EQ(count(url, "SELECT count(*) FROM maintenance_leader"), 0);
}

TEST(engine, two_server_processes_on_one_database_never_share_an_item) {
  two_servers_never_share_an_item({});
}

TEST(engine, server_recovers_from_a_postgresql_restart_without_being_restarted) {
  private_cluster cluster;
  {
    pqxx::connection c(cluster.url());
    pqxx::nontransaction tx(c);
    tx.exec("CREATE DATABASE sky");
  }
  auto url = cluster.url("sky");
  auto log = temp_path("exec");
  auto server =
      start_server(url, synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "0.02"}}));
  insert_jobs(url, 300, R"({"sleep_ms":10})");
  ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") >= 30; }, 30s));
  cluster.stop();
  std::this_thread::sleep_for(1s); // the server keeps running with the database gone
  cluster.start();
  ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") == 300; }, 90s))
      << server.process->output().substr(0, 4000);
  EXPECT_TRUE(overlapping_executions(read_executions(log)).empty());
  // Work submitted after the restart is picked up through the re-established LISTEN.
  insert_jobs(url, 1);
  ASSERT_TRUE(eventually([&] { return jobs_with(url, "status = 'Completed'") == 301; }, 10s));
  // Ready again, by the probe's own connection: it reconnects on its next ping, which through a
  // pooler may come after the engine's (the pooler retries its server login on its own clock).
  EXPECT_TRUE(eventually(
      [&] { return raw_exchange(server.port, make_request("GET", "/ready")).status == 200; }, 30s));
}

TEST(engine, domain_extraction_links_businesses_to_registrable_domains) {
  scoped_database db;
  auto server = start_server(db.url());
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO local_businesses (place_id, website_url, domain_extraction_status) VALUES "
            "('a', 'https://www.shop.example.co.uk/about', 'Queued'),"
            "('b', 'http://EXAMPLE.co.uk', 'Queued'),"
            "('c', 'https://blog.other-site.com', 'Queued'),"
            "('d', NULL, 'Queued'),"
            "('e', 'not a url', 'Queued')");
    tx.commit();
  }
  ASSERT_TRUE(eventually(
      [&] {
        return count(db.url(), "SELECT count(*) FROM local_businesses WHERE "
                               "domain_extraction_status IN ('Completed', 'Error')") == 5;
      },
      20s));
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains"), 2);
  EXPECT_EQ(scalar(db.url(), "SELECT d.domain FROM local_businesses b JOIN domains d ON d.id = "
                             "b.domain_id WHERE b.place_id = 'a'"),
            "example.co.uk");
  EXPECT_EQ(scalar(db.url(), "SELECT d.domain FROM local_businesses b JOIN domains d ON d.id = "
                             "b.domain_id WHERE b.place_id = 'b'"),
            "example.co.uk");
  // The new domain records the business it came from (and enters the metadata queue).
  EXPECT_EQ(scalar(db.url(), "SELECT b.place_id FROM domains d JOIN local_businesses b ON b.id = "
                             "d.local_business_id WHERE d.domain = 'other-site.com'"),
            "c");
  EXPECT_EQ(
      scalar(db.url(),
             "SELECT domain_extraction_status::text FROM local_businesses WHERE place_id = 'd'"),
      "Error");
  EXPECT_FALSE(
      scalar(db.url(), "SELECT domain_extraction_error FROM local_businesses WHERE place_id = 'e'")
          .empty());
}

namespace {
int thread_count(int pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(status, line);)
    if (line.rfind("Threads:", 0) == 0)
      return std::stoi(line.substr(8));
  return -1;
}

// The process's lasting threads: the fewest of a few samples, since a connection pool opens a
// connection on a thread of its own that lives only as long as the connect.
int lasting_thread_count(int pid) {
  int fewest = thread_count(pid);
  for (int i = 0; i < 4; ++i) {
    std::this_thread::sleep_for(20ms);
    fewest = std::min(fewest, thread_count(pid));
  }
  return fewest;
}
} // namespace

// Work steps are coroutines and the engine's database work runs on a few shared threads: a
// thousand items waiting at once add no thread to the process, and their time limit and
// cancellation reach them while they wait. The node holds 2 x cores + 8 threads at most.
TEST(engine, a_thousand_items_in_flight_hold_no_thread_each) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "1000"},
                                                 {"PAGE_SCRAPE_SCHEDULER_BATCH_SIZE", "500"},
                                                 {"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "15"}}));
  // The fixed set, at the shipped thread settings: main, which also pings the database between
  // signals; CAF's scheduler (half the cores, at least one), its clock and its printer; HTTP's
  // I/O thread and its 2 handler threads; the work threads (one per core); the timer thread
  // (database sockets' deadlines, the watchdog's ticks); the engine's database threads (half the
  // cores, at least two), shared by every queue's claims and commits, LISTEN and maintenance.
  // Nothing in it grows with the queues (all nine are served here), their concurrency or the
  // items in flight.
  const int cores = static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
  const int fixed_set =
      1 + (std::max(1, cores / 2) + 2) + (1 + 2) + cores + 1 + std::max(2, cores / 2);
  ASSERT_LE(fixed_set, 2 * cores + 8);
  // Each waits until cancelled (at most a minute): they are all in flight together.
  auto ids = insert_jobs(db.url(), 1000, R"({"fault":"wait_cancel"})");
  ASSERT_TRUE(
      eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 1000; }, 60s));
  const int busy = lasting_thread_count(server.process->pid());
  EXPECT_LE(busy, fixed_set) << "threads with 1,000 items in flight";
  // A cancel of every running job reaches each waiting coroutine.
  pqxx::connection c(db.url());
  pqxx::nontransaction(c).exec("UPDATE jobs SET cancel_requested = true");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Cancelled'") == 1000; }, 60s));
  EXPECT_EQ(read_executions(log).size(), 1000u);
  // The same once the items are gone. (Measured after them, not before: every queue's unit has
  // surely started by now.)
  const int idle = lasting_thread_count(server.process->pid());
  ASSERT_GT(idle, 0);
  EXPECT_LE(idle, fixed_set) << "threads idle";
  EXPECT_LE(busy, idle) << "threads idle: " << idle << ", with 1,000 items in flight: " << busy;
  std::cerr << "threads idle: " << idle << ", with 1,000 items in flight: " << busy
            << " (fixed set: " << fixed_set << ")\n";
}
