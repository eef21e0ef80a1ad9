// Every workflow end to end through the HTTP API: a real server process, real PostgreSQL, the
// fixture web and the fake Places API on loopback. Assertions are on the rows written.
#include "http/jwt.hpp"
#include "support/engine_helpers.hpp"
#include "support/fixture_server.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>
#include <iostream>
#include <pqxx/pqxx>
#include <thread>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string k_user = "6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69";

struct api_answer {
  int status = 0;
  json::value body;
};

api_answer call(int port, const std::string& method, const std::string& target,
                const std::string& body = "") {
  auto token = http::mint_token(k_user, k_test_jwt_secret, 300s);
  auto r = raw_exchange(port, make_request(method, target,
                                           {{"Authorization", "Bearer " + token},
                                            {"Content-Type", "application/json"}},
                                           body));
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  return {r.status, ec ? json::value(r.body) : v};
}

std::string str(const json::value& v, std::string_view key) {
  return std::string(v.as_object().at(key).as_string());
}

// The ids of rows matching `where`, as a JSON array literal for a curation request.
std::string ids_json(const std::string& url, const std::string& table, const std::string& where) {
  return scalar(url, "SELECT coalesce(json_agg(id), '[]') FROM " + table + " WHERE " + where);
}

bool wait_count(const std::string& url, const std::string& sql, long long n,
                std::chrono::milliseconds timeout = 30s) {
  if (eventually([&] { return count(url, sql) == n; }, timeout))
    return true;
  // What the jobs say is usually why: printed beside the failure.
  pqxx::connection c(url);
  for (auto row : pqxx::nontransaction(c).exec(
           "SELECT job_type, status::text, attempts, coalesce(last_error, ''), "
           "coalesce(error, '') FROM jobs ORDER BY created_at LIMIT 20"))
    std::cerr << "job " << row[0].c_str() << " " << row[1].c_str() << " attempts " << row[2].c_str()
              << ": " << row[3].c_str() << " / " << row[4].c_str() << "\n";
  for (auto row : pqxx::nontransaction(c).exec(
           "SELECT domain, status::text, coalesce(sitemap_analysis_status::text, '-'), "
           "coalesce(sitemap_analysis_error, '') FROM domains ORDER BY domain LIMIT 20"))
    std::cerr << "domain " << row[0].c_str() << " " << row[1].c_str() << " sitemap "
              << row[2].c_str() << " " << row[3].c_str() << "\n";
  return false;
}

long long all_rows(const std::string& url) {
  return count(url, "SELECT (SELECT count(*) FROM jobs) + (SELECT count(*) FROM domains) + "
                    "(SELECT count(*) FROM places_staging) + (SELECT count(*) FROM "
                    "local_businesses) + (SELECT count(*) FROM sitemap_files) + (SELECT count(*) "
                    "FROM pages) + (SELECT count(*) FROM contacts)");
}

class pipeline : public ::testing::Test {
protected:
  scoped_database db;
  fixture_server web;
  running_server start(std::map<std::string, std::string> extra = {}) {
    return start_server(db.url(), web.server_env(std::move(extra)));
  }
};

} // namespace

namespace {

// The legacy Places API, for keys of projects that still have it.
std::map<std::string, std::string> legacy_places(std::map<std::string, std::string> extra = {}) {
  extra["PLACES_API_VERSION"] = "legacy";
  extra["PLACES_API_BASE_URL"] = "http://places.test/maps/api/place";
  return extra;
}

// Searches and deep scans with either API version, against its fake: the same rows from each.
class places_versions : public pipeline, public ::testing::WithParamInterface<std::string> {
protected:
  bool legacy() const { return GetParam() == "legacy"; }
  running_server start_places() {
    return start(legacy() ? legacy_places() : std::map<std::string, std::string>{});
  }
};

} // namespace

INSTANTIATE_TEST_SUITE_P(api, places_versions, ::testing::Values("new", "legacy"),
                         [](const auto& info) { return info.param; });

TEST_P(places_versions, search_stores_every_page_of_results) {
  auto server = start_places();
  auto r = call(server.port, "POST", "/api/v3/places/search",
                R"({"business_type":"bakery","location":"Springfield"})");
  ASSERT_EQ(r.status, 202) << json::serialize(r.body);
  auto job = str(r.body, "job_id");
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'", 1))
      << scalar(db.url(), "SELECT status || ' ' || coalesce(error, '') FROM jobs");
  // The fake answers 20 results and a page token, then 5 more.
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM places_staging WHERE search_job_id = '" + job +
                                "' AND status = 'New' AND deep_scan_status IS NULL"),
            25);
  EXPECT_EQ(scalar(db.url(), "SELECT result_data->>'pages' || ' ' || attempts FROM jobs"), "2 1");
  EXPECT_EQ(scalar(db.url(), "SELECT business_type || '|' || location FROM places_staging LIMIT 1"),
            "bakery|Springfield");
  // Every column from the API's own field names (new: displayName.text, location.latitude, ...).
  EXPECT_EQ(scalar(db.url(), "SELECT concat_ws('|', name, address, latitude, longitude, rating, "
                             "user_ratings_total) FROM places_staging WHERE place_id LIKE '%-0'"),
            "Alpha Bakery|100 Main St, Springfield, IL 62701, USA|39.78|-89.65|3.5|10");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM places_staging WHERE name IS NOT NULL AND "
                            "address IS NOT NULL AND latitude IS NOT NULL AND longitude IS NOT "
                            "NULL AND rating IS NOT NULL AND user_ratings_total IS NOT NULL AND "
                            "raw ? 'types' AND coalesce(raw->>'businessStatus', "
                            "raw->>'business_status') = 'OPERATIONAL'"),
            25);
  auto listed =
      call(server.port, "GET", "/api/v3/places/staging?search_job_id=" + job + "&limit=10");
  ASSERT_EQ(listed.status, 200);
  EXPECT_EQ(listed.body.at("items").as_array().size(), 10u);
  EXPECT_TRUE(listed.body.at("has_more").as_bool());
}

TEST_P(places_versions, deep_scan_of_selected_rows_upserts_local_businesses) {
  auto server = start_places();
  call(server.port, "POST", "/api/v3/places/search",
       R"({"business_type":"dentist","location":"Springfield"})");
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM places_staging", 25));
  // A row the details API does not know ends in Error with the API's reason.
  count(db.url(), "INSERT INTO places_staging (place_id, name) VALUES ('fx-000000-99', 'Gone') "
                  "RETURNING 1");
  auto ids = ids_json(db.url(), "places_staging",
                      "place_id LIKE '%-0' OR place_id LIKE '%-1' OR place_id LIKE '%-4' OR "
                      "place_id = 'fx-000000-99'");
  auto r = call(server.port, "PUT", "/api/v3/places/staging/status",
                R"({"status":"Selected","ids":)" + ids + "}");
  ASSERT_EQ(r.status, 200) << json::serialize(r.body);
  EXPECT_EQ(r.body.at("queued").as_int64(), 4);
  ASSERT_TRUE(wait_count(db.url(),
                         "SELECT count(*) FROM places_staging WHERE deep_scan_status IN "
                         "('Completed', 'Error')",
                         4));
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM local_businesses"), 3);
  // The international number, which each API formats its own way.
  EXPECT_EQ(scalar(db.url(), "SELECT concat_ws('|', business_name, full_address, website_url, "
                             "phone, rating, user_ratings_total) FROM local_businesses WHERE "
                             "place_id LIKE '%-0'"),
            "Alpha Bakery|100 Main St, Springfield, IL 62701, USA|http://alpha-bakery.com/|" +
                std::string(legacy() ? "+1 (217) 555-1000" : "+1 217-555-1000") + "|3.5|10");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM local_businesses WHERE place_id LIKE '%-4' AND "
                            "website_url IS NULL"),
            1);
  if (!legacy()) { // opening hours are kept with the rest of the answer
    EXPECT_EQ(count(db.url(), "SELECT count(*) FROM local_businesses WHERE raw ? "
                              "'regularOpeningHours' AND raw->>'businessStatus' = 'OPERATIONAL'"),
              3);
  }
  EXPECT_NE(scalar(db.url(), "SELECT deep_scan_status || ' ' || deep_scan_error FROM "
                             "places_staging WHERE place_id = 'fx-000000-99'")
                .find("Error NOT_FOUND"),
            std::string::npos);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM places_staging WHERE deep_scan_status = "
                            "'Completed' AND deep_scan_error IS NULL"),
            3);
}

