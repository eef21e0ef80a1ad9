// The fetcher over real loopback sockets: limits, redirects, decompression and the SSRF guard.
#include "fixtures/fixture_web.hpp"
#include "scrape/fetcher.hpp"
#include "support/process.hpp"

#include <boost/json.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <gtest/gtest.h>
#include <map>
#include <mutex>
#include <netinet/in.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace sky;
using namespace std::chrono_literals;

namespace {

using sky::fixtures::gzip;

std::string response(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) +
         " X\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n" +
         extra + "\r\n" + body;
}

// A loopback server answering canned responses by path, one thread per connection.
class canned_server {
public:
  canned_server() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    listen(fd_, 128);
    const std::string big_zeros(20 << 20, '\0');
    routes_["/ok"] = response(200, "<html><title>hi</title></html>", "Content-Type: text/html\r\n");
    routes_["/big"] = response(200, std::string(3 << 20, 'x'));
    routes_["/loop"] = response(302, "", "Location: /loop\r\n");
    routes_["/to-ok"] = response(301, "", "Location: /ok\r\n");
    routes_["/to-metadata"] =
        response(302, "", "Location: http://169.254.169.254/latest/meta-data/\r\n");
    routes_["/to-ftp"] = response(302, "", "Location: ftp://127.0.0.1/file\r\n");
    routes_["/gzip"] = response(200, gzip("hello compressed world"), "Content-Encoding: gzip\r\n");
    routes_["/gzip-bomb"] = response(200, gzip(big_zeros), "Content-Encoding: gzip\r\n");
    routes_["/busy"] = response(503, "later", "Retry-After: 7\r\n");
    sequences_["/flaky"] = {response(503, "later", "Retry-After: 1\r\n"),
                            response(502, "bad gateway"), response(200, "recovered")};
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~canned_server() {
    stopping_ = true;
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    acceptor_.join();
    for (auto& t : connections_)
      t.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

private:
  void accept_loop() {
    while (!stopping_) {
      int c = accept(fd_, nullptr, nullptr);
      if (c < 0)
        return;
      connections_.emplace_back([this, c] { serve(c); });
    }
  }
  void serve(int c) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
      auto n = recv(c, buf, sizeof buf, 0);
      if (n <= 0)
        break;
      request.append(buf, static_cast<std::size_t>(n));
    }
    auto first_space = request.find(' ');
    auto path =
        request.substr(first_space + 1, request.find(' ', first_space + 1) - first_space - 1);
    if (path == "/slow")
      std::this_thread::sleep_for(3s);
    std::string reply;
    if (auto seq = sequences_.find(path); seq != sequences_.end()) {
      std::lock_guard lock(mutex_);
      auto& n = served_[path];
      reply = seq->second[std::min(n++, seq->second.size() - 1)];
    } else {
      auto it = routes_.find(path);
      reply = it == routes_.end() ? response(404, "nope") : it->second;
    }
    std::size_t sent = 0;
    while (sent < reply.size()) {
      auto n = send(c, reply.data() + sent, reply.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      sent += static_cast<std::size_t>(n);
    }
    close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::map<std::string, std::string> routes_;
  std::map<std::string, std::vector<std::string>> sequences_; // answered in order, last repeats
  std::mutex mutex_;
  std::map<std::string, std::size_t> served_;
  std::thread acceptor_;
  std::vector<std::thread> connections_;
};

config::fetch_config loopback_allowed() {
  config::fetch_config c;
  c.per_host_delay = 0ms;
  c.allow_private = {"127.0.0.1/32"};
  c.total_timeout = 1s;
  c.connect_timeout = 1s;
  c.max_response_bytes = 1 << 20;
  c.max_redirects = 3;
  return c;
}

} // namespace

TEST(fetcher, fetches_a_page) {
  canned_server server;
  scrape::fetcher f(loopback_allowed());
  auto r = f.fetch_blocking(server.url("/to-ok"));
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "<html><title>hi</title></html>");
  EXPECT_EQ(r.content_type, "text/html");
  EXPECT_EQ(r.final_url, server.url("/ok"));
  EXPECT_EQ(r.redirects, 1);
  auto missing = f.fetch_blocking(server.url("/missing"));
  EXPECT_TRUE(missing.ok());
  EXPECT_EQ(missing.status, 404);
}

TEST(fetcher, ssrf_guard_is_on_by_default) {
  canned_server server;
  scrape::fetcher f(config::fetch_config{});
  auto r = f.fetch_blocking(server.url("/ok"));
  EXPECT_TRUE(r.blocked);
  EXPECT_FALSE(r.ok());
  EXPECT_NE(r.error.find("SSRF"), std::string::npos);
  auto v6 = f.fetch_blocking("http://[::1]:1/");
  EXPECT_TRUE(v6.blocked);
}

