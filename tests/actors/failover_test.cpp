// Failover: the server on a primary with a synchronous standby, both named in its libpq URL
// (target_session_attrs=read-write). The primary dies mid-batch, the standby is promoted, and
// the same server process finishes every job on it, once.
#include "http/jwt.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <map>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

// id -> result_data of the jobs completed on the database at `url`.
std::map<std::string, std::string> completed_results(const std::string& url) {
  pqxx::connection c(url);
  std::map<std::string, std::string> out;
  for (auto r : pqxx::nontransaction(c).exec(
           "SELECT id::text, result_data::text FROM jobs WHERE status = 'Completed'"))
    out.emplace(r[0].c_str(), r[1].c_str());
  return out;
}

} // namespace

TEST(failover, the_primary_dies_mid_batch_and_the_promoted_standby_finishes_every_job_once) {
  replicated_pair pair;
  {
    pqxx::connection c(pair.primary_url());
    pqxx::nontransaction(c).exec("CREATE DATABASE sky");
  }
  const auto url = pair.failover_url("sky");
  auto log = temp_path("exec");
  auto server =
      start_server(url, synthetic_env(log, {{"PAGE_SCRAPE_SCHEDULER_LEASE_SECONDS", "5"},
                                            {"PAGE_SCRAPE_SCHEDULER_INTERVAL_MINUTES", "0.01"}}));
  constexpr int k_jobs = 400;
  // 400 jobs of 100 ms on 8 workers take five seconds: the crash comes well before their end.
  auto ids = insert_jobs(pair.primary_url("sky"), k_jobs, R"({"sleep_ms":100})");
  ASSERT_TRUE(eventually(
      [&] { return jobs_with(pair.primary_url("sky"), "status = 'Completed'") >= 40; }, 60s));
  // What the primary shows as committed just before it dies; its commits wait for the standby.
  const auto before = completed_results(pair.primary_url("sky"));
  pair.crash_primary();
  ASSERT_LT(before.size(), static_cast<std::size_t>(k_jobs)) << "the crash should be mid-batch";
  pair.promote_standby();
  const auto promoted = pair.standby_url("sky");
  ASSERT_TRUE(
      eventually([&] { return jobs_with(promoted, "status = 'Completed'") == k_jobs; }, 120s))
      << "completed " << jobs_with(promoted, "status = 'Completed'") << "\n"
      << server.process->output().substr(0, 6000);
  EXPECT_EQ(jobs_with(promoted, "true"), k_jobs);
  // Nothing acknowledged was lost or done again: each result committed before the crash is the
  // same result on the promoted standby.
  const auto after = completed_results(promoted);
  for (const auto& [id, result] : before) {
    auto it = after.find(id);
    ASSERT_NE(it, after.end()) << id;
    EXPECT_EQ(it->second, result) << id;
  }
  // Each job ran to completion once, or again only when its first run's result was not
  // committed; never two at the same time.
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  auto per_id = executions_per_id(runs);
  for (const auto& id : ids)
    EXPECT_GE(per_id[id], 1) << id;
  for (const auto& [id, result] : before)
    EXPECT_EQ(per_id[id], 1) << id;
  // The same process takes new work through the API, on the new primary, woken by its
  // re-established LISTEN.
  auto submitted = raw_exchange(
      server.port,
      make_request("POST", "/api/v3/modernized/page/scrape/single",
                   {{"Authorization", test_bearer()}, {"Content-Type", "application/json"}},
                   R"({"url":"http://127.0.0.1:9/after-failover"})"));
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  ASSERT_TRUE(eventually(
      [&] { return jobs_with(promoted, "status IN ('Completed', 'Error')") == k_jobs + 1; }, 30s));
  EXPECT_EQ(raw_exchange(server.port, make_request("GET", "/ready")).status, 200);
}