TEST_F(pipeline, legacy_places_statuses_map_to_completed_retry_and_error) {
  auto server = start(legacy_places({{"PLACES_SEARCH_SCHEDULER_MAX_ATTEMPTS", "2"}}));
  auto empty = call(server.port, "POST", "/api/v3/places/search",
                    R"({"business_type":"bakery","location":"nowhere"})");
  auto busy = call(server.port, "POST", "/api/v3/places/search",
                   R"({"business_type":"bakery","location":"overloaded"})");
  ASSERT_EQ(empty.status, 202);
  ASSERT_EQ(busy.status, 202);
  auto empty_id = str(empty.body, "job_id"), busy_id = str(busy.body, "job_id");
  ASSERT_TRUE(
      wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status IN ('Completed', 'Error')", 2));
  // ZERO_RESULTS is a finished search with nothing in it.
  EXPECT_EQ(scalar(db.url(), "SELECT status || ' ' || (result_data->>'places_found') FROM jobs "
                             "WHERE id = '" +
                                 empty_id + "'"),
            "Completed 0");
  // OVER_QUERY_LIMIT is retried until the attempts are used up.
  EXPECT_EQ(
      scalar(db.url(), "SELECT status || ' ' || attempts FROM jobs WHERE id = '" + busy_id + "'"),
      "Error 2");
  EXPECT_NE(scalar(db.url(), "SELECT error FROM jobs WHERE id = '" + busy_id + "'")
                .find("OVER_QUERY_LIMIT"),
            std::string::npos);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM places_staging"), 0);
}

TEST_F(pipeline, legacy_request_denied_is_an_error_at_once_with_the_reason) {
  auto server = start(legacy_places({{"PLACES_API_KEY", "wrong-key"}}));
  auto r = call(server.port, "POST", "/api/v3/places/search",
                R"({"business_type":"bakery","location":"Springfield"})");
  ASSERT_EQ(r.status, 202);
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Error'", 1));
  EXPECT_EQ(scalar(db.url(), "SELECT attempts FROM jobs"), "1");
  EXPECT_NE(scalar(db.url(), "SELECT error FROM jobs").find("REQUEST_DENIED"), std::string::npos);
}

namespace {

// Submits a Places search for bakeries in `location` and returns its job id.
std::string search_in(int port, const std::string& location) {
  auto r = call(port, "POST", "/api/v3/places/search",
                R"({"business_type":"bakery","location":")" + location + R"("})");
  EXPECT_EQ(r.status, 202) << json::serialize(r.body);
  return str(r.body, "job_id");
}

std::string outcome_of(const std::string& url, const std::string& job) {
  return scalar(url, "SELECT status || ' ' || attempts || ' ' || coalesce(error, '') FROM jobs "
                     "WHERE id = '" +
                         job + "'");
}

// Waits until `n` jobs have finished, either way.
bool jobs_finished(const std::string& url, long long n) {
  return wait_count(url, "SELECT count(*) FROM jobs WHERE status IN ('Completed', 'Error')", n);
}

std::string staged_by(const std::string& url, const std::string& job) {
  return scalar(url, "SELECT count(*) FROM places_staging WHERE search_job_id = '" + job + "'");
}

} // namespace

TEST_F(pipeline, places_new_invalid_argument_fails_at_once_and_no_results_complete_empty) {
  auto server = start({{"PLACES_SEARCH_SCHEDULER_MAX_ATTEMPTS", "3"}});
  auto refused = search_in(server.port, "unsearchable");
  auto empty = search_in(server.port, "nowhere");
  ASSERT_TRUE(jobs_finished(db.url(), 2));
  EXPECT_EQ(outcome_of(db.url(), refused),
            "Error 1 INVALID_ARGUMENT: Invalid textQuery. (HTTP 400)");
  EXPECT_EQ(outcome_of(db.url(), empty), "Completed 1 ");
  EXPECT_EQ(
      scalar(db.url(), "SELECT result_data->>'places_found' FROM jobs WHERE id = '" + empty + "'"),
      "0");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM places_staging"), 0);
}

TEST_F(pipeline, places_new_permission_denied_fails_at_once_with_the_reason) {
  auto server = start({{"PLACES_API_KEY", "wrong-key"}, {"DEEP_SCAN_SCHEDULER_MAX_ATTEMPTS", "3"}});
  auto job = search_in(server.port, "Springfield");
  // Details with a wrong key fail the same way, with the reason in deep_scan_error.
  count(db.url(), "INSERT INTO places_staging (place_id, name) VALUES ('fx-000000-1', 'Bella') "
                  "RETURNING 1");
  ASSERT_EQ(
      call(server.port, "PUT", "/api/v3/places/staging/status",
           R"({"status":"Selected","ids":)" + ids_json(db.url(), "places_staging", "true") + "}")
          .status,
      200);
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Error'", 1));
  EXPECT_EQ(
      outcome_of(db.url(), job),
      "Error 1 PERMISSION_DENIED: API key not valid. Please pass a valid API key. (HTTP 403)");
  ASSERT_TRUE(wait_count(
      db.url(), "SELECT count(*) FROM places_staging WHERE deep_scan_status = 'Error'", 1));
  EXPECT_EQ(scalar(db.url(), "SELECT attempts || ' ' || deep_scan_error FROM places_staging"),
            "1 PERMISSION_DENIED: API key not valid. Please pass a valid API key. (HTTP 403)");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM local_businesses"), 0);
}

// RESOURCE_EXHAUSTED and 5xx go back to the queue with backoff: a search that fails once
// completes on its second attempt; one that keeps failing ends in Error when attempts run out.
// The fetcher's own retries are off so that each failure is one attempt of the item.
TEST_F(pipeline, places_new_quota_and_server_errors_are_retried_until_attempts_run_out) {
  auto server = start({{"PLACES_SEARCH_SCHEDULER_MAX_ATTEMPTS", "2"}, {"FETCH_MAX_RETRIES", "0"}});
  auto throttled = search_in(server.port, "throttled");
  auto hiccup = search_in(server.port, "hiccup");
  auto overloaded = search_in(server.port, "overloaded");
  auto outage = search_in(server.port, "outage");
  ASSERT_TRUE(jobs_finished(db.url(), 4));
  EXPECT_EQ(outcome_of(db.url(), throttled), "Completed 2 ");
  EXPECT_EQ(outcome_of(db.url(), hiccup), "Completed 2 ");
  EXPECT_EQ(staged_by(db.url(), throttled), "25");
  EXPECT_EQ(staged_by(db.url(), hiccup), "25");
  EXPECT_EQ(outcome_of(db.url(), overloaded),
            "Error 2 RESOURCE_EXHAUSTED: Quota exceeded for quota metric 'Text Search requests'. "
            "(HTTP 429)");
  EXPECT_EQ(outcome_of(db.url(), outage),
            "Error 2 UNAVAILABLE: The service is currently unavailable. (HTTP 503)");
  EXPECT_EQ(staged_by(db.url(), overloaded), "0");
}

// A rejected page token sends the search back to the queue: it starts over with fresh tokens.
TEST_F(pipeline, places_new_expired_page_tokens_restart_the_search) {
  auto server = start({{"PLACES_SEARCH_SCHEDULER_MAX_ATTEMPTS", "2"}});
  auto stale_once = search_in(server.port, "stale-token");
  auto always_expired = search_in(server.port, "expired-token");
  ASSERT_TRUE(jobs_finished(db.url(), 2));
  EXPECT_EQ(outcome_of(db.url(), stale_once), "Completed 2 ");
  EXPECT_EQ(staged_by(db.url(), stale_once), "25");
  EXPECT_EQ(
      scalar(db.url(), "SELECT result_data->>'pages' FROM jobs WHERE id = '" + stale_once + "'"),
      "2");
  EXPECT_EQ(outcome_of(db.url(), always_expired),
            "Error 2 page token rejected, the search starts over: INVALID_ARGUMENT: The provided "
            "page token is invalid or has expired. (HTTP 400)");
  EXPECT_EQ(staged_by(db.url(), always_expired), "0");
}

// PLACES_MAX_PAGES bounds the pages read, whatever tokens the API offers.
TEST_F(pipeline, places_new_search_reads_at_most_the_configured_pages) {
  auto server = start({{"PLACES_MAX_PAGES", "1"}});
  auto job = search_in(server.port, "Springfield");
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'", 1));
  EXPECT_EQ(staged_by(db.url(), job), "20");
  EXPECT_EQ(scalar(db.url(), "SELECT result_data->>'pages' FROM jobs"), "1");
}

// PLACES_MAX_RESULTS bounds the rows one search keeps, and the job says it stopped there.
TEST_F(pipeline, places_new_search_keeps_at_most_the_configured_places) {
  auto server = start({{"PLACES_MAX_RESULTS", "22"}});
  auto job = search_in(server.port, "Springfield");
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'", 1));
  EXPECT_EQ(staged_by(db.url(), job), "22");
  EXPECT_EQ(scalar(db.url(), "SELECT concat_ws(' ', result_data->>'pages', "
                             "result_data->>'places_found', result_data->>'limits_hit') FROM jobs"),
            R"(2 22 ["places_per_job"])");
}

TEST_F(pipeline, domain_extraction_links_businesses_to_registrable_domains) {
  auto server = start();
  count(db.url(),
        "INSERT INTO local_businesses (place_id, website_url) VALUES "
        "('a', 'https://www.corner-dental.com/contact-us'), ('b', 'http://shop.example.co.uk/x'),"
        "('c', NULL), ('d', 'https://corner-dental.com') RETURNING 1");
  auto ids = ids_json(db.url(), "local_businesses", "true");
  auto r = call(server.port, "PUT", "/api/v3/local-businesses/status",
                R"({"status":"Selected","ids":)" + ids + "}");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(wait_count(db.url(),
                         "SELECT count(*) FROM local_businesses WHERE domain_extraction_status IN "
                         "('Completed', 'Error')",
                         4));
  EXPECT_EQ(scalar(db.url(), "SELECT string_agg(domain, ',' ORDER BY domain) FROM domains"),
            "corner-dental.com,example.co.uk");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM local_businesses b JOIN domains d ON d.id = "
                            "b.domain_id WHERE d.domain = 'corner-dental.com'"),
            2);
  EXPECT_EQ(scalar(db.url(), "SELECT domain_extraction_status || ': ' || domain_extraction_error "
                             "FROM local_businesses WHERE place_id = 'c'"),
            "Error: business has no website URL");
}