TEST(fetcher, redirects_are_checked_on_every_hop) {
  canned_server server;
  scrape::fetcher f(loopback_allowed());
  auto metadata = f.fetch_blocking(server.url("/to-metadata"));
  EXPECT_TRUE(metadata.blocked) << metadata.error;
  auto ftp = f.fetch_blocking(server.url("/to-ftp"));
  EXPECT_FALSE(ftp.ok());
  auto loop = f.fetch_blocking(server.url("/loop"));
  EXPECT_FALSE(loop.ok());
  EXPECT_EQ(loop.redirects, 3);
  EXPECT_FALSE(f.fetch_blocking("ftp://127.0.0.1/").ok());
  EXPECT_FALSE(f.fetch_blocking("file:///etc/passwd").ok());
}

TEST(fetcher, size_is_capped_after_decompression) {
  canned_server server;
  scrape::fetcher f(loopback_allowed());
  auto big = f.fetch_blocking(server.url("/big"));
  EXPECT_TRUE(big.too_large);
  EXPECT_FALSE(big.ok());
  auto small = f.fetch_blocking(server.url("/gzip"));
  ASSERT_TRUE(small.ok()) << small.error;
  EXPECT_EQ(small.body, "hello compressed world");
  auto start = std::chrono::steady_clock::now();
  auto bomb = f.fetch_blocking(server.url("/gzip-bomb"));
  EXPECT_TRUE(bomb.too_large) << bomb.error;
  EXPECT_LE(bomb.body.size(), std::size_t{1} << 20);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
}

TEST(fetcher, slow_servers_time_out) {
  canned_server server;
  scrape::fetcher f(loopback_allowed());
  auto start = std::chrono::steady_clock::now();
  auto r = f.fetch_blocking(server.url("/slow"));
  EXPECT_FALSE(r.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

TEST(fetcher, a_retry_after_longer_than_the_cap_is_reported_not_waited_for) {
  canned_server server;
  auto c = loopback_allowed();
  c.max_retry_after = 5s;
  scrape::fetcher f(c);
  auto start = std::chrono::steady_clock::now();
  auto r = f.fetch_blocking(server.url("/busy"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.attempts, 1);
  ASSERT_TRUE(r.retry_after_s);
  EXPECT_EQ(*r.retry_after_s, 7);
}

TEST(fetcher, transient_statuses_are_retried_honouring_retry_after) {
  canned_server server;
  auto c = loopback_allowed();
  c.retry_base = 50ms;
  scrape::fetcher f(c);
  auto start = std::chrono::steady_clock::now();
  auto r = f.fetch_blocking(server.url("/flaky")); // 503 Retry-After: 1, then 502, then 200
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "recovered");
  EXPECT_EQ(r.attempts, 3);
  EXPECT_GE(took, 1s); // the Retry-After was waited out
  EXPECT_LT(took, 3s);
}

TEST(fetcher, permanent_failures_are_not_retried_and_retries_are_bounded) {
  canned_server server;
  auto c = loopback_allowed();
  c.retry_base = 20ms;
  c.max_retries = 2;
  scrape::fetcher f(c);
  EXPECT_EQ(f.fetch_blocking(server.url("/missing")).attempts, 1); // 404 is an answer
  EXPECT_EQ(f.fetch_blocking(server.url("/big")).attempts, 1);     // over the size cap
  // Nothing listens on port 1: a refused connection is transient, retried twice, then reported.
  auto refused = f.fetch_blocking("http://127.0.0.1:1/");
  EXPECT_FALSE(refused.ok());
  EXPECT_EQ(refused.attempts, 3);
}

TEST(fetcher, requests_to_one_host_are_spaced_by_the_per_host_delay) {
  canned_server server;
  auto c = loopback_allowed();
  c.per_host_delay = 150ms;
  scrape::fetcher f(c);
  std::atomic<int> done{0};
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 4; ++i)
    f.fetch(server.url("/ok"), [&](scrape::fetch_result) { ++done; });
  auto deadline = start + 10s;
  while (done < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(done.load(), 4);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 450ms);
}

TEST(fetcher, stopping_does_not_wait_for_delayed_requests) {
  canned_server server;
  auto c = loopback_allowed();
  c.per_host_delay = 10s;
  auto start = std::chrono::steady_clock::now();
  {
    scrape::fetcher f(c);
    for (int i = 0; i < 3; ++i)
      f.fetch(server.url("/ok"), [](scrape::fetch_result) {});
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, 3s);
}

TEST(fetcher, many_concurrent_fetches_complete) {
  canned_server server;
  scrape::fetcher f(loopback_allowed());
  std::atomic<int> done{0}, ok{0};
  for (int i = 0; i < 100; ++i)
    f.fetch(server.url(i % 2 ? "/ok" : "/gzip"), [&](scrape::fetch_result r) {
      ok += r.ok() && r.status == 200;
      ++done;
    });
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (done < 100 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(10ms);
  EXPECT_EQ(done.load(), 100);
  EXPECT_EQ(ok.load(), 100);
}

TEST(scrape_cli, prints_a_json_report_and_keeps_the_guard_on_by_default) {
  canned_server server;
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
