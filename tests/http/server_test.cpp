// The real binary over real sockets: health, readiness, auth, protocol errors, limits, SIGTERM.
#include "http/jwt.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <arpa/inet.h>
#include <boost/json.hpp>
#include <csignal>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pqxx/pqxx>
#include <sys/socket.h>
#include <tuple>
#include <unistd.h>

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

TEST_F(server_test, console_is_served_at_the_root_without_a_token_under_a_strict_policy) {
  auto index = raw_exchange(port(), make_request("GET", "/"));
  ASSERT_EQ(index.status, 200) << index.raw;
  EXPECT_EQ(index.headers["content-type"], "text/html; charset=utf-8");
  EXPECT_NE(index.body.find("<script type=\"module\" src=\"/app.js\"></script>"),
            std::string::npos);
  // Nothing inline: every script and style comes from a file of the console.
  EXPECT_EQ(index.body.find("<script>"), std::string::npos);
  EXPECT_EQ(index.body.find("<style"), std::string::npos);
  EXPECT_EQ(index.body.find("style="), std::string::npos);
  const auto& csp = index.headers["content-security-policy"];
  EXPECT_NE(csp.find("default-src 'self'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe"), std::string::npos) << csp;
  EXPECT_EQ(index.headers["x-content-type-options"], "nosniff");
  EXPECT_EQ(index.headers["referrer-policy"], "no-referrer");
  EXPECT_EQ(index.headers["cache-control"], "no-cache");
  EXPECT_FALSE(index.headers["etag"].empty());
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/index.html")).body, index.body);

  auto script = raw_exchange(port(), make_request("GET", "/app.js"));
  ASSERT_EQ(script.status, 200);
  EXPECT_EQ(script.headers["content-type"], "text/javascript; charset=utf-8");
  EXPECT_NE(script.body.find("import"), std::string::npos);
  EXPECT_NE(script.headers["etag"], index.headers["etag"]);
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/style.css")).headers["content-type"],
            "text/css; charset=utf-8");
  // Static files open no door to the API or to other paths.
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/missing.js")).status, 404);
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/app.js/")).status, 400); // not canonical
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/api/v3/queues")).status, 401);
  EXPECT_EQ(raw_exchange(port(), make_request("POST", "/")).status, 405);
}

TEST_F(server_test, console_files_revalidate_with_their_etag) {
  auto first = raw_exchange(port(), make_request("GET", "/app.js"));
  auto etag = first.headers["etag"];
  ASSERT_EQ(etag.size(), 26u) << etag; // a quoted prefix of the file's SHA-256
  auto same = raw_exchange(port(), make_request("GET", "/app.js", {{"If-None-Match", etag}}));
  EXPECT_EQ(same.status, 304);
  EXPECT_TRUE(same.body.empty());
  EXPECT_EQ(same.headers["etag"], etag);
  EXPECT_EQ(raw_exchange(
                port(), make_request("GET", "/app.js", {{"If-None-Match", "\"other\", W/" + etag}}))
                .status,
            304);
  auto changed =
      raw_exchange(port(), make_request("GET", "/app.js", {{"If-None-Match", "\"other\""}}));
  EXPECT_EQ(changed.status, 200);
  EXPECT_EQ(changed.body, first.body);
  // Another file's tag does not match.
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/", {{"If-None-Match", etag}})).status, 200);
}

TEST_F(server_test, lists_sort_by_whitelisted_columns_only) {
  {
    pqxx::connection c(db_->url());
    pqxx::work tx(c);
    // Ids in creation order (rows made within one millisecond would get random order).
    tx.exec("INSERT INTO domains (id, domain) VALUES "
            "('00000000-0000-7000-8000-000000000001', 'sort-b.example'), "
            "('00000000-0000-7000-8000-000000000002', 'sort-c.example'), "
            "('00000000-0000-7000-8000-000000000003', 'sort-a.example')");
    tx.commit();
  }
  auto names = [&](const std::string& query) {
    auto r = raw_exchange(
        port(), make_request("GET", "/api/v3/domains?" + query, {{"Authorization", bearer()}}));
    std::string out;
    if (r.status != 200)
      return std::to_string(r.status) + " " + r.body;
    auto body = json_of(r);
    for (const auto& item : body.at("items").as_array()) {
      std::string d(item.at("domain").as_string());
      if (d.rfind("sort-", 0) == 0)
        out += d.substr(5, 1);
    }
    return out;
  };
  EXPECT_EQ(names("sort=domain"), "abc");
  EXPECT_EQ(names("sort=domain&order=desc"), "cba");
  EXPECT_EQ(names(""), "acb"); // newest first
  EXPECT_EQ(names("sort=created_at&order=asc"), "bca");
  EXPECT_EQ(names("sort=domain&limit=1&offset=1").size(), 1u);
  for (std::string bad :
       {"sort=metadata", "sort=domain%3Bdrop", "order=sideways", "sort=domain&order=ASC%20NULLS"}) {
    auto r = raw_exchange(
        port(), make_request("GET", "/api/v3/domains?" + bad, {{"Authorization", bearer()}}));
    EXPECT_EQ(r.status, 400) << bad;
    EXPECT_EQ(json_of(r).at("error").as_string(), "invalid_query") << bad;
  }
}