TEST_F(pipeline, new_domains_get_their_homepage_metadata) {
  auto server = start();
  auto r = call(server.port, "POST", "/api/v3/domains",
                R"({"domains":["alpha-bakery.com","https://Bella-Pizzeria.com/menu"]})");
  ASSERT_EQ(r.status, 202) << json::serialize(r.body);
  ASSERT_EQ(r.body.at("domains").as_array().size(), 2u);
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM domains WHERE status = 'Completed'", 2));
  EXPECT_EQ(scalar(db.url(), "SELECT title FROM domains WHERE domain = 'alpha-bakery.com'"),
            "Alpha Bakery | Fresh bread in Springfield");
  EXPECT_EQ(scalar(db.url(), "SELECT emails::text FROM domains WHERE domain = 'alpha-bakery.com'"),
            R"(["hello@alpha-bakery.com"])");
  EXPECT_EQ(
      scalar(db.url(), "SELECT tech_stack::text FROM domains WHERE domain = 'alpha-bakery.com'"),
      R"(["WordPress", "jQuery", "Google Analytics"])");
  EXPECT_EQ(scalar(db.url(), "SELECT social_links->>'facebook' FROM domains WHERE domain = "
                             "'alpha-bakery.com'"),
            "https://www.facebook.com/alphabakery");
  EXPECT_EQ(scalar(db.url(), "SELECT language FROM domains WHERE domain = 'bella-pizzeria.com'"),
            "de");
  // Submitting a known domain again creates nothing new.
  auto again = call(server.port, "POST", "/api/v3/domains", R"({"domains":["alpha-bakery.com"]})");
  ASSERT_EQ(again.status, 202);
  EXPECT_FALSE(again.body.at("domains").as_array()[0].at("created").as_bool());
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM domains"), 2);
}

TEST_F(pipeline, sitemap_curation_discovers_and_imports_without_duplicates) {
  auto server = start();
  call(server.port, "POST", "/api/v3/domains",
       R"({"domains":["alpha-bakery.com","bella-pizzeria.com","corner-dental.com"]})");
  auto r = call(server.port, "PUT", "/api/v3/domains/sitemap-curation/status",
                R"({"status":"Selected","ids":)" + ids_json(db.url(), "domains", "true") + "}");
  ASSERT_EQ(r.status, 200);
  ASSERT_TRUE(wait_count(
      db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'sitemap' AND status = 'Completed'",
      3));
  EXPECT_EQ(
      count(db.url(), "SELECT count(*) FROM domains WHERE sitemap_analysis_status = 'Completed'"),
      3);
  // alpha: robots.txt -> index -> page sitemap + gzipped post sitemap; bella: /sitemap.xml only.
  EXPECT_EQ(scalar(db.url(), "SELECT string_agg(discovery_method || ':' || sitemap_type || ':' || "
                             "url_count, ' ' ORDER BY url COLLATE \"C\") FROM sitemap_files"),
            "sitemap_index:urlset:5 sitemap_index:urlset:20 robots_txt:sitemapindex:2 "
            "well_known:urlset:10");
  auto files = ids_json(db.url(), "sitemap_files", "sitemap_type = 'urlset'");
  auto select = R"({"status":"Selected","ids":)" + files + "}";
  ASSERT_EQ(call(server.port, "PUT", "/api/v3/sitemap-files/status", select).status, 200);
  ASSERT_TRUE(wait_count(
      db.url(), "SELECT count(*) FROM sitemap_files WHERE sitemap_import_status = 'Completed'", 3));
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pages"), 35);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pages WHERE url LIKE '%/blog/post-%' AND "
                            "priority = 0.5 AND lastmod = '2026-10-01'"),
            20);
  // Importing the same files again adds no page twice.
  ASSERT_EQ(call(server.port, "PUT", "/api/v3/sitemap-files/status", select).status, 200);
  ASSERT_TRUE(wait_count(db.url(),
                         "SELECT count(*) FROM sitemap_files WHERE sitemap_import_status = "
                         "'Completed' AND attempts = 1",
                         3));
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pages"), 35);
}

