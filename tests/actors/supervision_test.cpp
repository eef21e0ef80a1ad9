// Supervision through the whole process: an engine actor crashes or hangs while work flows; its
// unit (or the scheduler and notifier) is restarted, the state shows it meanwhile, and every item
// still ends once, none run twice at the same time.
#include "http/jwt.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

int inject(int port, const std::string& target) {
  return raw_exchange(port, make_request("POST", "/api/v3/test/actors/" + target,
                                         {{"Authorization", test_bearer()}}))
      .status;
}

long long unit_restarts(int port, std::string_view queue) {
  auto r =
      raw_exchange(port, make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}));
  auto body = boost::json::parse(r.body);
  for (const auto& q : body.at("queues").as_array())
    if (q.at("name").as_string() == queue)
      return q.at("totals").at("unit_restarts").as_int64();
  return -1;
}

// 200 jobs of 50 ms, 4 at a time and claimed 4 at a time: most still wait to be claimed when
// the fault lands, so the restarted unit must claim them.
void crash_while_working(const std::string& target, std::map<std::string, std::string> extra = {}) {
  scoped_database db;
  auto log = temp_path("exec");
  extra["PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES"] = "4";
  extra["PAGE_SCRAPE_SCHEDULER_BATCH_SIZE"] = "4";
  auto server = start_server(db.url(), synthetic_env(log, extra));
  auto ids = insert_jobs(db.url(), 200, R"({"sleep_ms":50})");
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") >= 8; }, 30s));
  ASSERT_EQ(inject(server.port, target), 202);
  ASSERT_TRUE(eventually([&] { return jobs_with(db.url(), "status = 'Completed'") == 200; }, 120s))
      << server.process->output();
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty()) << "an item ran twice at the same time";
  auto per_id = executions_per_id(runs);
  for (const auto& id : ids)
    EXPECT_GE(per_id[id], 1) << id;
  EXPECT_EQ(jobs_with(db.url(), "status <> 'Completed'"), 0);
  // A hung maintenance actor is found by the heartbeat, which may come after the last job: the
  // node is ready again once it is restarted, not necessarily by then.
  EXPECT_TRUE(eventually(
      [&] { return raw_exchange(server.port, make_request("GET", "/ready")).status == 200; }, 30s))
      << "ready again once restarted";
  EXPECT_TRUE(server.process->wait_for_line("restarting", 1s).has_value())
      << server.process->output();
  // Maintenance is led again (its actor restarts with the scheduler and the notifier).
  EXPECT_TRUE(eventually(
      [&] {
        return scalar(db.url(),
                      "SELECT count(*) FROM maintenance_leader WHERE expires_at > now()") == "1";
      },
      10s));
}

} // namespace

TEST(supervision, a_crashed_poller_restarts_its_unit_and_nothing_is_lost) {
  crash_while_working("page_scrape/poller/crash");
}

TEST(supervision, a_crashed_worker_pool_restarts_its_unit_and_nothing_is_lost) {
  crash_while_working("page_scrape/pool/crash");
}

TEST(supervision, a_crashed_writer_restarts_its_unit_and_nothing_is_lost) {
  crash_while_working("page_scrape/writer/crash");
}

TEST(supervision, a_crashed_scheduler_or_notifier_is_restarted) {
  crash_while_working("engine/scheduler/crash");
  crash_while_working("engine/notifier/crash");
}

TEST(supervision, a_crashed_or_hung_maintenance_actor_is_restarted_and_leads_again) {
  crash_while_working("engine/maintenance/crash");
  crash_while_working("engine/maintenance/hang", {{"ENGINE_HEARTBEAT_SECONDS", "2"}});
}

TEST(supervision, a_hung_poller_is_found_by_its_heartbeat_and_its_unit_restarted) {
  crash_while_working("page_scrape/poller/hang", {{"ENGINE_HEARTBEAT_SECONDS", "2"}});
}

TEST(supervision, every_queue_is_supervised_and_the_state_shows_a_restart) {
  scoped_database db;
  // A long pause after the first restart keeps the unit down long enough to be seen.
  auto server =
      start_server(db.url(), {{"ENVIRONMENT", "test"},
                              {"DOMAIN_EXTRACTION_SCHEDULER_MAX_RESTARTS", "0"},
                              {"DOMAIN_EXTRACTION_SCHEDULER_RESTART_PAUSE_SECONDS", "3"}});
  ASSERT_EQ(inject(server.port, "domain_extraction/writer/crash"), 202);
  ASSERT_TRUE(eventually(
      [&] {
        auto r = raw_exchange(server.port, make_request("GET", "/ready"));
        return r.status == 503 && r.body.find("domain_extraction") != std::string::npos;
      },
      10s));
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO local_businesses (place_id, website_url, domain_extraction_status) "
            "VALUES ('a', 'https://www.shop.example.co.uk/about', 'Queued')");
    tx.commit();
  }
  // Back after the pause, it does the work that waited.
  ASSERT_TRUE(eventually(
      [&] {
        return count(db.url(), "SELECT count(*) FROM local_businesses WHERE "
                               "domain_extraction_status = 'Completed'") == 1;
      },
      30s));
  EXPECT_EQ(unit_restarts(server.port, "domain_extraction"), 1);
  EXPECT_EQ(raw_exchange(server.port, make_request("GET", "/ready")).status, 200);
  // Unknown actors and faults are refused; outside ENVIRONMENT=test the route does not exist.
  EXPECT_EQ(inject(server.port, "domain_extraction/cook/crash"), 404);
  EXPECT_EQ(inject(server.port, "domain_extraction/pool/explode"), 404);
  auto prod = start_server(db.url(), {{"ENVIRONMENT", "development"}});
  EXPECT_EQ(inject(prod.port, "domain_extraction/pool/crash"), 404);
}
