// The real binary over real sockets: health, readiness, auth, protocol errors, limits, SIGTERM.
#include "http/jwt.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <boost/json.hpp>
#include <csignal>
#include <gtest/gtest.h>
#include <pqxx/pqxx>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;

namespace {

class server_test : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    db_ = new scoped_database();
    // API role: the HTTP layer alone, so rows a test inserts stay as inserted.
    server_ = new running_server(start_server(db_->url(),
                                              {{"HTTP_MAX_BODY_BYTES", "1024"},
                                               {"HTTP_MAX_HEADER_BYTES", "2048"},
                                               {"HTTP_REQUEST_TIMEOUT_SECONDS", "2"}},
                                              "api"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete db_;
  }
  static int port() { return server_->port; }
  static std::string bearer(std::chrono::seconds ttl = 300s) {
    return "Bearer " +
           http::mint_token("6f1c2a4e-6b7a-4c53-9a0e-2f2d3c4b5a69", k_test_jwt_secret, ttl);
  }
  static boost::json::object json_of(const raw_response& r) {
    return boost::json::parse(r.body).as_object();
  }
  static inline scoped_database* db_ = nullptr;
  static inline running_server* server_ = nullptr;
};

} // namespace

TEST_F(server_test, health_and_ready) {
  auto h = raw_exchange(port(), make_request("GET", "/health"));
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.headers["content-type"], "application/json");
  EXPECT_EQ(json_of(h).at("status").as_string(), "ok");
  auto r = raw_exchange(port(), make_request("GET", "/ready"));
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_EQ(json_of(r).at("database").as_string(), "ok");
  EXPECT_EQ(json_of(r).at("actors").as_string(), "ok");
}

TEST_F(server_test, api_requires_a_valid_bearer_token) {
  auto missing = raw_exchange(port(), make_request("GET", "/api/v3/queues"));
  EXPECT_EQ(missing.status, 401);
  EXPECT_EQ(json_of(missing).at("error").as_string(), "unauthorized");
  auto expired = raw_exchange(
      port(),
      make_request("GET", "/api/v3/queues",
                   {{"Authorization",
                     "Bearer " + http::mint_token("u", k_test_jwt_secret, 60s,
                                                  std::chrono::system_clock::now() - 1h)}}));
  EXPECT_EQ(expired.status, 401);
  EXPECT_EQ(json_of(expired).at("detail").as_string(), "token expired");
  auto wrong = raw_exchange(
      port(),
      make_request("GET", "/api/v3/queues",
                   {{"Authorization",
                     "Bearer " + http::mint_token("u", "some-other-secret-that-is-long-x", 60s)}}));
  EXPECT_EQ(wrong.status, 401);
  auto none = raw_exchange(
      port(),
      make_request("GET", "/api/v3/queues",
                   {{"Authorization",
                     "Bearer " + http::base64url_encode(R"({"alg":"none"})") + "." +
                         http::base64url_encode(R"({"sub":"u","exp":9999999999})") + "."}}));
  EXPECT_EQ(none.status, 401);
  auto ok =
      raw_exchange(port(), make_request("GET", "/api/v3/queues", {{"Authorization", bearer()}}));
  ASSERT_EQ(ok.status, 200) << ok.raw;
  auto queues = json_of(ok).at("queues").as_array();
  EXPECT_EQ(queues.size(), 9u);
}

