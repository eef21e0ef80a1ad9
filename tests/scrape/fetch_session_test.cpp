// Job sessions over real loopback sockets: cookies stay within their job, a cancel aborts what
// the job awaits, the byte budget ends its fetches, and many jobs wait on few threads.
#include "scrape/fetch_session.hpp"
#include "support/canned_server.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_future.hpp>

#include <gtest/gtest.h>

using namespace sky;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

using test_support::canned_response;
using test_support::canned_server;

test_support::canned_routes session_routes() {
  test_support::canned_routes r;
  r.fixed["/login"] = canned_response(200, "welcome", "Set-Cookie: sid=job-a; Path=/\r\n");
  r.fixed["/echo"] = canned_response(200, "echo");
  r.fixed["/page"] = canned_response(200, std::string(4000, 'p'));
  r.unanswered = {"/hang"};
  return r;
}

config::fetch_config loopback() {
  config::fetch_config c;
  c.per_host_delay = 0ms;
  c.allow_private = {"127.0.0.1/32"};
  c.total_timeout = 60s;
  c.connect_timeout = 30s;
  return c;
}

// Runs `work` as a job would: a coroutine on a strand of the fetcher's context.
template <class T> std::future<T> spawn(scrape::fetcher& f, asio::awaitable<T> work) {
  return asio::co_spawn(asio::make_strand(f.context()), std::move(work), asio::use_future);
}

std::string cookie_header(const std::string& request) {
  auto at = request.find("Cookie: ");
  return at == std::string::npos ? "" : request.substr(at, request.find("\r\n", at) - at);
}

// A coroutine function, not a lambda: its frame keeps its arguments, a lambda's captures die
// with the lambda object.
asio::awaitable<bool> sleep_an_hour(std::shared_ptr<scrape::fetch_session> job) {
  co_return co_await job->sleep(1h);
}

} // namespace

TEST(fetch_session, cookies_come_back_within_their_job_and_never_to_another) {
  canned_server server(session_routes());
  scrape::fetcher f(loopback(), 2);
  auto job_a = std::make_shared<scrape::fetch_session>(f);
  auto job_b = std::make_shared<scrape::fetch_session>(f);
  auto a = [&]() -> asio::awaitable<bool> {
    auto login = co_await job_a->fetch(server.url("/login"));
    auto echo = co_await job_a->fetch(server.url("/echo"));
    co_return login.ok() && echo.ok();
  };
  ASSERT_TRUE(spawn(f, a()).get());
  EXPECT_EQ(cookie_header(server.last_request("/echo")), "Cookie: sid=job-a");
  EXPECT_EQ(job_a->cookies()->size(), 1u);

  auto b = [&]() -> asio::awaitable<bool> {
    auto echo = co_await job_b->fetch(server.url("/echo"));
    co_return echo.ok();
  };
  ASSERT_TRUE(spawn(f, b()).get());
  EXPECT_EQ(cookie_header(server.last_request("/echo")), "") << server.last_request("/echo");
  EXPECT_EQ(job_b->cookies()->size(), 0u);
}

TEST(fetch_session, a_cancel_aborts_the_fetches_and_waits_a_job_awaits) {
  canned_server server(session_routes());
  scrape::fetcher f(loopback(), 2);
  auto job = std::make_shared<scrape::fetch_session>(f);
  auto hanging = [&]() -> asio::awaitable<scrape::fetch_result> {
    co_return co_await job->fetch(server.url("/hang"));
  };
  auto result = spawn(f, hanging());
  ASSERT_TRUE(server.wait_for_hits("/hang", 1, 60s));
  job->cancel();
  // The server never answers and the fetch timeout is a minute: only the cancel ends this.
  ASSERT_EQ(result.wait_for(30s), std::future_status::ready);
  EXPECT_EQ(result.get().error, scrape::k_fetch_cancelled);

  auto sleeper = std::make_shared<scrape::fetch_session>(f);
  auto sleeping = [&]() -> asio::awaitable<bool> { co_return co_await sleeper->sleep(1h); };
  auto slept = spawn(f, sleeping());
  EXPECT_EQ(slept.wait_for(100ms), std::future_status::timeout);
  sleeper->cancel();
  ASSERT_EQ(slept.wait_for(30s), std::future_status::ready);
  EXPECT_FALSE(slept.get());
  // A cancelled session sends nothing more.
  auto after = [&]() -> asio::awaitable<scrape::fetch_result> {
    co_return co_await job->fetch(server.url("/echo"));
  };
  EXPECT_EQ(spawn(f, after()).get().error, scrape::k_fetch_cancelled);
  EXPECT_EQ(server.hits("/echo"), 0);
}

TEST(fetch_session, the_byte_budget_ends_a_jobs_fetches_and_counters_add_up) {
  canned_server server(session_routes());
  scrape::fetcher f(loopback(), 2);
  auto job = std::make_shared<scrape::fetch_session>(
      f, scrape::session_budget{std::chrono::steady_clock::time_point::max(), 10000});
  auto crawl = [&]() -> asio::awaitable<std::vector<scrape::fetch_result>> {
    std::vector<scrape::fetch_result> out;
    for (int i = 0; i < 4; ++i)
      out.push_back(co_await job->fetch(server.url("/page")));
    co_return out;
  };
  auto results = spawn(f, crawl()).get();
  // 4,000 bytes a page: the third brings the total past 10,000, so the fourth is refused.
  EXPECT_TRUE(results[2].ok());
  EXPECT_NE(results[3].error.find(scrape::k_budget_spent), std::string::npos) << results[3].error;
  EXPECT_EQ(server.hits("/page"), 3);
  auto c = job->counters();
  EXPECT_EQ(c.fetches, 4);
  EXPECT_EQ(c.failures, 1);
  EXPECT_EQ(c.bytes, 12000u);
}

TEST(fetch_session, a_thousand_waiting_jobs_hold_no_thread_of_their_own) {
  canned_server server(session_routes());
  scrape::fetcher f(loopback(), 2);
  std::vector<std::shared_ptr<scrape::fetch_session>> jobs;
  std::vector<std::future<bool>> waits;
  for (int i = 0; i < 1000; ++i) {
    jobs.push_back(std::make_shared<scrape::fetch_session>(f));
    waits.push_back(spawn(f, sleep_an_hour(jobs.back())));
  }
  // All wait on the fetcher's two threads; the two of them still serve a fetch meanwhile.
  auto other = std::make_shared<scrape::fetch_session>(f);
  auto fetch = [&]() -> asio::awaitable<scrape::fetch_result> {
    co_return co_await other->fetch(server.url("/echo"));
  };
  EXPECT_TRUE(spawn(f, fetch()).get().ok());
  for (auto& w : waits)
    EXPECT_EQ(w.wait_for(0ms), std::future_status::timeout);
  for (auto& j : jobs)
    j->cancel();
  for (auto& w : waits)
    EXPECT_FALSE(w.get());
}
