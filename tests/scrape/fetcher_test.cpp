// The fetcher over real loopback sockets: limits, redirects, decompression and the SSRF guard.
#include "fixtures/fixture_web.hpp"
#include "scrape/fetcher.hpp"
#include "support/canned_server.hpp"
#include "support/fetch_now.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

#include <atomic>
#include <future>
#include <gtest/gtest.h>
#include <thread>

using namespace sky;
using namespace std::chrono_literals;

namespace {

using sky::fixtures::gzip;
using test_support::canned_response;
using test_support::canned_server;

test_support::canned_routes fetcher_routes() {
  test_support::canned_routes r;
  r.fixed["/ok"] =
      canned_response(200, "<html><title>hi</title></html>", "Content-Type: text/html\r\n");
  r.fixed["/big"] = canned_response(200, std::string(3 << 20, 'x'));
  r.fixed["/loop"] = canned_response(302, "", "Location: /loop\r\n");
  r.fixed["/to-ok"] = canned_response(301, "", "Location: /ok\r\n");
  // 127.0.0.2 is loopback too, but only 127.0.0.1 is allowed: the guard must refuse the hop.
  r.fixed["/to-other-loopback"] =
      canned_response(302, "", "Location: http://127.0.0.2/latest/meta-data/\r\n");
  r.fixed["/to-ftp"] = canned_response(302, "", "Location: ftp://127.0.0.1/file\r\n");
  r.fixed["/gzip"] =
      canned_response(200, gzip("hello compressed world"), "Content-Encoding: gzip\r\n");
  r.fixed["/gzip-bomb"] = canned_response(200, sky::fixtures::gzip_zeros(std::size_t{20} << 20),
                                          "Content-Encoding: gzip\r\n");
  r.fixed["/busy"] = canned_response(503, "later", "Retry-After: 7\r\n");
  r.sequences["/flaky"] = {canned_response(503, "later", "Retry-After: 1\r\n"),
                           canned_response(502, "bad gateway"), canned_response(200, "recovered")};
  r.fixed["/api"] = canned_response(200, R"({"places":[]})", "Content-Type: application/json\r\n");
  r.sequences["/api-flaky"] = {canned_response(503, "later"), canned_response(200, "{}")};
  r.unanswered = {"/hang"};
  return r;
}

struct fetcher_server : canned_server {
  fetcher_server() : canned_server(fetcher_routes()) {}
};

// Timeouts far beyond what a loopback answer needs on any machine; tests of timeouts set their
// own, against a server that never answers.
config::fetch_config loopback_allowed() {
  config::fetch_config c;
  c.per_host_delay = 0ms;
  c.allow_private = {"127.0.0.1/32"};
  c.total_timeout = 60s;
  c.connect_timeout = 30s;
  c.max_response_bytes = 1 << 20;
  c.max_redirects = 3;
  return c;
}

// Polls `done` until it holds or a minute passes (a wait for a condition, not for the machine).
bool eventually_true(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (!done() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  return done();
}

} // namespace

TEST(fetcher, fetches_a_page) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed());
  auto r = test_support::fetch_now(f, server.url("/to-ok"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html><title>hi</title></html>");
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.final_url, server.url("/ok"));
  EXPECT_EQ(r.redirects, 1);
  auto missing = test_support::fetch_now(f, server.url("/missing"));
  EXPECT_TRUE(missing.ok());
  EXPECT_EQ(missing.status, 404);
}

TEST(fetcher, ssrf_guard_is_on_by_default) {
  fetcher_server server;
  scrape::fetcher f(config::fetch_config{});
  auto r = test_support::fetch_now(f, server.url("/ok"));
  EXPECT_TRUE(r.blocked);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("SSRF"), std::string::npos);
  auto v6 = test_support::fetch_now(f, "http://[::1]:1/");
  EXPECT_TRUE(v6.blocked);
}