// Raw request targets (as `curl --path-as-is` sends them) that spell a protected route some other
// way: none may run a handler, with or without a token, and nothing is written.
TEST_F(server_test, odd_path_spellings_never_bypass_the_token_or_write) {
  const std::vector<std::string> reads = {
      "//api/v3/queues",   "/api//v3/queues",   "/api/v3/queues/",
      "/./api/v3/queues",  "/api/v3/./queues",  "/x/../api/v3/queues",
      "/%2Fapi/v3/queues", "/api%2Fv3/queues",  "/%61pi/v3/queues/",
      "/API/v3/queues",    "/api/V3/queues",    "/health/../api/v3/queues",
      "/api/v3/queues%00", "/api/v3/queues%2F", "/api/v3/%2e%2e/v3/queues"};
  for (const auto& target : reads) {
    auto r = raw_exchange(port(), make_request("GET", target));
    EXPECT_TRUE(r.status == 400 || r.status == 401) << target << " -> " << r.raw;
  }
  const std::vector<std::string> writes = {"//api/v3/domains",
                                           "/api//v3/domains",
                                           "/api/v3/domains/",
                                           "/./api/v3/domains",
                                           "/API/v3/domains",
                                           "/api/v3/x/../domains",
                                           "/api%2Fv3%2Fdomains",
                                           "/%2e/api/v3/domains",
                                           "//api/v3/modernized/page/scrape/single",
                                           "/api/v3/modernized/page/scrape/single/",
                                           "/api/v3/modernized//page/scrape/single",
                                           "/Api/v3/modernized/page/scrape/single"};
  const std::string domains_body = R"({"domains":["odd-spelling.example.org"]})";
  const std::string page_body = R"({"url":"https://odd-spelling.example.org/"})";
  for (const auto& target : writes) {
    const auto& body = target.find("page") != std::string::npos ? page_body : domains_body;
    for (const auto& auth : {std::string(), bearer()}) {
      std::map<std::string, std::string> headers{{"Content-Type", "application/json"}};
      if (!auth.empty())
        headers["Authorization"] = auth;
      auto r = raw_exchange(port(), make_request("POST", target, headers, body));
      EXPECT_TRUE(r.status == 400 || r.status == 401 || r.status == 404)
          << "POST " << target << (auth.empty() ? "" : " (token)") << " -> " << r.raw;
    }
  }
  pqxx::connection c(db_->url());
  pqxx::read_transaction tx(c);
  EXPECT_EQ(
      tx.exec("SELECT count(*) FROM domains WHERE domain LIKE 'odd-spelling%'")[0][0].as<long>(),
      0);
  EXPECT_EQ(tx.exec("SELECT count(*) FROM jobs WHERE params->>'url' LIKE '%odd-spelling%'")[0][0]
                .as<long>(),
            0);
}

TEST_F(server_test, job_lookup_reads_the_database) {
  std::string id;
  {
    pqxx::connection c(db_->url());
    pqxx::work tx(c);
    id = tx.exec("INSERT INTO jobs (job_type, params) VALUES ('page_scrape', "
                 "'{\"url\":\"https://example.com\"}') RETURNING id")[0][0]
             .as<std::string>();
    tx.commit();
  }
  auto r = raw_exchange(port(),
                        make_request("GET", "/api/v3/jobs/" + id, {{"Authorization", bearer()}}));
  ASSERT_EQ(r.status, 200) << r.raw;
  auto job = json_of(r);
  EXPECT_EQ(job.at("id").as_string(), id);
  EXPECT_EQ(job.at("status").as_string(), "Queued");
  EXPECT_EQ(job.at("params").as_object().at("url").as_string(), "https://example.com");
  auto missing =
      raw_exchange(port(), make_request("GET", "/api/v3/jobs/00000000-0000-0000-0000-000000000000",
                                        {{"Authorization", bearer()}}));
  EXPECT_EQ(missing.status, 404);
  auto bad = raw_exchange(
      port(), make_request("GET", "/api/v3/jobs/not-a-uuid", {{"Authorization", bearer()}}));
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(json_of(bad).at("error").as_string(), "invalid_id");
}

TEST_F(server_test, not_found_and_method_not_allowed) {
  auto nf = raw_exchange(port(), make_request("GET", "/nothing"));
  EXPECT_EQ(nf.status, 404);
  EXPECT_EQ(json_of(nf).at("error").as_string(), "not_found");
  auto na = raw_exchange(port(), make_request("POST", "/health"));
  EXPECT_EQ(na.status, 405);
  EXPECT_EQ(na.headers["allow"], "GET");
  EXPECT_EQ(json_of(na).at("error").as_string(), "method_not_allowed");
}