TEST_F(server_test, queue_history_counts_finishes_per_minute_over_the_last_hour) {
  {
    pqxx::connection c(db_->url());
    pqxx::work tx(c);
    // Two completed and one failed page scrape five minutes ago, one failed two hours ago (out of
    // the window), a failed domain fetch a minute ago.
    tx.exec("INSERT INTO jobs (job_type, status, finished_at) VALUES "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Completed', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Error', date_trunc('minute', now()) - interval '5 minutes'), "
            "('page_scrape', 'Error', now() - interval '2 hours'), "
            "('email_scan', 'Cancelled', now())");
    tx.exec("INSERT INTO domains (domain, status, updated_at) VALUES ('history.example', 'Error', "
            "date_trunc('minute', now()) - interval '1 minute')");
    tx.commit();
  }
  auto r = raw_exchange(
      port(), make_request("GET", "/api/v3/queues/history", {{"Authorization", bearer()}}));
  ASSERT_EQ(r.status, 200) << r.raw;
  auto body = json_of(r);
  ASSERT_EQ(body.at("minutes").as_int64(), 60);
  auto queue = [&](std::string_view name) {
    for (const auto& q : body.at("queues").as_array())
      if (q.at("name").as_string() == name)
        return q.as_object();
    ADD_FAILURE() << "no queue " << name;
    return boost::json::object{};
  };
  auto total = [](const boost::json::value& a) {
    long long n = 0;
    for (const auto& v : a.as_array())
      n += v.as_int64();
    return n;
  };
  // The slot of a row: minutes since the window's start (slot 59 is the current minute).
  auto slot = [&](const std::string& sql) {
    pqxx::connection c(db_->url());
    pqxx::read_transaction tx(c);
    auto minute =
        tx.exec("SELECT extract(epoch FROM date_trunc('minute', " + sql + "))::bigint")[0][0]
            .as<long long>();
    return static_cast<std::size_t>((minute - body.at("start").as_int64()) / 60);
  };
  auto five = slot("(SELECT max(finished_at) FROM jobs WHERE status = 'Completed')");
  auto one = slot("(SELECT updated_at FROM domains WHERE domain = 'history.example')");
  ASSERT_LT(five, 60u);
  ASSERT_LT(one, 60u);
  auto pages = queue("page_scrape");
  ASSERT_EQ(pages.at("completed").as_array().size(), 60u);
  EXPECT_EQ(pages.at("completed").as_array()[five].as_int64(), 2);
  EXPECT_EQ(pages.at("failed").as_array()[five].as_int64(), 1);
  EXPECT_EQ(total(pages.at("completed")), 2);
  EXPECT_EQ(total(pages.at("failed")), 1);
  EXPECT_EQ(total(queue("email_scan").at("failed")), 0); // cancelled is neither
  EXPECT_EQ(queue("domain_metadata").at("failed").as_array()[one].as_int64(), 1);
  EXPECT_EQ(total(queue("sitemap_submission").at("failed")), 0);
  EXPECT_EQ(raw_exchange(port(), make_request("GET", "/api/v3/queues/history")).status, 401);
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

namespace {

// A connection the test drives by hand: what the server says after the header alone.
class hand_driven_connection {
public:
  explicit hand_driven_connection(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~hand_driven_connection() { ::close(fd_); }
  void send(const std::string& bytes) {
    ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
  }
  // What arrives until `until` has been read, the server closes or `wait` passes.
  std::string read(std::string_view until, std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (received_.find(until) == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd p{fd_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
        break;
      char buf[4096];
      auto n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      received_.append(buf, static_cast<std::size_t>(n));
    }
    return received_;
  }

private:
  int fd_;
  std::string received_;
};

} // namespace

// Bodies are read only for callers who may send them: 401, 404 and 405 are decided from the header
// and answered at once, the connection closed with the body unread; "100 Continue" goes only to an
// authorised request.
TEST_F(server_test, the_route_and_the_token_are_decided_before_the_body_is_read) {
  const std::string body = R"({"domains":[]})";
  for (auto [target, headers, status] :
       std::initializer_list<std::tuple<const char*, std::string, int>>{
           {"/api/v3/domains", "", 401},
           {"/api/v3/domains", "Authorization: Bearer not-a-token\r\n", 401},
           {"/api/v3/nonesuch", "Authorization: " + bearer() + "\r\n", 404},
           {"/api/v3/queues", "Authorization: " + bearer() + "\r\n", 405}}) {
    hand_driven_connection c(port());
    // The header declares a body that never comes: the answer must not wait for it.
    c.send(std::string("POST ") + target + " HTTP/1.1\r\nHost: x\r\n" + headers +
           "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
    auto answer = c.read("\r\n\r\n", 1500ms);
    EXPECT_EQ(answer.rfind("HTTP/1.1 " + std::to_string(status), 0), 0u) << target << "\n"
                                                                         << answer;
    EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;
  }
  {
    hand_driven_connection c(port());
    c.send("POST /api/v3/domains HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
           "Content-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n");
    auto answer = c.read("\r\n\r\n", 1500ms);
    EXPECT_EQ(answer.rfind("HTTP/1.1 401", 0), 0u) << "no 100 Continue without a token\n" << answer;
  }
  {
    hand_driven_connection c(port());
    c.send("POST /api/v3/domains HTTP/1.1\r\nHost: x\r\nAuthorization: " + bearer() +
           "\r\nExpect: 100-continue\r\nContent-Type: application/json\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n");
    auto interim = c.read("\r\n\r\n", 1500ms);
    ASSERT_EQ(interim.rfind("HTTP/1.1 100 Continue", 0), 0u) << interim;
    c.send(body);
    auto answer = c.read("\"error\"", 5000ms);
    EXPECT_NE(answer.find("HTTP/1.1 400"), std::string::npos) << "the body was read and judged\n"
                                                              << answer;
  }
  // An open route still reads its (small) body and keeps the connection.
  auto open = raw_exchange(port(), make_request("GET", "/health"));
  EXPECT_EQ(open.status, 200);
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
