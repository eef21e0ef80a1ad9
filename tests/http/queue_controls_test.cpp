// Operator controls through the API: a pause holds on every node and a resume wakes them; rows of
// any queue are retried or cancelled by id, and all of a queue's errors at once.
#include "config/queue_catalog.hpp"
#include "http/jwt.hpp"
#include "http/workflow_routes.hpp"
#include "persistence/migrator.hpp"
#include "persistence/queue_sql.hpp"
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

raw_response post(int port, const std::string& target, const std::string& body = "") {
  std::map<std::string, std::string> headers{{"Authorization", test_operator_bearer()}};
  if (!body.empty())
    headers["Content-Type"] = "application/json";
  return raw_exchange(port, make_request("POST", target, headers, body));
}

boost::json::object json_of(const raw_response& r) {
  return boost::json::parse(r.body).as_object();
}

std::string queue_state(int port, std::string_view name) {
  auto r =
      raw_exchange(port, make_request("GET", "/api/v3/queues", {{"Authorization", test_bearer()}}));
  const auto body = json_of(r);
  for (const auto& q : body.at("queues").as_array())
    if (q.as_object().at("name").as_string() == name)
      return std::string(q.as_object().at("state").as_string());
  return "";
}

long long jobs_in(const std::string& url, const std::string& status) {
  return count(url, "SELECT count(*) FROM jobs WHERE status = '" + status + "'");
}

} // namespace

TEST(queue_controls, a_pause_holds_on_every_node_and_a_resume_wakes_them) {
  scoped_database db;
  auto log = temp_path("exec");
  auto a = start_server(db.url(), synthetic_env(log));
  auto b = start_server(db.url(), synthetic_env(log));
  auto paused = post(a.port, "/api/v3/queues/page_scrape/pause");
  ASSERT_EQ(paused.status, 200) << paused.raw;
  EXPECT_EQ(json_of(paused).at("paused").as_bool(), true);
  EXPECT_EQ(queue_state(b.port, "page_scrape"), "paused");

  auto ids = insert_jobs(db.url(), 40);
  // Both nodes were woken by the inserts; neither may claim while the queue is paused.
  EXPECT_FALSE(eventually([&] { return jobs_in(db.url(), "Queued") < 40; }, 1500ms))
      << "a paused queue was claimed from";
  auto metrics = raw_exchange(b.port, make_request("GET", "/metrics"));
  EXPECT_NE(metrics.body.find("scrapersky_queue_paused{queue=\"page_scrape\"} 1"),
            std::string::npos);
  EXPECT_TRUE(eventually(
      [&] {
        auto ready = raw_exchange(b.port, make_request("GET", "/ready"));
        return ready.status == 200 && ready.body.find("page_scrape") != std::string::npos;
      },
      10s))
      << "a paused queue is not listed by /ready";

  ASSERT_EQ(post(b.port, "/api/v3/queues/page_scrape/resume").status, 200);
  // Resuming wakes the pollers (the fallback poll is a minute away).
  EXPECT_TRUE(eventually([&] { return jobs_in(db.url(), "Completed") == 40; }, 30s));
  EXPECT_EQ(queue_state(a.port, "page_scrape"), "running");
  auto runs = read_executions(log);
  EXPECT_TRUE(overlapping_executions(runs).empty());
  EXPECT_EQ(post(a.port, "/api/v3/queues/no_such_queue/pause").status, 404);
}