TEST(fetcher, posts_a_body_with_extra_headers) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed());
  const std::string body = R"({"textQuery":"bakery in Springfield","pageSize":20})";
  auto r = test_support::fetch_now(f, {server.url("/api"),
                                       body,
                                       {"X-Goog-Api-Key: k1", "Content-Type: application/json"},
                                       {},
                                       nullptr});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"places":[]})");
  auto sent = server.last_request("/api");
  EXPECT_EQ(sent.rfind("POST /api HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("\r\nX-Goog-Api-Key: k1\r\n"), std::string::npos) << sent;
  EXPECT_NE(sent.find("\r\nContent-Type: application/json\r\n"), std::string::npos) << sent;
  EXPECT_EQ(sent.find("Expect:"), std::string::npos) << sent;
  EXPECT_EQ(sent.substr(sent.find("\r\n\r\n") + 4), body);
  // A transient failure is retried with the same body and headers.
  auto again = test_support::fetch_now(
      f, {server.url("/api-flaky"), body, {"X-Goog-Api-Key: k1"}, {}, nullptr});
  ASSERT_TRUE(again.ok()) << again.error;
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(again.attempts, 2);
  auto retried = server.last_request("/api-flaky");
  EXPECT_EQ(retried.rfind("POST /api-flaky HTTP/1.1\r\n", 0), 0u) << retried;
  EXPECT_NE(retried.find("\r\nX-Goog-Api-Key: k1\r\n"), std::string::npos) << retried;
  EXPECT_EQ(retried.substr(retried.find("\r\n\r\n") + 4), body);
}

TEST(fetcher, requests_carrying_headers_do_not_follow_redirects) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed());
  // Followed, the key would go to whatever host the redirect names.
  auto r = test_support::fetch_now(
      f, {server.url("/to-ok"), std::nullopt, {"X-Goog-Api-Key: k1"}, {}, nullptr});
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(r.redirects, 0);
  EXPECT_EQ(server.hits("/ok"), 0);
  auto sent = server.last_request("/to-ok");
  EXPECT_EQ(sent.rfind("GET /to-ok HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("\r\nX-Goog-Api-Key: k1\r\n"), std::string::npos) << sent;
}

TEST(fetcher, the_ssrf_guard_refuses_posts_too) {
  fetcher_server server;
  scrape::fetcher f(config::fetch_config{});
  auto r = test_support::fetch_now(
      f, {server.url("/api"), "{}", {"Content-Type: application/json"}, {}, nullptr});
  EXPECT_TRUE(r.blocked) << r.error;
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(server.hits("/api"), 0);
}

TEST(fetcher, redirects_are_checked_on_every_hop) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed()); // allows 127.0.0.1 alone
  auto other = test_support::fetch_now(f, server.url("/to-other-loopback"));
  EXPECT_TRUE(other.blocked) << other.error;
  EXPECT_NE(other.error.find("SSRF"), std::string::npos) << other.error;
  EXPECT_EQ(other.redirects, 1); // the first hop was fetched, the second refused
  auto ftp = test_support::fetch_now(f, server.url("/to-ftp"));
  EXPECT_FALSE(ftp.ok());
  auto loop = test_support::fetch_now(f, server.url("/loop"));
  EXPECT_FALSE(loop.ok());
  EXPECT_EQ(loop.redirects, 3);
  EXPECT_FALSE(test_support::fetch_now(f, "ftp://127.0.0.1/").ok());
  EXPECT_FALSE(test_support::fetch_now(f, "file:///etc/passwd").ok());
}

TEST(fetcher, size_is_capped_after_decompression) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed());
  auto big = test_support::fetch_now(f, server.url("/big"));
  EXPECT_TRUE(big.too_large);
  EXPECT_FALSE(big.ok());
  auto small = test_support::fetch_now(f, server.url("/gzip"));
  ASSERT_TRUE(small.ok()) << small.error;
  EXPECT_EQ(small.body, "hello compressed world");
  auto bomb = test_support::fetch_now(f, server.url("/gzip-bomb")); // 20 MiB inflated, 20 KB sent
  EXPECT_TRUE(bomb.too_large) << bomb.error;
  EXPECT_LE(bomb.body.size(), std::size_t{1} << 20);
}

TEST(fetcher, servers_that_never_answer_time_out) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.total_timeout = 1s;
  scrape::fetcher f(c);
  auto r = test_support::fetch_now(f, server.url("/hang"));
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("timed out"), std::string::npos) << r.error;
  EXPECT_EQ(r.attempts, 1) << "timeouts are left to the queue's retry";
}

TEST(fetcher, a_retry_after_longer_than_the_cap_is_reported_not_waited_for) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.max_retry_after = 5s;
  scrape::fetcher f(c);
  auto r = test_support::fetch_now(f, server.url("/busy"));
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 1); // not waited for: a wait would have been followed by a retry
  EXPECT_EQ(server.hits("/busy"), 1);
  ASSERT_TRUE(r.retry_after_s);
  EXPECT_EQ(*r.retry_after_s, 7);
}

TEST(fetcher, transient_statuses_are_retried_honouring_retry_after) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.retry_base = 50ms;
  scrape::fetcher f(c);
  auto start = std::chrono::steady_clock::now();
  auto r =
      test_support::fetch_now(f, server.url("/flaky")); // 503 Retry-After: 1, then 502, then 200
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "recovered");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_GE(took, 1s); // the Retry-After was waited out
  EXPECT_EQ(server.hits("/flaky"), 3);
}

