// A rolling restart under load: one API node and three worker nodes on one database. Work is
// submitted all along (through the API and straight into the table) while each worker node in
// turn gets SIGTERM and is started again. Every item ends exactly once, no item is held by two
// nodes at once, and no drain outlives DRAIN_TIMEOUT_SECONDS.
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <atomic>
#include <csignal>
#include <gtest/gtest.h>
#include <thread>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

TEST(rolling_restart, every_item_ends_once_while_each_worker_node_restarts_in_turn) {
  scoped_database db;
  auto log = temp_path("exec");
  auto env = synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "4"},
                                 {"PAGE_SCRAPE_SCHEDULER_BATCH_SIZE", "4"},
                                 {"DRAIN_TIMEOUT_SECONDS", "5"}});
  auto api = start_server(db.url(), env, "api");
  std::vector<running_server> workers;
  for (int i = 0; i < 3; ++i)
    workers.push_back(start_server(db.url(), env, "worker"));

  std::atomic<bool> submitting{true};
  std::atomic<int> submitted{0};
  std::thread submitter([&] {
    for (int round = 0; submitting; ++round) {
      // Jobs of 40 ms straight into the table, and instant ones through the API node.
      submitted += static_cast<int>(insert_jobs(db.url(), 8, R"({"sleep_ms":40})").size());
      std::string urls;
      for (int i = 0; i < 4; ++i)
        urls += std::string(i ? "," : "") + "\"https://r" + std::to_string(round) +
                ".example.org/" + std::to_string(i) + "\"";
      auto r = raw_exchange(api.port, make_request("POST", "/api/v3/batch/page-scraper",
                                                   {{"Authorization", test_bearer()},
                                                    {"Content-Type", "application/json"}},
                                                   "{\"urls\":[" + urls + "]}"));
      if (r.status == 202)
        submitted += 4;
      std::this_thread::sleep_for(50ms);
    }
  });

  long long done_before = 0;
  for (auto& w : workers) {
    // Work goes on between restarts: each node is stopped while more was being completed.
    ASSERT_TRUE(eventually(
        [&] { return jobs_with(db.url(), "status = 'Completed'") >= done_before + 40; }, 60s));
    done_before = jobs_with(db.url(), "status = 'Completed'");
    auto before = std::chrono::steady_clock::now();
    w.process->signal(SIGTERM);
    auto code = w.process->wait_exit(30s);
    auto drained = std::chrono::steady_clock::now() - before;
    ASSERT_TRUE(code) << "a worker node did not exit";
    EXPECT_EQ(*code, 0) << w.process->output();
    // The drain timeout, plus start-up margins of a loaded machine for releasing and exiting.
    EXPECT_LT(drained, 5s + 10s);
    w = start_server(db.url(), env, "worker");
  }
  submitting = false;
  submitter.join();

  ASSERT_TRUE(eventually(
      [&] { return jobs_with(db.url(), "status = 'Completed'") == submitted.load(); }, 120s))
      << jobs_with(db.url(), "status = 'Completed'") << " of " << submitted.load();
  EXPECT_EQ(jobs_with(db.url(), "status <> 'Completed'"), 0);
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty()) << "an item was worked on by two nodes at once";
  for (const auto& [id, n] : executions_per_id(runs))
    EXPECT_EQ(n, 1) << id << " ran " << n << " times";
  EXPECT_EQ(static_cast<int>(executions_per_id(runs).size()), submitted.load());
}