TEST(queue_controls, rows_of_any_queue_are_retried_and_cancelled_by_id) {
  scoped_database db;
  // The API alone: rows stay as the routes leave them.
  auto server = start_server(db.url(), {}, "api");
  std::string failed, waiting, old_failure;
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    failed =
        tx.exec("INSERT INTO domains (domain, sitemap_analysis_status, "
                "sitemap_analysis_attempts, sitemap_analysis_last_error) VALUES "
                "('failed.example.org', 'Error', 3, 'robots.txt unreachable') RETURNING id")[0][0]
            .as<std::string>();
    old_failure =
        tx.exec("INSERT INTO domains (domain, sitemap_analysis_status, "
                "sitemap_analysis_last_error, updated_at) VALUES ('old.example.org', "
                "'Error', 'HTTP status 500', now() - interval '2 hours') RETURNING id")[0][0]
            .as<std::string>();
    waiting = tx.exec("INSERT INTO domains (domain, sitemap_analysis_status) VALUES "
                      "('waiting.example.org', 'Queued') RETURNING id")[0][0]
                  .as<std::string>();
    tx.commit();
  }
  const std::string base = "/api/v3/queues/sitemap_submission/items/";
  auto retried = post(server.port, base + failed + "/retry");
  ASSERT_EQ(retried.status, 202) << retried.raw;
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains WHERE id = '" + failed +
                                "' AND sitemap_analysis_status = 'Queued' AND "
                                "sitemap_analysis_attempts = 0 AND sitemap_analysis_last_error "
                                "IS NULL"),
            1);
  EXPECT_EQ(post(server.port, base + waiting + "/retry").status, 409);
  EXPECT_EQ(post(server.port, base + "00000000-0000-4000-8000-000000000000/retry").status, 404);
  EXPECT_EQ(post(server.port, base + "not-a-uuid/retry").status, 400);

  auto cancelled = post(server.port, base + waiting + "/cancel");
  ASSERT_EQ(cancelled.status, 200) << cancelled.raw;
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains WHERE id = '" + waiting +
                                "' AND sitemap_analysis_status = 'Error' AND "
                                "sitemap_analysis_last_error = 'cancelled by request'"),
            1);
  EXPECT_EQ(post(server.port, base + waiting + "/cancel").status, 409);

  // Jobs: a queued job is cancelled, and retried from Cancelled.
  auto job = insert_jobs(db.url(), 1, "{}", "email_scan")[0];
  EXPECT_EQ(post(server.port, "/api/v3/queues/email_scan/items/" + job + "/cancel").status, 200);
  EXPECT_EQ(jobs_in(db.url(), "Cancelled"), 1);
  // A job of another type is not a row of this queue.
  EXPECT_EQ(post(server.port, "/api/v3/queues/page_scrape/items/" + job + "/retry").status, 404);
  EXPECT_EQ(post(server.port, "/api/v3/queues/email_scan/items/" + job + "/retry").status, 202);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE id = '" + job +
                                "' AND status = 'Queued' AND finished_at IS NULL"),
            1);
}

TEST(queue_controls, all_errors_of_a_queue_are_retried_with_filters) {
  scoped_database db;
  auto server = start_server(db.url(), {}, "api");
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO domains (domain, sitemap_analysis_status, sitemap_analysis_last_error, "
            "updated_at) SELECT 'd' || i || '.example.org', 'Error', CASE WHEN i % 2 = 0 THEN "
            "'HTTP status 503' ELSE 'robots.txt disallows' END, now() - make_interval(mins => i) "
            "FROM generate_series(1, 10) i");
    tx.commit();
  }
  const std::string route = "/api/v3/queues/sitemap_submission/retry-errors";
  auto by_text = post(server.port, route, R"({"error_contains":"503"})");
  ASSERT_EQ(by_text.status, 200) << by_text.raw;
  EXPECT_EQ(json_of(by_text).at("requeued").as_int64(), 5);
  EXPECT_EQ(json_of(by_text).at("ids").as_array().size(), 5u);
  auto by_age = post(server.port, route, R"({"older_than_seconds":330})");
  // Of the odd ones left (1, 3, 5, 7 and 9 minutes in Error), those over five and a half minutes.
  EXPECT_EQ(json_of(by_age).at("requeued").as_int64(), 2);
  auto limited = post(server.port, route, R"({"limit":1})");
  EXPECT_EQ(json_of(limited).at("requeued").as_int64(), 1);
  EXPECT_EQ(json_of(limited).at("more").as_bool(), true);
  auto rest = post(server.port, route);
  EXPECT_EQ(json_of(rest).at("requeued").as_int64(), 2);
  EXPECT_EQ(json_of(rest).at("more").as_bool(), false);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains WHERE sitemap_analysis_status = 'Error'"),
            0);
  EXPECT_EQ(post(server.port, route, R"({"limit":0})").status, 400);
  EXPECT_EQ(post(server.port, route, R"({"older":1})").status, 400);
  // Numbers out of range are the caller's error, not the database's.
  for (const char* body : {R"({"older_than_seconds":1e15})", R"({"older_than_seconds":-1})",
                           R"({"older_than_seconds":1e308})", R"({"limit":1e15})",
                           R"({"limit":99999999999999999999})"}) {
    auto r = post(server.port, route, body);
    EXPECT_EQ(r.status, 400) << body << " " << r.raw;
  }
  EXPECT_EQ(post(server.port, route, R"({"older_than_seconds":3155760000})").status, 200);
}