TEST(fetcher, permanent_failures_are_not_retried_and_retries_are_bounded) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.retry_base = 20ms;
  c.max_retries = 2;
  scrape::fetcher f(c);
  EXPECT_EQ(test_support::fetch_now(f, server.url("/missing")).attempts, 1); // 404 is an answer
  EXPECT_EQ(test_support::fetch_now(f, server.url("/big")).attempts, 1);     // over the size cap
  // Nothing listens on port 1: a refused connection is transient, retried twice, then reported.
  auto refused = test_support::fetch_now(f, "http://127.0.0.1:1/");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.attempts, 3);
}

TEST(fetcher, requests_to_one_host_are_spaced_by_the_per_host_delay) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.per_host_delay = 150ms;
  scrape::fetcher f(c);
  std::atomic<int> done{0};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i)
    f.fetch(server.url("/ok"), [&](scrape::fetch_result) { ++done; });
  EXPECT_TRUE(eventually_true([&] { return done == 4; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 450ms);
}

TEST(fetcher, stopping_completes_requests_waiting_for_their_slot) {
  fetcher_server server;
  auto c = loopback_allowed();
  c.per_host_delay = 1h;
  std::atomic<int> stopped{0}, answered{0};
  {
    scrape::fetcher f(c);
    for (int i = 0; i < 3; ++i)
      f.fetch(server.url("/ok"), [&](scrape::fetch_result r) {
        ++(r.error == scrape::k_fetcher_stopped ? stopped : answered);
      });
    ASSERT_TRUE(eventually_true([&] { return answered == 1; })); // the first needs no slot
  } // the other two wait an hour for their slot, unless stopping completes them
  EXPECT_EQ(answered.load(), 1);
  EXPECT_EQ(stopped.load(), 2);
}

TEST(fetcher, a_waiter_returns_when_the_fetcher_stops_mid_transfer) {
  fetcher_server server; // never answers /hang
  scrape::fetcher f(loopback_allowed());
  auto waiter = std::async(std::launch::async,
                           [&] { return test_support::fetch_now(f, server.url("/hang")); });
  ASSERT_TRUE(server.wait_for_hits("/hang", 1, 60s));
  f.stop();
  ASSERT_EQ(waiter.wait_for(30s), std::future_status::ready) << "the waiter was left hanging";
  auto r = waiter.get();
  EXPECT_EQ(r.error, scrape::k_fetcher_stopped);
  // A stopped fetcher answers at once, on the caller's thread.
  EXPECT_EQ(test_support::fetch_now(f, server.url("/ok")).error, scrape::k_fetcher_stopped);
  EXPECT_EQ(server.hits("/ok"), 0);
}

TEST(fetcher, destroying_the_fetcher_completes_transfers_in_flight) {
  fetcher_server server;
  std::promise<scrape::fetch_result> result;
  auto future = result.get_future();
  {
    scrape::fetcher f(loopback_allowed());
    f.fetch(server.url("/hang"), [&](scrape::fetch_result r) { result.set_value(std::move(r)); });
    ASSERT_TRUE(server.wait_for_hits("/hang", 1, 60s));
  }
  ASSERT_EQ(future.wait_for(0s), std::future_status::ready);
  EXPECT_EQ(future.get().error, scrape::k_fetcher_stopped);
}

TEST(fetcher, many_concurrent_fetches_complete) {
  fetcher_server server;
  scrape::fetcher f(loopback_allowed());
  std::atomic<int> done{0}, ok{0};
  for (int i = 0; i < 100; ++i)
    f.fetch(server.url(i % 2 ? "/ok" : "/gzip"), [&](scrape::fetch_result r) {
      ok += r.ok() && r.status == 200;
      ++done;
    });
  EXPECT_TRUE(eventually_true([&] { return done == 100; }));
  EXPECT_EQ(done.load(), 100);
  EXPECT_EQ(ok.load(), 100);
}

TEST(scrape_cli, prints_a_json_report_and_keeps_the_guard_on_by_default) {
  fetcher_server server;
  auto [code, out] = test_support::run_to_end(
      {SCRAPERSKY_BINARY, "scrape", server.url("/to-ok"), "--allow-private"}, {});
  ASSERT_EQ(code, 0) << out;
  auto report = boost::json::parse(out).as_object();
  EXPECT_EQ(report.at("title").as_string(), "hi");
  EXPECT_EQ(report.at("status").as_int64(), 200);
  EXPECT_EQ(report.at("pages_fetched").as_int64(), 1);
  auto [blocked_code, blocked] =
      test_support::run_to_end({SCRAPERSKY_BINARY, "scrape", server.url("/ok")}, {});
  EXPECT_EQ(blocked_code, 1);
  EXPECT_NE(blocked.find("SSRF"), std::string::npos) << blocked;
}
