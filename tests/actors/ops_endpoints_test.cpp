// Every node can be probed and scraped: a worker node (no API) serves /health, /ready and
// /metrics, with its own claim, finish and pickup counters; OPS_PORT puts them on a port of their
// own on an API node too.
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <gtest/gtest.h>

using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

int ops_port_of(running_server& s) {
  auto line = s.process->wait_for_line("ops endpoints listening on", 30s);
  if (!line)
    throw std::runtime_error("no ops listener:\n" + s.process->output());
  auto colon = line->rfind(':', line->find(" (/health"));
  return std::stoi(line->substr(colon + 1));
}

} // namespace

TEST(ops_endpoints, a_worker_node_serves_health_ready_and_its_own_counters) {
  scoped_database db;
  auto log = temp_path("exec");
  auto worker = start_server(db.url(), synthetic_env(log), "worker");
  const int port = ops_port_of(worker);
  EXPECT_EQ(raw_exchange(port, make_request("GET", "/health")).status, 200);
  ASSERT_TRUE(eventually(
      [&] { return raw_exchange(port, make_request("GET", "/ready")).status == 200; }, 30s));
  insert_jobs(db.url(), 20, R"({"sleep_ms":1})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 20; }, 60s));
  std::string text;
  ASSERT_TRUE(eventually(
      [&] {
        text = raw_exchange(port, make_request("GET", "/metrics")).body;
        return metric_value(text, R"(scrapersky_items_completed_total{queue="page_scrape"})") == 20;
      },
      10s))
      << text;
  EXPECT_EQ(metric_value(text, R"(scrapersky_items_claimed_total{queue="page_scrape"})"), 20);
  EXPECT_EQ(metric_value(text, R"(scrapersky_pickup_latency_seconds_count{queue="page_scrape"})"),
            20);
  EXPECT_EQ(metric_value(text, R"(scrapersky_thread_pool_stalled{pool="work"})"), 0);
  // Only those three: the API is not served by a worker.
  auto api =
      raw_exchange(port, make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}));
  EXPECT_EQ(api.status, 404) << api.raw;
}

// A draining worker node says so: from SIGTERM until it exits, /ready answers 503 with status
// "draining" while it finishes the step it holds, and then exits cleanly.
TEST(ops_endpoints, a_draining_worker_node_is_not_ready) {
  scoped_database db;
  auto log = temp_path("exec");
  auto worker = start_server(db.url(),
                             synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "1"},
                                                 {"DRAIN_TIMEOUT_SECONDS", "60"}}),
                             "worker");
  const int port = ops_port_of(worker);
  ASSERT_TRUE(eventually(
      [&] { return raw_exchange(port, make_request("GET", "/ready")).status == 200; }, 30s));
  // A step of 4 s holds the drain open meanwhile.
  insert_jobs(db.url(), 1, R"({"sleep_ms":4000})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'InProgress'") == 1; }, 30s));
  worker.process->signal(SIGTERM);
  raw_response ready;
  ASSERT_TRUE(eventually(
      [&] {
        ready = raw_exchange(port, make_request("GET", "/ready"));
        return ready.status == 503;
      },
      10s))
      << ready.raw;
  EXPECT_NE(ready.body.find(R"("status":"draining")"), std::string::npos) << ready.body;
  auto code = worker.process->wait_exit(60s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_EQ(jobs_with(db.url(), "status = 'Completed'"), 1);
}

TEST(ops_endpoints, ops_port_serves_the_probes_apart_from_the_api) {
  scoped_database db;
  auto server = start_server(db.url(), {{"OPS_PORT", "0"}}, "api");
  const int ops = ops_port_of(server);
  ASSERT_NE(ops, server.port);
  ASSERT_TRUE(eventually(
      [&] { return raw_exchange(ops, make_request("GET", "/ready")).status == 200; }, 30s));
  EXPECT_NE(raw_exchange(ops, make_request("GET", "/metrics")).body.find("scrapersky_queue_rows"),
            std::string::npos);
  EXPECT_EQ(
      raw_exchange(ops, make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}))
          .status,
      404);
  // The API port keeps serving both.
  EXPECT_EQ(raw_exchange(server.port, make_request("GET", "/health")).status, 200);
  EXPECT_EQ(raw_exchange(server.port,
                         make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}))
                .status,
            200);
}