// On 100,000 rows: list filters compare values as the column's own type, so its index serves
// them, and retrying a job queue's errors reads the errors' partial index, not every job.
TEST(list_plans, filters_and_retry_errors_use_their_indexes_on_100000_rows) {
  scoped_database db;
  {
    pqxx::connection c(db.url());
    persistence::migrate(c);
    pqxx::work tx(c);
    tx.exec("INSERT INTO domains (domain) SELECT 'd' || i || '.example.org' "
            "FROM generate_series(1, 100) i");
    // One small site among large ones: its filter is selective, as a site's pages are.
    tx.exec("INSERT INTO domains (domain) VALUES ('small.example.org')");
    tx.exec("INSERT INTO pages (domain_id, url) SELECT d.id, 'https://' || d.domain || '/p' || i "
            "FROM domains d CROSS JOIN generate_series(1, 1000) i "
            "WHERE d.domain <> 'small.example.org'");
    tx.exec("INSERT INTO pages (domain_id, url) SELECT d.id, 'https://small.example.org/p' || i "
            "FROM domains d CROSS JOIN generate_series(1, 20) i WHERE d.domain = "
            "'small.example.org'");
    tx.exec("INSERT INTO jobs (job_type, status, error, finished_at) SELECT 'page_scrape', "
            "CASE WHEN i % 1000 = 0 THEN 'Error' ELSE 'Completed' END::task_status, "
            "CASE WHEN i % 1000 = 0 THEN 'HTTP status 404' END, now() "
            "FROM generate_series(1, 100000) i");
    tx.exec("ANALYZE pages; ANALYZE jobs; ANALYZE domains");
    tx.commit();
  }
  pqxx::connection c(db.url());
  pqxx::work tx(c);
  auto plan_of = [&](const std::string& sql, auto... params) {
    std::string text;
    for (auto row : tx.exec_params("EXPLAIN " + sql, params...))
      text += std::string(row[0].c_str()) + "\n";
    return text;
  };
  const auto domain = std::string(
      tx.exec("SELECT id::text FROM domains WHERE domain = 'small.example.org'")[0][0].c_str());
  // ($7-$9: no cursor; then a cursor after a row of the site.)
  auto pages = plan_of(http::list_query("/api/v3/pages", "url:asc"), domain, nullptr, nullptr, 50,
                       0, 2 << 20, nullptr, nullptr, "none");
  EXPECT_NE(pages.find("pages_domain_idx"), std::string::npos) << pages;
  EXPECT_EQ(pages.find("Seq Scan on pages"), std::string::npos) << pages;
  const auto row = std::string(
      tx.exec("SELECT id::text FROM pages WHERE url = 'https://small.example.org/p5'")[0][0]
          .c_str());
  auto after = plan_of(http::list_query("/api/v3/pages", "url:asc"), domain, nullptr, nullptr, 50,
                       0, 2 << 20, "https://small.example.org/p5", row, "value");
  EXPECT_EQ(after.find("Seq Scan on pages"), std::string::npos) << after;
  const config::queue_definition* page_scrape = nullptr;
  for (const auto& q : config::queue_definitions())
    if (q.name == "page_scrape")
      page_scrape = &q;
  ASSERT_NE(page_scrape, nullptr);
  auto retry = plan_of(persistence::render_queue_query("queue_requeue_errors", *page_scrape),
                       nullptr, nullptr, 100);
  EXPECT_NE(retry.find("jobs_error_idx"), std::string::npos) << retry;
  EXPECT_EQ(retry.find("Seq Scan on jobs"), std::string::npos) << retry;
}