TEST_F(pipeline, hostile_sitemaps_fail_with_a_clear_error) {
  auto server = start({{"SITEMAP_IMPORT_SCHEDULER_MAX_ATTEMPTS", "1"}});
  auto r = call(server.port, "POST", "/api/v3/domains", R"({"domains":["traps.test"]})");
  auto domain_id = str(r.body.at("domains").as_array()[0], "id");
  count(db.url(), "INSERT INTO sitemap_files (domain_id, url) VALUES ('" + domain_id +
                      "', 'http://traps.test/xml-bomb.xml'), ('" + domain_id +
                      "', 'http://traps.test/gzip-bomb.xml.gz') RETURNING 1");
  ASSERT_EQ(
      call(server.port, "PUT", "/api/v3/sitemap-files/status",
           R"({"status":"Selected","ids":)" + ids_json(db.url(), "sitemap_files", "true") + "}")
          .status,
      200);
  ASSERT_TRUE(wait_count(
      db.url(), "SELECT count(*) FROM sitemap_files WHERE sitemap_import_status = 'Error'", 2));
  EXPECT_NE(
      scalar(db.url(), "SELECT sitemap_import_error FROM sitemap_files WHERE url LIKE '%xml-bomb%'")
          .find("DTD"),
      std::string::npos);
  EXPECT_NE(scalar(db.url(),
                   "SELECT sitemap_import_error FROM sitemap_files WHERE url LIKE '%gzip-bomb%'")
                .find("exceeds"),
            std::string::npos);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM pages"), 0);
}

TEST_F(pipeline, email_scan_writes_contacts_obeys_robots_and_reports_progress) {
  auto server = start();
  auto d = call(server.port, "POST", "/api/v3/domains",
                R"({"domains":["bella-pizzeria.com","alpha-bakery.com"]})");
  std::vector<std::string> scan_ids;
  for (const auto& entry : d.body.at("domains").as_array()) {
    auto r = call(server.port, "POST", "/api/v3/email-scan/scan/website",
                  R"({"domain_id":")" + str(entry, "id") + R"("})");
    ASSERT_EQ(r.status, 202) << json::serialize(r.body);
    scan_ids.push_back(str(r.body, "job_id"));
    // The original service's path is the same route: the scan already queued is answered.
    auto again = call(server.port, "POST", "/api/v3/scan/website",
                      R"({"domain_id":")" + str(entry, "id") + R"("})");
    ASSERT_EQ(again.status, 202) << json::serialize(again.body);
    EXPECT_EQ(str(again.body, "job_id"), scan_ids.back());
  }
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'email_scan'"), 2);
  ASSERT_TRUE(wait_count(
      db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'email_scan' AND status = 'Completed'",
      2));
  EXPECT_EQ(scalar(db.url(),
                   "SELECT string_agg(email || ' ' || source_url, ', ' ORDER BY email) "
                   "FROM contacts c JOIN domains d ON d.id = c.domain_id WHERE d.domain = "
                   "'bella-pizzeria.com'"),
            "ciao@bella-pizzeria.com http://bella-pizzeria.com/pages/kontakt, "
            "orders@bella-pizzeria.com http://bella-pizzeria.com/");
  // /pages/team is disallowed for our bot: its address is never collected.
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM contacts WHERE email LIKE 'secret%'"), 0);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM contacts c JOIN domains d ON d.id = c.domain_id "
                            "WHERE d.domain = 'alpha-bakery.com'"),
            4);
  auto job = scalar(db.url(), "SELECT j.id FROM jobs j JOIN domains d ON d.id = j.domain_id WHERE "
                              "d.domain = 'bella-pizzeria.com'");
  auto status = call(server.port, "GET", "/api/v3/email-scan/scan/status/" + job);
  ASSERT_EQ(status.status, 200);
  EXPECT_EQ(str(status.body, "status"), "Completed");
  EXPECT_EQ(status.body.at("progress").as_double(), 1.0);
  EXPECT_EQ(status.body.at("emails").as_array().size(), 2u);
  EXPECT_EQ(status.body.at("result_data").at("skipped_by_robots").as_array().size(), 1u);
  auto alias = call(server.port, "GET", "/api/v3/scan/status/" + job);
  ASSERT_EQ(alias.status, 200);
  EXPECT_EQ(json::serialize(alias.body), json::serialize(status.body));
  EXPECT_EQ(call(server.port, "GET", "/api/v3/scan/status/nope").status, 400);
}

