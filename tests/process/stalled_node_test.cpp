// A node whose work threads block for good (a deadlock in a library, say) must not answer ready
// while it does nothing: the watchdog names the pool in /ready and /metrics, the process exits
// after WORK_STALL_ABORT_SECONDS so that it is restarted, and SIGTERM ends it within the drain
// limit even though those threads never return. The block is the test-only injection
// POST /api/v3/test/threads/{pool}/block (ENVIRONMENT=test).
#include "process/exit_codes.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <csignal>
#include <gtest/gtest.h>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

raw_response get(int port, const std::string& path) {
  return raw_exchange(port, make_request("GET", path));
}

int block(int port, const std::string& pool) {
  return raw_exchange(port, make_request("POST", "/api/v3/test/threads/" + pool + "/block",
                                         {{"Authorization", test_bearer()}}))
      .status;
}

bool names_stalled(const raw_response& ready, const std::string& pool) {
  if (ready.status != 503)
    return false;
  auto body = boost::json::parse(ready.body).as_object();
  for (const auto& p : body.at("stalled_pools").as_array())
    if (p.as_string() == pool)
      return true;
  return false;
}

} // namespace

TEST(stalled_node, blocked_work_threads_make_ready_answer_503_naming_the_pool) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server = start_server(db.url(), synthetic_env(log, {{"WORK_STALL_SECONDS", "2"},
                                                           {"WORK_STALL_ABORT_SECONDS", "0"}}));
  ASSERT_TRUE(eventually([&] { return get(server.port, "/ready").status == 200; }, 30s));
  auto metrics = get(server.port, "/metrics").body;
  for (const char* pool : {"work", "http_io", "http_handlers"})
    EXPECT_NE(metrics.find(std::string("scrapersky_thread_pool_stalled{pool=\"") + pool + "\"} 0"),
              std::string::npos)
        << pool << "\n"
        << metrics;
  EXPECT_EQ(block(server.port, "nonesuch"), 404);

  ASSERT_EQ(block(server.port, "work"), 202);
  ASSERT_TRUE(eventually([&] { return names_stalled(get(server.port, "/ready"), "work"); }, 30s))
      << server.process->output();
  metrics = get(server.port, "/metrics").body;
  EXPECT_NE(metrics.find("scrapersky_thread_pool_stalled{pool=\"work\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("scrapersky_thread_pool_stalled{pool=\"http_io\"} 0"), std::string::npos);
  // The log says which threads and where they wait.
  auto line = server.process->wait_for_line("thread pool 'work' has run no heartbeat", 10s);
  ASSERT_TRUE(line) << server.process->output();
  EXPECT_TRUE(server.process->wait_for_line("  thread ", 5s)) << server.process->output();
  // /health is liveness of the HTTP side, which still answers.
  EXPECT_EQ(get(server.port, "/health").status, 200);
}

TEST(stalled_node, a_node_stalled_past_the_abort_time_exits_and_its_work_is_done_elsewhere) {
  scoped_database db;
  auto log = temp_path("exec");
  std::map<std::string, std::string> env{{"WORK_STALL_SECONDS", "1"},
                                         {"WORK_STALL_ABORT_SECONDS", "3"},
                                         {"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "2"},
                                         {"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "5"},
                                         {"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "0.01"}};
  auto server = start_server(db.url(), synthetic_env(log, env));
  insert_jobs(db.url(), 6, R"({"sleep_ms":200})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") > 0; }, 30s));
  ASSERT_EQ(block(server.port, "work"), 202);
  auto code = server.process->wait_exit(60s);
  ASSERT_TRUE(code) << "a stalled node must end itself\n" << server.process->output();
  EXPECT_EQ(*code, process::k_exit_stalled) << server.process->output();
  EXPECT_NE(server.process->output().find("stalled for 3 s: exiting"), std::string::npos)
      << server.process->output();
  // Nothing is lost: another node picks up what the stalled one held once its leases expire.
  auto next = start_server(db.url(), synthetic_env(log, env));
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 6; }, 60s))
      << next.process->output();
  EXPECT_TRUE(overlapping_executions(read_executions(log)).empty());
}

TEST(stalled_node, sigterm_ends_the_process_when_work_threads_never_return) {
  scoped_database db;
  auto log = temp_path("exec");
  auto server =
      start_server(db.url(), synthetic_env(log, {{"WORK_STALL_SECONDS", "1"},
                                                 {"WORK_STALL_ABORT_SECONDS", "0"},
                                                 {"DRAIN_TIMEOUT_SECONDS", "2"},
                                                 {"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "2"}}));
  insert_jobs(db.url(), 6, R"({"sleep_ms":200})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") > 0; }, 30s));
  ASSERT_EQ(block(server.port, "work"), 202);
  ASSERT_TRUE(eventually([&] { return names_stalled(get(server.port, "/ready"), "work"); }, 30s));
  const auto signalled = std::chrono::steady_clock::now();
  server.process->signal(SIGTERM);
  // The drain limit (2 s) plus the grace (5 s), with room for a slow machine.
  auto code = server.process->wait_exit(30s);
  ASSERT_TRUE(code) << "SIGTERM must end the process\n" << server.process->output();
  EXPECT_EQ(*code, process::k_exit_drain_incomplete) << server.process->output();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 20s);
  const auto& out = server.process->output();
  EXPECT_NE(out.find("abandoning the threads still stuck"), std::string::npos) << out;
  EXPECT_NE(out.find("pool 'work'"), std::string::npos) << out;
  // What the node held went back to the queue during the drain, without counting the attempt.
  EXPECT_EQ(jobs_with(db.url(), "status = 'InProgress'"), 0);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Queued' AND attempts = 0") +
                jobs_with(db.url(), "status = 'Completed'"),
            6);
}