// Queue controls and other subjects' jobs need the operator role; a plain token submits and reads
// as before, and controls its own jobs.
TEST(queue_controls, controls_need_the_operator_role_and_a_subject_controls_its_own_jobs) {
  scoped_database db;
  auto server = start_server(db.url(), {}, "api");
  auto call = [&](const std::string& target, const std::string& bearer) {
    return raw_exchange(server.port, make_request("POST", target, {{"Authorization", bearer}}));
  };
  const std::string id = "01890000-0000-7000-8000-000000000001";
  for (const std::string& target : std::vector<std::string>{
           "/api/v3/queues/page_scrape/pause", "/api/v3/queues/page_scrape/resume",
           "/api/v3/queues/page_scrape/retry-errors",
           "/api/v3/queues/page_scrape/items/" + id + "/retry",
           "/api/v3/queues/page_scrape/items/" + id + "/cancel"}) {
    auto plain = call(target, test_bearer());
    EXPECT_EQ(plain.status, 403) << target << " " << plain.raw;
    EXPECT_NE(call(target, test_operator_bearer()).status, 403) << target;
  }
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM queue_controls WHERE paused"), 0)
      << "only the operator's pause and resume ran";
  // Jobs of this subject, of another one, and of none.
  const std::string mine = "6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69";
  const std::string theirs = "0b7f3c1e-1111-4222-8333-944455556666";
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (id, job_type, user_id) VALUES "
            "('01890000-0000-7000-8000-00000000000a', 'page_scrape', '" +
            mine +
            "'), "
            "('01890000-0000-7000-8000-00000000000b', 'page_scrape', '" +
            theirs + "')");
    tx.commit();
  }
  auto own = call("/api/v3/jobs/01890000-0000-7000-8000-00000000000a/cancel", test_bearer());
  EXPECT_EQ(own.status, 200) << own.raw;
  auto other = call("/api/v3/jobs/01890000-0000-7000-8000-00000000000b/cancel", test_bearer());
  EXPECT_EQ(other.status, 403) << other.raw;
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Cancelled'"), 1);
  // A subject written in capitals is the same subject (PostgreSQL writes UUIDs in lower case).
  const auto upper = "Bearer " + http::mint_token("6F1C2A4E-6B7A-4C53-9A0E-2F2D3C4B5A69",
                                                  k_test_jwt_secret, std::chrono::minutes(5));
  EXPECT_EQ(call("/api/v3/jobs/01890000-0000-7000-8000-00000000000a/retry", upper).status, 202);
  // A job of no subject (the pipeline's) is an operator's to control.
  {
    pqxx::connection c(db.url());
    pqxx::work tx(c);
    tx.exec("INSERT INTO jobs (id, job_type) VALUES ('01890000-0000-7000-8000-00000000000c', "
            "'page_scrape')");
    tx.commit();
  }
  EXPECT_EQ(call("/api/v3/jobs/01890000-0000-7000-8000-00000000000c/cancel", test_bearer()).status,
            403);
  EXPECT_EQ(call("/api/v3/jobs/01890000-0000-7000-8000-00000000000b/cancel", test_operator_bearer())
                .status,
            200);
  // Reads stay open to every token (the original service has no tenant filter).
  EXPECT_EQ(raw_exchange(server.port,
                         make_request("GET", "/api/v3/jobs/01890000-0000-7000-8000-00000000000b",
                                      {{"Authorization", test_bearer()}}))
                .status,
            200);
}