TEST_F(pipeline, page_scrapes_single_and_batch) {
  auto server = start();
  auto one = call(server.port, "POST", "/api/v3/modernized/page/scrape/single",
                  R"({"url":"http://corner-dental.com/contact-us"})");
  ASSERT_EQ(one.status, 202);
  auto batch = call(
      server.port, "POST", "/api/v3/batch/page-scraper",
      R"({"urls":["http://alpha-bakery.com/contact/","http://bella-pizzeria.com/","http://alpha-bakery.com/missing"]})");
  ASSERT_EQ(batch.status, 202);
  EXPECT_EQ(batch.body.at("job_ids").as_array().size(), 3u);
  ASSERT_TRUE(
      wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status IN ('Completed', 'Error')", 4));
  auto job = call(server.port, "GET", "/api/v3/jobs/" + str(one.body, "job_id"));
  ASSERT_EQ(job.status, 200);
  const auto& result = job.body.at("result_data");
  EXPECT_EQ(result.at("title").as_string(), "Contact Corner Dental");
  EXPECT_EQ(json::serialize(result.at("emails")),
            R"(["front-desk@corner-dental.com","appointments@corner-dental.com"])");
  // The tel: link first, then the number in the text; both in E.164.
  EXPECT_EQ(json::serialize(result.at("phones")), R"(["+12177890100","+12177890199"])");
  EXPECT_EQ(json::serialize(result.at("social")), "{}");
  EXPECT_EQ(json::serialize(result.at("tech")), R"(["Wix"])");
  // A 404 is permanent: one attempt, then Error naming the status.
  EXPECT_EQ(scalar(db.url(), "SELECT status || ' ' || attempts || ' ' || error FROM jobs WHERE "
                             "params->>'url' LIKE '%missing'"),
            "Error 1 http://alpha-bakery.com/missing: HTTP status 404");
  // The batch, followed by its counts: two completed, one in Error, all finished.
  const auto batch_id = str(batch.body, "batch_id");
  auto counts = call(server.port, "GET", "/api/v3/batches/" + batch_id);
  ASSERT_EQ(counts.status, 200) << json::serialize(counts.body);
  EXPECT_EQ(counts.body.at("job_type").as_string(), "page_scrape");
  EXPECT_EQ(counts.body.at("total").as_int64(), 3);
  EXPECT_EQ(counts.body.at("finished").as_int64(), 3);
  EXPECT_TRUE(counts.body.at("done").as_bool());
  EXPECT_EQ(counts.body.at("counts").at("Completed").as_int64(), 2);
  EXPECT_EQ(counts.body.at("counts").at("Error").as_int64(), 1);
  EXPECT_EQ(counts.body.at("counts").at("Queued").as_int64(), 0);
  auto member = call(server.port, "GET",
                     "/api/v3/jobs/" + std::string(batch.body.at("job_ids").at(0).as_string()));
  EXPECT_EQ(str(member.body, "batch_id"), batch_id);
  EXPECT_TRUE(job.body.at("batch_id").is_null()); // submitted alone
  // A sitemap batch is a batch too; unknown and malformed ids are told apart.
  auto sitemaps = call(server.port, "POST", "/api/v3/sitemap/batch/create",
                       R"({"domains":["alpha-bakery.com","bella-pizzeria.com"]})");
  ASSERT_EQ(sitemaps.status, 202);
  auto sitemap_counts =
      call(server.port, "GET", "/api/v3/batches/" + str(sitemaps.body, "batch_id"));
  ASSERT_EQ(sitemap_counts.status, 200);
  EXPECT_EQ(sitemap_counts.body.at("job_type").as_string(), "sitemap");
  EXPECT_EQ(sitemap_counts.body.at("total").as_int64(), 2);
  EXPECT_NE(str(sitemaps.body, "batch_id"), batch_id);
  EXPECT_EQ(call(server.port, "GET", "/api/v3/batches/0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b").status,
            404);
  EXPECT_EQ(call(server.port, "GET", "/api/v3/batches/not-a-uuid").status, 400);
}

// A work step's own log lines (its fetches, from whichever thread resumed it) carry the item's
// queue, id and attempt, like the engine's lines about the item.
TEST_F(pipeline, a_work_steps_log_lines_carry_its_item) {
  auto server = start({{"LOG_FORMAT", "json"}, {"LOG_LEVEL", "debug"}});
  auto one = call(server.port, "POST", "/api/v3/modernized/page/scrape/single",
                  R"({"url":"http://corner-dental.com/contact-us"})");
  ASSERT_EQ(one.status, 202);
  const auto id = str(one.body, "job_id");
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status = 'Completed'", 1));
  auto line = server.process->wait_for_line("GET http://corner-dental.com/contact-us -> 200", 10s);
  ASSERT_TRUE(line.has_value()) << server.process->output();
  auto start = line->find('{');
  ASSERT_NE(start, std::string::npos) << *line;
  const auto o = json::parse(line->substr(start)).as_object();
  EXPECT_EQ(o.at("level").as_string(), "debug");
  EXPECT_EQ(o.at("queue").as_string(), "page_scrape");
  EXPECT_EQ(o.at("item_id").as_string(), id);
  EXPECT_EQ(o.at("attempt").as_int64(), 1);
}

TEST_F(pipeline, bad_input_gets_4xx_and_changes_nothing) {
  // An API-only node: nothing is processed, so every row the requests could write stays visible.
  auto server = start_server(db.url(), web.server_env({{"API_MAX_BATCH_ITEMS", "3"}}), "api");
  call(server.port, "POST", "/api/v3/domains", R"({"domains":["alpha-bakery.com"]})");
  auto domain_id = scalar(db.url(), "SELECT id FROM domains");
  auto before = all_rows(db.url());
  struct bad {
    std::string method, target, body;
    int status;
    std::string error;
  };
  const std::string unknown = "00000000-0000-4000-8000-000000000000";
  std::vector<bad> cases{
      {"POST", "/api/v3/places/search", "{not json", 400, "invalid_json"},
      {"POST", "/api/v3/places/search", "[1,2]", 400, "invalid_body"},
      {"POST", "/api/v3/places/search", R"({"business_type":7,"location":"x"})", 400,
       "invalid_field"},
      {"POST", "/api/v3/places/search", R"({"location":"x"})", 400, "missing_field"},
      {"POST", "/api/v3/email-scan/scan/website", R"({"domain_id":"nope"})", 400, "invalid_field"},
      {"POST", "/api/v3/email-scan/scan/website", R"({"domain_id":")" + unknown + R"("})", 404,
       "not_found"},
      {"POST", "/api/v3/modernized/page/scrape/single", R"({"url":"ftp://example.com/x"})", 400,
       "invalid_url"},
      {"POST", "/api/v3/modernized/page/scrape/single", R"({"url":"not a url"})", 400,
       "invalid_url"},
      {"POST", "/api/v3/batch/page-scraper",
       R"({"urls":["http://a.com/","http://b.com/","http://c.com/","http://d.com/"]})", 400,
       "too_many_items"},
      {"POST", "/api/v3/batch/page-scraper",
       R"j({"urls":["http://a.com/","javascript:alert(1)"]})j", 400, "invalid_url"},
      {"POST", "/api/v3/batch/page-scraper", R"({"urls":[]})", 400, "invalid_field"},
      {"POST", "/api/v3/domains", R"({"domains":["good.com","bad domain!"]})", 400,
       "invalid_domain"},
      {"POST", "/api/v3/sitemap/batch/create", R"({"domains":"example.com"})", 400,
       "invalid_field"},
      {"PUT", "/api/v3/domains/sitemap-curation/status",
       R"({"ids":[")" + domain_id + R"("],"status":"Chosen"})", 400, "invalid_field"},
      {"PUT", "/api/v3/domains/sitemap-curation/status",
       R"({"ids":[")" + domain_id + R"(",")" + unknown + R"("],"status":"Selected"})", 404,
       "not_found"},
      {"PUT", "/api/v3/places/staging/status", R"({"ids":["x"],"status":"Selected"})", 400,
       "invalid_field"},
      {"GET", "/api/v3/jobs?status=Done", "", 400, "invalid_query"},
      {"GET", "/api/v3/jobs?limit=0", "", 400, "invalid_query"},
      {"GET", "/api/v3/domains?status=Queued&limit=abc", "", 400, "invalid_query"},
      {"GET", "/api/v3/contacts?domain_id=1", "", 400, "invalid_query"},
      {"GET", "/api/v3/email-scan/scan/status/" + unknown, "", 404, "not_found"},
  };
  for (const auto& c : cases) {
    auto r = call(server.port, c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << c.body;
    ASSERT_TRUE(r.body.is_object()) << c.target;
    EXPECT_EQ(r.body.at("error").as_string(), c.error) << c.target << " " << c.body;
    EXPECT_TRUE(r.body.as_object().contains("detail"));
  }
  EXPECT_EQ(all_rows(db.url()), before);
  EXPECT_EQ(scalar(db.url(), "SELECT sitemap_curation_status::text FROM domains"), "New");
  // Without a token nothing is even routed.
  auto anonymous = raw_exchange(
      server.port, make_request("POST", "/api/v3/domains", {}, R"({"domains":["x.com"]})"));
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(all_rows(db.url()), before);
}

// An email scan renders the pages whose scripts write the addresses (here asked per request;
// the queue's default is auto, turned off for the other tests): what a visitor sees is found,
// and a scan that reads pages as served finds neither address.
TEST_F(pipeline, email_scans_render_pages_whose_scripts_write_the_addresses) {
  auto server = start();
  auto added =
      call(server.port, "POST", "/api/v3/domains", R"({"domains":["scripted-studio.com"]})");
  ASSERT_EQ(added.status, 202);
  const auto domain = std::string(added.body.at("domains").at(0).at("id").as_string());
  auto refused = call(server.port, "POST", "/api/v3/email-scan/scan/website",
                      R"({"domain_id":")" + domain + R"(","render":"sometimes"})");
  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(str(refused.body, "error"), "invalid_field");
  const auto scan = [&](const std::string& mode) {
    auto r = call(server.port, "POST", "/api/v3/email-scan/scan/website",
                  R"({"domain_id":")" + domain + R"(","render":")" + mode + R"("})");
    EXPECT_EQ(r.status, 202) << json::serialize(r.body);
    const auto job = str(r.body, "job_id");
    EXPECT_TRUE(eventually(
        [&] {
          return str(call(server.port, "GET", "/api/v3/email-scan/scan/status/" + job).body,
                     "status") == "Completed";
        },
        60s))
        << mode;
    return call(server.port, "GET", "/api/v3/email-scan/scan/status/" + job).body;
  };
  auto served = scan("off");
  EXPECT_EQ(json::serialize(served.at("emails")), "[]");
  EXPECT_EQ(served.at("result_data").at("pages_rendered").as_int64(), 0);
  auto rendered = scan("auto");
  EXPECT_EQ(json::serialize(rendered.at("emails")),
            R"(["sales@scripted-studio.com","studio@scripted-studio.com"])");
  const auto& result = rendered.at("result_data").as_object();
  EXPECT_EQ(result.at("pages_rendered").as_int64(), 1) << json::serialize(result);
  EXPECT_EQ(result.at("render_failures").as_int64(), 0);
  bool contact_rendered = false;
  for (const auto& page : result.at("pages").as_array())
    if (page.as_object().contains("render")) {
      const auto& render = page.at("render").as_object();
      EXPECT_EQ(render.at("reason").as_string(), "scripts_write_markup");
      EXPECT_EQ(render.at("emails_added").as_int64(), 2);
      contact_rendered = page.at("url").as_string() == "http://scripted-studio.com/contact";
    }
  EXPECT_TRUE(contact_rendered);
  EXPECT_EQ(
      count(db.url(), "SELECT count(*) FROM contacts WHERE email LIKE '%@scripted-studio.com'"), 2);
}

TEST_F(pipeline, a_second_email_scan_of_a_domain_returns_the_active_job) {
  auto server = start_server(db.url(), web.server_env(), "api");
  call(server.port, "POST", "/api/v3/domains", R"({"domains":["alpha-bakery.com"]})");
  auto body = R"({"domain_id":")" + scalar(db.url(), "SELECT id FROM domains") + R"("})";
  auto first = call(server.port, "POST", "/api/v3/email-scan/scan/website", body);
  auto second = call(server.port, "POST", "/api/v3/email-scan/scan/website", body);
  ASSERT_EQ(first.status, 202);
  ASSERT_EQ(second.status, 202);
  EXPECT_EQ(str(first.body, "job_id"), str(second.body, "job_id"));
  EXPECT_FALSE(first.body.at("existing").as_bool());
  EXPECT_TRUE(second.body.at("existing").as_bool());
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE job_type = 'email_scan'"), 1);
  // Once that scan is over, a new request starts a new one.
  count(db.url(), "UPDATE jobs SET status = 'Completed', finished_at = now() RETURNING 1");
  auto third = call(server.port, "POST", "/api/v3/email-scan/scan/website", body);
  EXPECT_NE(str(third.body, "job_id"), str(first.body, "job_id"));
}

// The seeds' whole pipeline, driven only through the API as a user would.
TEST_F(pipeline, whole_pipeline_from_places_search_to_email_scan) {
  auto server = start();
  auto items = [&](const std::string& target) {
    auto r = call(server.port, "GET", target);
    EXPECT_EQ(r.status, 200) << target;
    return r.body.at("items").as_array();
  };
  auto ids_of = [](const json::array& rows, const std::function<bool(const json::object&)>& keep) {
    json::array ids;
    for (const auto& row : rows)
      if (keep(row.as_object()))
        ids.push_back(row.at("id"));
    return json::serialize(ids);
  };
  auto until = [&](const std::string& target, std::size_t n) {
    return eventually([&] { return items(target).size() == n; }, 30s);
  };
  auto search = call(server.port, "POST", "/api/v3/places/search",
                     R"({"business_type":"shop","location":"Springfield"})");
  ASSERT_EQ(search.status, 202);
  auto job = str(search.body, "job_id");
  ASSERT_TRUE(until("/api/v3/places/staging?limit=500&search_job_id=" + job, 25));
  // Select the three demo businesses for a deep scan.
  auto staging = items("/api/v3/places/staging?limit=500&search_job_id=" + job);
  auto demo = [](const json::object& row) {
    auto place = std::string(row.at("place_id").as_string());
    return place.ends_with("-0") || place.ends_with("-1") || place.ends_with("-2");
  };
  ASSERT_EQ(call(server.port, "PUT", "/api/v3/places/staging/status",
                 R"({"status":"Selected","ids":)" + ids_of(staging, demo) + "}")
                .status,
            200);
  ASSERT_TRUE(until("/api/v3/local-businesses", 3));
  auto businesses = items("/api/v3/local-businesses");
  ASSERT_EQ(
      call(server.port, "PUT", "/api/v3/local-businesses/status",
           R"({"status":"Selected","ids":)" + ids_of(businesses, [](auto&) { return true; }) + "}")
          .status,
      200);
  ASSERT_TRUE(until("/api/v3/domains?status=Completed", 3));
  auto domains = items("/api/v3/domains?status=Completed");
  ASSERT_EQ(
      call(server.port, "PUT", "/api/v3/domains/sitemap-curation/status",
           R"({"status":"Selected","ids":)" + ids_of(domains, [](auto&) { return true; }) + "}")
          .status,
      200);
  ASSERT_TRUE(until("/api/v3/domains?sitemap_analysis_status=Completed", 3));
  ASSERT_TRUE(until("/api/v3/jobs?type=sitemap&status=Completed", 3));
  auto files = items("/api/v3/sitemap-files");
  ASSERT_EQ(files.size(), 4u);
  ASSERT_EQ(
      call(server.port, "PUT", "/api/v3/sitemap-files/status",
           R"({"status":"Selected","ids":)" +
               ids_of(files,
                      [](const json::object& f) { return f.at("sitemap_type") == "urlset"; }) +
               "}")
          .status,
      200);
  ASSERT_TRUE(until("/api/v3/sitemap-files?sitemap_import_status=Completed", 3));
  EXPECT_EQ(items("/api/v3/pages?limit=500").size(), 35u);
  std::vector<std::string> scans;
  for (const auto& d : domains) {
    auto r = call(server.port, "POST", "/api/v3/email-scan/scan/website",
                  R"({"domain_id":")" + std::string(d.at("id").as_string()) + R"("})");
    ASSERT_EQ(r.status, 202);
    scans.push_back(str(r.body, "job_id"));
  }
  for (const auto& scan : scans)
    ASSERT_TRUE(eventually(
        [&] {
          return str(call(server.port, "GET", "/api/v3/email-scan/scan/status/" + scan).body,
                     "status") == "Completed";
        },
        30s));
  EXPECT_EQ(items("/api/v3/contacts?limit=500").size(), 8u);
  auto queues = call(server.port, "GET", "/api/v3/queues");
  for (const auto& q : queues.body.at("queues").as_array())
    EXPECT_EQ(q.at("totals").at("failed").as_int64(), 0) << json::serialize(q);
}

TEST_F(pipeline, lists_are_newest_first_and_paginate) {
  auto server = start_server(db.url(), web.server_env(), "api");
  std::vector<std::string> created;
  for (int i = 0; i < 5; ++i) {
    auto r = call(server.port, "POST", "/api/v3/modernized/page/scrape/single",
                  R"({"url":"http://alpha-bakery.com/p)" + std::to_string(i) + R"("})");
    ASSERT_EQ(r.status, 202);
    created.push_back(str(r.body, "job_id"));
    std::this_thread::sleep_for(2ms); // ids are time-ordered to the millisecond
  }
  auto first = call(server.port, "GET", "/api/v3/jobs?type=page_scrape&limit=2");
  ASSERT_EQ(first.status, 200);
  const auto& items = first.body.at("items").as_array();
  ASSERT_EQ(items.size(), 2u);
  EXPECT_EQ(items[0].at("id").as_string(), created[4]);
  EXPECT_EQ(items[1].at("id").as_string(), created[3]);
  EXPECT_TRUE(first.body.at("has_more").as_bool());
  auto last = call(server.port, "GET", "/api/v3/jobs?type=page_scrape&limit=2&offset=4");
  ASSERT_EQ(last.body.at("items").as_array().size(), 1u);
  EXPECT_EQ(last.body.at("items").as_array()[0].at("id").as_string(), created[0]);
  EXPECT_FALSE(last.body.at("has_more").as_bool());
  EXPECT_EQ(
      call(server.port, "GET", "/api/v3/jobs?status=Completed").body.at("items").as_array().size(),
      0u);
}

// A fetch that times out is a transient failure: retried with backoff, then Error with the
// reason; the worker is free again meanwhile and other items go on. The slow page answers after
// 5 s; the timeout leaves the other page ample time on a loaded machine.
// Keyset pages: following next_cursor visits every row once, in the order of one long page,
// for every sort (ties and NULLs included), and rows added meanwhile ahead of the cursor neither
// repeat nor shift what follows, as offsets would.
TEST_F(pipeline, lists_page_by_cursor_in_every_order_without_gaps_or_repeats) {
  auto server = start_server(db.url(), web.server_env(), "api");
  const auto insert_domains = [&](int from, int n) {
    pqxx::connection c(db.url());
    pqxx::nontransaction(c).exec_params(
        "INSERT INTO domains (domain, status, title) SELECT 'cursor' || i || '.example', "
        "(ARRAY['Queued','Completed','Error'])[1 + i % 3]::domain_extraction_status_enum, "
        "(ARRAY[NULL,'a','b','c'])[1 + i % 4] FROM generate_series($1::int, $2::int) AS i",
        from, from + n - 1);
  };
  insert_domains(0, 130);
  const auto ids_of = [](const json::value& body) {
    std::vector<std::string> ids;
    for (const auto& item : body.at("items").as_array())
      ids.emplace_back(item.at("id").as_string());
    return ids;
  };
  for (std::string order : {"", "&sort=created_at&order=asc", "&sort=title&order=asc",
                            "&sort=title&order=desc", "&sort=status", "&sort=domain&order=desc"}) {
    auto whole = call(server.port, "GET", "/api/v3/domains?limit=500" + order);
    ASSERT_EQ(whole.status, 200) << order;
    const auto expected = ids_of(whole.body);
    ASSERT_EQ(expected.size(), 130u) << order;
    EXPECT_FALSE(whole.body.as_object().contains("next_cursor"));
    std::vector<std::string> paged;
    std::string target = "/api/v3/domains?limit=7" + order;
    for (int pages = 0; pages < 40; ++pages) {
      auto page = call(server.port, "GET", target);
      ASSERT_EQ(page.status, 200) << order << " " << json::serialize(page.body);
      auto ids = ids_of(page.body);
      paged.insert(paged.end(), ids.begin(), ids.end());
      const auto& o = page.body.as_object();
      if (!o.at("has_more").as_bool()) {
        EXPECT_FALSE(o.contains("next_cursor"));
        break;
      }
      ASSERT_EQ(ids.size(), 7u);
      // The first page leads on both ways; a page reached by cursor, by cursor only.
      EXPECT_EQ(o.contains("next_offset"), pages == 0) << order;
      target = "/api/v3/domains?limit=7" + order + "&cursor=" + str(page.body, "next_cursor");
    }
    EXPECT_EQ(paged, expected) << order;
  }
  // Newest first, with rows added after the first page: they sort ahead of the cursor.
  auto first = call(server.port, "GET", "/api/v3/domains?limit=50");
  ASSERT_EQ(first.status, 200);
  EXPECT_EQ(first.body.at("next_offset").as_int64(), 50);
  const auto before_insert = ids_of(call(server.port, "GET", "/api/v3/domains?limit=500").body);
  insert_domains(1000, 5);
  auto rest = call(server.port, "GET",
                   "/api/v3/domains?limit=500&cursor=" + str(first.body, "next_cursor"));
  ASSERT_EQ(rest.status, 200);
  auto seen = ids_of(first.body);
  auto more = ids_of(rest.body);
  seen.insert(seen.end(), more.begin(), more.end());
  EXPECT_EQ(seen, before_insert);
  // Refusals: a cursor of another order, a cursor with an offset, a forged or mangled one.
  const auto cursor = str(first.body, "next_cursor");
  for (const std::string& bad :
       {"/api/v3/domains?sort=title&cursor=" + cursor, "/api/v3/domains?offset=5&cursor=" + cursor,
        "/api/v3/domains?cursor=" + cursor.substr(0, cursor.size() - 3) + "%21",
        std::string("/api/v3/domains?cursor=e30")}) {
    auto r = call(server.port, "GET", bad);
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(str(r.body, "error"), "invalid_query") << bad;
  }
}

// Host-aware due times: a large site's pages, submitted first and site by site, are booked one
// politeness slot apart, so a small site submitted after them is due at once and finishes while
// the large site's backlog is still running. (Claimed in submission order, its pages would wait
// for all of the large site's.)
TEST_F(pipeline, a_small_sites_pages_finish_while_a_large_sites_backlog_runs) {
  auto server = start({{"FETCH_PER_HOST_DELAY_MS", "20"}});
  const auto batch_of = [](const std::string& host, int pages) {
    std::string body = R"({"urls":[)";
    for (int i = 0; i < pages; ++i)
      body +=
          (i ? ",\"" : "\"") + std::string("http://") + host + "/page/" + std::to_string(i) + "\"";
    return body + "]}";
  };
  auto large =
      call(server.port, "POST", "/api/v3/batch/page-scraper", batch_of("large-site.com", 300));
  ASSERT_EQ(large.status, 202);
  auto small =
      call(server.port, "POST", "/api/v3/batch/page-scraper", batch_of("small-site.com", 5));
  ASSERT_EQ(small.status, 202);
  const auto small_batch = "/api/v3/batches/" + str(small.body, "batch_id");
  ASSERT_TRUE(eventually(
      [&] { return call(server.port, "GET", small_batch).body.at("done").as_bool(); }, 30s));
  const auto large_finished =
      call(server.port, "GET", "/api/v3/batches/" + str(large.body, "batch_id"))
          .body.at("finished")
          .as_int64();
  EXPECT_LT(large_finished, 200) << "the small site waited for the large one's backlog";
  // The large site's pages are not starved either: all of them finish.
  EXPECT_TRUE(eventually(
      [&] {
        return call(server.port, "GET", "/api/v3/batches/" + str(large.body, "batch_id"))
            .body.at("done")
            .as_bool();
      },
      60s));
  // Slots booked for pages since cancelled are not given back; a new booking starts at most an
  // hour ahead all the same.
  {
    pqxx::connection c(db.url());
    pqxx::nontransaction(c).exec("UPDATE host_schedule SET next_at = now() + interval '10 hours' "
                                 "WHERE host = 'small-site.com'");
  }
  auto later =
      call(server.port, "POST", "/api/v3/batch/page-scraper", batch_of("small-site.com", 1));
  ASSERT_EQ(later.status, 202);
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM jobs WHERE batch_id = '" +
                                str(later.body, "batch_id") +
                                "' AND next_attempt_at BETWEEN now() + interval '59 minutes' AND "
                                "now() + interval '61 minutes'"),
            1);
}

TEST_F(pipeline, fetch_timeouts_are_retried_then_fail_without_holding_up_other_work) {
  auto server = start({{"FETCH_TOTAL_TIMEOUT_SECONDS", "3"},
                       {"PAGE_SCRAPE_SCHEDULER_MAX_ATTEMPTS", "2"},
                       {"PAGE_SCRAPE_SCHEDULER_MAX_INSTANCES", "1"}});
  auto slow = call(server.port, "POST", "/api/v3/modernized/page/scrape/single",
                   R"({"url":"http://traps.test/slow"})");
  auto fine = call(server.port, "POST", "/api/v3/modernized/page/scrape/single",
                   R"({"url":"http://alpha-bakery.com/"})");
  ASSERT_EQ(slow.status, 202);
  ASSERT_EQ(fine.status, 202);
  ASSERT_TRUE(
      wait_count(db.url(), "SELECT count(*) FROM jobs WHERE status IN ('Completed', 'Error')", 2));
  auto slow_id = str(slow.body, "job_id");
  EXPECT_EQ(
      scalar(db.url(), "SELECT status || ' ' || attempts FROM jobs WHERE id = '" + slow_id + "'"),
      "Error 2");
  EXPECT_NE(scalar(db.url(), "SELECT lower(error) FROM jobs WHERE id = '" + slow_id + "'")
                .find("timed out"),
            std::string::npos);
  EXPECT_EQ(
      scalar(db.url(), "SELECT status FROM jobs WHERE id = '" + str(fine.body, "job_id") + "'"),
      "Completed");
}

// hostile.test's pages hold 250,000 tel: links, 50,000 links and 500,000 addresses per contact
// page. A scan of it must stay within the caps, say what it cut, answer small, and give its memory
// back.
TEST_F(pipeline, hostile_site_is_scanned_within_bounds_and_memory_comes_back) {
  // ASan keeps up to 256 MB of freed memory in its quarantine; a small one lets RSS show what the
  // server really holds. Ignored by builds without ASan.
  const char* asan = std::getenv("ASAN_OPTIONS");
  // Three contact pages (600 addresses at 200 a page) are enough to pass the crawl's cap of 500.
  auto server = start({{"ASAN_OPTIONS", std::string(asan ? asan : "") + ":quarantine_size_mb=8"},
                       {"CRAWL_MAX_PAGES", "4"},
                       {"CRAWL_MAX_EMAILS", "500"}});
  const int pid = server.process->pid();
  auto rss_kb = [&] { return proc_status_kb(pid, "VmRSS").value_or(0); };

  // Warm up with an ordinary scan, so that pools, threads and caches exist before the baseline.
  auto scan_of = [&](const std::string& domain) {
    auto d = call(server.port, "POST", "/api/v3/domains", R"({"domains":[")" + domain + R"("]})");
    auto domain_id = str(d.body.at("domains").as_array()[0], "id");
    auto r = call(server.port, "POST", "/api/v3/email-scan/scan/website",
                  R"({"domain_id":")" + domain_id + R"("})");
    EXPECT_EQ(r.status, 202) << json::serialize(r.body);
    return str(r.body, "job_id");
  };
  auto finished = [&](const std::string& job) {
    return "SELECT count(*) FROM jobs WHERE id = '" + job +
           "' AND status IN ('Completed', 'Error')";
  };
  auto warm = scan_of("alpha-bakery.com");
  ASSERT_TRUE(wait_count(db.url(), finished(warm), 1, 60s));
  ASSERT_TRUE(wait_count(db.url(), "SELECT count(*) FROM domains WHERE status = 'Completed'", 1));
  server.process->drain_output();
  const long baseline_kb = rss_kb();
  ASSERT_GT(baseline_kb, 0);
  const bool peak_tracked = reset_peak_rss(pid);
  long peak_kb = baseline_kb;

  auto job = scan_of("hostile.test");
  ASSERT_TRUE(eventually(
      [&] {
        server.process->drain_output();
        peak_kb = std::max(peak_kb, rss_kb());
        return count(db.url(), finished(job)) == 1 &&
               count(db.url(), "SELECT count(*) FROM domains WHERE status IN ('Completed', "
                               "'Error')") == 2;
      },
      300s));
  if (peak_tracked)
    peak_kb = std::max(peak_kb, proc_status_kb(pid, "VmHWM").value_or(0));
  EXPECT_EQ(scalar(db.url(), "SELECT status FROM jobs WHERE id = '" + job + "'"), "Completed");

  // Rows and result_data within the caps (500 addresses per scan, the default 1 MB of result_data).
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM contacts WHERE job_id = '" + job + "'"), 500);
  EXPECT_LE(
      count(db.url(), "SELECT octet_length(result_data::text) FROM jobs WHERE id = '" + job + "'"),
      1 << 20);
  auto limits_hit =
      scalar(db.url(), "SELECT result_data->'limits_hit' FROM jobs WHERE id = '" + job + "'");
  for (const char* limit :
       {"emails_per_page", "emails_per_job", "links_per_page", "tel_links_per_page"})
    EXPECT_NE(limits_hit.find(limit), std::string::npos) << limit << " not in " << limits_hit;
  // The homepage's metadata row is bounded too.
  EXPECT_LE(count(db.url(), "SELECT jsonb_array_length(phones) FROM domains WHERE domain = "
                            "'hostile.test'"),
            200);

  // Every answer about the scan is small.
  const std::vector<std::string> answers{
      "/api/v3/email-scan/scan/status/" + job, "/api/v3/jobs/" + job,
      "/api/v3/contacts?limit=500&job_id=" + job, "/api/v3/domains?limit=500"};
  for (const auto& target : answers) {
    auto r = raw_exchange(
        server.port, make_request("GET", target,
                                  {{"Authorization",
                                    "Bearer " + http::mint_token(k_user, k_test_jwt_secret, 300s)}},
                                  ""));
    EXPECT_EQ(r.status, 200) << target;
    EXPECT_LE(r.body.size(), 3u << 20) << target;
  }

  // Unbounded, this scan held hundreds of MB (500,000 addresses in JSON, SQL arrays and rows; a
  // parse tree of the homepage per analysis). Bounded, the server holds the fetched pages (3 x 6.5
  // MB) and what one page's analysis keeps: well under 100 MB even under ASan.
  const long growth_mb = (peak_kb - baseline_kb) / 1024;
  EXPECT_LT(growth_mb, 256) << "baseline " << baseline_kb / 1024 << " MB, peak " << peak_kb / 1024
                            << " MB";
  // ... and gives it back once the scan is over.
  long settled_kb = 0;
  EXPECT_TRUE(eventually(
      [&] {
        server.process->drain_output();
        settled_kb = rss_kb();
        return settled_kb <= baseline_kb + (64 << 10);
      },
      60s))
      << "baseline " << baseline_kb / 1024 << " MB, still " << settled_kb / 1024 << " MB";
}

// Rows can be big (a hostile site's addresses, a result stored before its cap existed); answers
// stay small all the same.
TEST_F(pipeline, big_rows_make_no_big_answers) {
  auto server = start_server(
      db.url(),
      web.server_env({{"API_LIST_MAX_BYTES", "16384"}, {"RESULT_DATA_MAX_BYTES", "4096"}}), "api");
  call(server.port, "POST", "/api/v3/domains", R"({"domains":["alpha-bakery.com"]})");
  auto domain_id = scalar(db.url(), "SELECT id FROM domains");
  // 300 contacts of some 250 bytes each: a page of 500 would be 75 KB.
  count(db.url(), "INSERT INTO contacts (domain_id, email, source_url) SELECT '" + domain_id +
                      "', 'user' || i || '@example.com', 'http://alpha-bakery.com/' || "
                      "repeat('x', 150) FROM generate_series(1, 300) i RETURNING 1");
  auto first = raw_exchange(
      server.port,
      make_request(
          "GET", "/api/v3/contacts?limit=500",
          {{"Authorization", "Bearer " + http::mint_token(k_user, k_test_jwt_secret, 300s)}}, ""));
  ASSERT_EQ(first.status, 200);
  EXPECT_LE(first.body.size(), 16384u + 1024u); // the cap and the row that crossed it
  auto page = json::parse(first.body);
  const auto& items = page.at("items").as_array();
  ASSERT_GT(items.size(), 10u);
  ASSERT_LT(items.size(), 300u);
  EXPECT_TRUE(page.at("has_more").as_bool());
  ASSERT_EQ(page.at("next_offset").as_int64(), static_cast<std::int64_t>(items.size()));
  // The next page starts where this one stopped.
  auto next =
      call(server.port, "GET", "/api/v3/contacts?limit=500&offset=" + std::to_string(items.size()));
  ASSERT_EQ(next.status, 200);
  auto next_first = next.body.at("items").as_array().at(0).at("id");
  EXPECT_EQ(count(db.url(), "SELECT count(*) FROM contacts WHERE id > '" +
                                std::string(next_first.as_string()) + "'"),
            static_cast<long long>(items.size()));

  // A result_data larger than the cap is shown as a note with its size.
  auto job = insert_jobs(db.url(), 1, "{}", "email_scan")[0];
  count(db.url(), "UPDATE jobs SET domain_id = '" + domain_id +
                      "', result_data = jsonb_build_object('emails', (SELECT jsonb_agg('user' || i "
                      "|| '@example.com') FROM generate_series(1, 1000) i)) WHERE id = '" +
                      job + "' RETURNING 1");
  for (const auto& target :
       std::vector<std::string>{"/api/v3/jobs/" + job, "/api/v3/email-scan/scan/status/" + job}) {
    auto shown = call(server.port, "GET", target);
    ASSERT_EQ(shown.status, 200) << target;
    const auto& result = shown.body.at("result_data");
    EXPECT_EQ(json::serialize(result.at("limits_hit")), R"(["result_data"])") << target;
    EXPECT_GT(result.at("result_bytes").as_int64(), 4096) << target;
  }
}