TEST_F(server_test, oversized_body_gets_413_before_it_is_read) {
  auto r =
      raw_exchange(port(), make_request("POST", "/api/v3/domains", {{"Authorization", bearer()}},
                                        std::string(4096, 'x')));
  EXPECT_EQ(r.status, 413) << r.raw;
  EXPECT_EQ(json_of(r).at("error").as_string(), "payload_too_large");
  // A declared length over the limit is refused from the header alone.
  auto declared = raw_exchange(port(), "POST /api/v3/domains HTTP/1.1\r\nHost: x\r\n"
                                       "Content-Length: 100000000\r\n\r\n");
  EXPECT_EQ(declared.status, 413);
}

TEST_F(server_test, oversized_headers_get_431) {
  auto r =
      raw_exchange(port(), make_request("GET", "/health", {{"X-Filler", std::string(4096, 'a')}}));
  EXPECT_EQ(r.status, 431) << r.raw;
  EXPECT_EQ(json_of(r).at("error").as_string(), "headers_too_large");
}

TEST_F(server_test, malformed_request_line_gets_400_json) {
  for (std::string junk : {"NOT A REQUEST\r\n\r\n", "GET /health HTTP/9.9\r\n\r\n", "GET\r\n\r\n",
                           "\x01\x02\x03\r\n\r\n"}) {
    auto r = raw_exchange(port(), junk);
    EXPECT_EQ(r.status, 400) << junk << " -> " << r.raw;
    EXPECT_EQ(json_of(r).at("error").as_string(), "bad_request");
  }
  // The server is still healthy afterwards.
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/health")).status, 200);
}

TEST_F(server_test, slow_clients_are_disconnected) {
  auto start = std::chrono::steady_clock::now();
  auto r = raw_exchange(port(), "GET /health HTTP/1.1\r\nHost: x\r\n"); // never finishes
  EXPECT_EQ(r.status, 0);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, 1500ms);
  EXPECT_LT(waited, 8s);
}

TEST(server_process, sigterm_and_sigint_exit_zero) {
  scoped_database db;
  for (int sig : {SIGTERM, SIGINT}) {
    auto s = start_server(db.url());
    EXPECT_EQ(raw_exchange(s.port, make_request("GET", "/health")).status, 200);
    s.process->signal(sig);
    auto code = s.process->wait_exit(30s);
    ASSERT_TRUE(code) << "did not exit";
    EXPECT_EQ(*code, 0) << s.process->output();
    EXPECT_NE(s.process->output().find("stopped"), std::string::npos);
  }
}

TEST(server_process, invalid_configuration_stops_start_up_naming_the_variable) {
  auto [code, output] =
      run_to_end({SCRAPERSKY_BINARY, "serve"}, {{"DOMAIN_SCHEDULER_BATCH_SIZE", "-3"},
                                                {"DATABASE_URL", "postgresql://x@127.0.0.1:1/x"}});
  EXPECT_EQ(code, 2);
  EXPECT_NE(output.find("DOMAIN_SCHEDULER_BATCH_SIZE"), std::string::npos) << output;
  auto [code2, output2] =
      run_to_end({SCRAPERSKY_BINARY, "serve"}, {{"EMAIL_SCAN_SCHEDULER_MAX_INSTANCES", "abc"}});
  EXPECT_EQ(code2, 2);
  EXPECT_NE(output2.find("EMAIL_SCAN_SCHEDULER_MAX_INSTANCES"), std::string::npos) << output2;
}

TEST(server_process, migrate_and_token_commands) {
  scoped_database db;
  auto [code, output] = run_to_end({SCRAPERSKY_BINARY, "migrate"}, {{"DATABASE_URL", db.url()}});
  EXPECT_EQ(code, 0) << output;
  EXPECT_NE(output.find("applied"), std::string::npos);
  auto [tcode, token] = run_to_end({SCRAPERSKY_BINARY, "token", "--sub", "user-42"},
                                   {{"JWT_SECRET", k_test_jwt_secret}});
  ASSERT_EQ(tcode, 0) << token;
  while (!token.empty() && token.back() == '\n')
    token.pop_back();
  auto verdict = http::verify_token(token, k_test_jwt_secret);
  EXPECT_TRUE(verdict.ok());
  EXPECT_EQ(verdict.subject, "user-42");
  auto [ncode, nout] = run_to_end({SCRAPERSKY_BINARY, "token", "--sub", "u"}, {{"JWT_SECRET", ""}});
  EXPECT_NE(ncode, 0) << nout;
}
