// The server at its limits: a frozen or restarted database, a full connection table, no file
// descriptors left, a handler that throws. Real processes, real sockets, a real PostgreSQL.
#include "config/config.hpp"
#include "http/jwt.hpp"
#include "http/server.hpp"
#include "support/engine_helpers.hpp"
#include "support/process.hpp"
#include "support/raw_http.hpp"
#include "support/test_database.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <fstream>
#include <future>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <pqxx/pqxx>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace sky;
using namespace sky::test_support;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

raw_response get(int port, const std::string& target, bool with_token = false) {
  std::map<std::string, std::string> headers;
  if (with_token)
    headers["Authorization"] = test_bearer();
  return raw_exchange(port, make_request("GET", target, headers));
}

// A connected client socket that sends nothing until told to.
class client_socket {
public:
  explicit client_socket(int port) : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd_ < 0 || ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
      throw std::runtime_error("connect failed");
  }
  ~client_socket() {
    if (fd_ >= 0)
      ::close(fd_);
  }
  client_socket(const client_socket&) = delete;
  client_socket& operator=(const client_socket&) = delete;

  void send_text(const std::string& text) {
    ASSERT_EQ(::send(fd_, text.data(), text.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(text.size()));
  }
  // Whatever arrives within `wait` (empty when nothing does).
  std::string receive(std::chrono::milliseconds wait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(wait.count())) <= 0)
      return {};
    char buf[4096];
    auto n = ::recv(fd_, buf, sizeof buf, 0);
    return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
  }

private:
  int fd_;
};

// CPU seconds (user + system) the process has used so far.
double cpu_seconds(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(stat, line);
  std::istringstream rest(line.substr(line.rfind(')') + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::stoull(field);
    if (i == 15)
      stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

long count_lines(const std::string& text, const std::string& needle) {
  long n = 0;
  for (auto pos = text.find(needle); pos != std::string::npos; pos = text.find(needle, pos + 1))
    ++n;
  return n;
}

// Thaws the cluster however the test ends, so that its teardown can stop it.
struct frozen_cluster {
  explicit frozen_cluster(private_cluster& c) : cluster(c) { cluster.freeze(); }
  ~frozen_cluster() { thaw(); }
  void thaw() {
    if (frozen)
      cluster.thaw();
    frozen = false;
  }
  private_cluster& cluster;
  bool frozen = true;
};

} // namespace

// A frozen database (every PostgreSQL process stopped: connections open, nothing answers) must
// not freeze the server: /health answers at once even while every handler thread waits on the
// database, /ready turns 503 quickly, API requests get 503 with Retry-After within their deadline,
// and all recovers when the database does.
TEST(resilience, a_frozen_database_freezes_nothing_else) {
  private_cluster cluster;
  auto server = start_server(cluster.url(),
                             {{"DB_API_STATEMENT_TIMEOUT_MS", "500"},
                              {"DB_POOL_WAIT_MS", "500"},
                              {"DB_CONNECT_TIMEOUT_SECONDS", "2"},
                              {"HTTP_HANDLER_THREADS", "2"}},
                             "api");
  ASSERT_EQ(get(server.port, "/api/v3/queues", true).status, 200);
  ASSERT_EQ(get(server.port, "/ready").status, 200);

  frozen_cluster frozen(cluster);
  // More requests than handler threads, each stuck on the database.
  std::vector<std::future<std::pair<raw_response, clock_type::duration>>> api_calls;
  for (int i = 0; i < 6; ++i)
    api_calls.push_back(std::async(std::launch::async, [&] {
      auto start = clock_type::now();
      auto r = get(server.port, "/api/v3/queues", true);
      return std::make_pair(r, clock_type::now() - start);
    }));

  for (int i = 0; i < 5; ++i) {
    auto start = clock_type::now();
    auto h = get(server.port, "/health");
    EXPECT_EQ(h.status, 200);
    EXPECT_LT(clock_type::now() - start, 1s) << "/health waited on the database";
  }
  bool ready_turned = eventually(
      [&] {
        auto start = clock_type::now();
        auto r = get(server.port, "/ready");
        EXPECT_LT(clock_type::now() - start, 1s) << "/ready waited on the database";
        return r.status == 503 && r.body.find("unreachable") != std::string::npos;
      },
      10s);
  EXPECT_TRUE(ready_turned) << "/ready kept answering 200 with the database frozen";

  for (auto& call : api_calls) {
    auto [r, took] = call.get();
    EXPECT_EQ(r.status, 503) << r.raw;
    EXPECT_EQ(r.headers["retry-after"], "1") << r.raw;
    EXPECT_LT(took, 10s);
  }

  frozen.thaw();
  EXPECT_TRUE(
      eventually([&] { return get(server.port, "/api/v3/queues", true).status == 200; }, 20s));
  EXPECT_TRUE(eventually([&] { return get(server.port, "/ready").status == 200; }, 10s));
}

// Under a stall, requests do not queue behind ones that cannot be served: the handler queue is
// bounded (503 at once past it), a request that waited past DB_POOL_WAIT_MS gets 503 without
// running, and a new connection's connect counts against the pool wait. Every caller has its
// answer within the pool wait plus a second (the use deadline), with room for a slow machine.
TEST(resilience, a_stall_answers_every_request_within_the_pool_wait) {
  private_cluster cluster;
  auto server = start_server(cluster.url(),
                             {{"DB_API_STATEMENT_TIMEOUT_MS", "500"},
                              {"DB_POOL_WAIT_MS", "500"},
                              {"DB_POOL_SIZE", "2"},
                              {"DB_CONNECT_TIMEOUT_SECONDS", "5"},
                              {"HTTP_HANDLER_THREADS", "2"},
                              {"HTTP_MAX_QUEUED_REQUESTS", "4"}},
                             "api");
  ASSERT_EQ(get(server.port, "/api/v3/queues", true).status, 200);
  frozen_cluster frozen(cluster);
  std::vector<std::future<std::pair<raw_response, clock_type::duration>>> calls;
  for (int i = 0; i < 16; ++i)
    calls.push_back(std::async(std::launch::async, [&] {
      auto start = clock_type::now();
      auto r = get(server.port, "/api/v3/queues", true);
      return std::make_pair(r, clock_type::now() - start);
    }));
  int at_once = 0;
  for (auto& call : calls) {
    auto [r, took] = call.get();
    EXPECT_EQ(r.status, 503) << r.raw;
    EXPECT_EQ(r.headers["retry-after"], "1") << r.raw;
    // 500 ms pool wait + 1 s; the bound leaves a slow machine its margin, not another round.
    EXPECT_LT(took, 4s);
    at_once += took < 400ms ? 1 : 0;
  }
  EXPECT_GT(at_once, 0) << "a full handler queue answers at once";
  // Connections that died with the freeze: a fresh connect to the frozen server must not hold a
  // request past the pool wait either (DB_CONNECT_TIMEOUT_SECONDS is 5).
  auto start = clock_type::now();
  auto r = get(server.port, "/api/v3/queues", true);
  EXPECT_EQ(r.status, 503) << r.raw;
  EXPECT_LT(clock_type::now() - start, 4s);
  frozen.thaw();
  EXPECT_TRUE(
      eventually([&] { return get(server.port, "/api/v3/queues", true).status == 200; }, 20s));
}

// A request whose client gave up while it waited for a handler does not run: the client's retry
// would otherwise do its work twice.
TEST(resilience, a_request_whose_client_left_before_it_ran_writes_nothing) {
  private_cluster cluster;
  auto server = start_server(cluster.url(),
                             {{"DB_API_STATEMENT_TIMEOUT_MS", "20000"},
                              {"DB_POOL_WAIT_MS", "20000"},
                              {"HTTP_HANDLER_THREADS", "1"}},
                             "api");
  ASSERT_EQ(get(server.port, "/api/v3/queues", true).status, 200);
  // The one handler thread waits on a lock the test holds.
  pqxx::connection locker(cluster.url());
  pqxx::work lock_tx(locker);
  lock_tx.exec("LOCK TABLE domains IN ACCESS EXCLUSIVE MODE");
  auto blocker = std::async(std::launch::async, [&] {
    return raw_exchange(server.port,
                        make_request("POST", "/api/v3/domains", {{"Authorization", test_bearer()}},
                                     R"({"domains":["blocker.com"]})"));
  });
  ASSERT_TRUE(eventually(
      [&] {
        return count(cluster.url(), "SELECT count(*) FROM pg_stat_activity WHERE "
                                    "wait_event_type = 'Lock' AND query LIKE '%domains%'") == 1;
      },
      10s));
  {
    client_socket impatient(server.port);
    const std::string body = R"({"domains":["left-before-it-ran.com"]})";
    impatient.send_text(
        "POST /api/v3/domains HTTP/1.1\r\nHost: x\r\nAuthorization: " + test_bearer() +
        "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
        "\r\n\r\n" + body);
    EXPECT_EQ(impatient.receive(300ms), "") << "queued behind the blocked handler";
  } // the client gives up and closes
  lock_tx.commit();
  EXPECT_EQ(blocker.get().status, 202);
  // A patient client's request of the same kind runs: the handler thread is free again.
  auto control = raw_exchange(server.port, make_request("POST", "/api/v3/domains",
                                                        {{"Authorization", test_bearer()}},
                                                        R"({"domains":["stayed.com"]})"));
  EXPECT_EQ(control.status, 202) << control.raw;
  EXPECT_EQ(count(cluster.url(), "SELECT count(*) FROM domains WHERE domain = 'stayed.com'"), 1);
  EXPECT_EQ(
      count(cluster.url(), "SELECT count(*) FROM domains WHERE domain = 'left-before-it-ran.com'"),
      0);
}

namespace {

// A client socket from a chosen loopback source address.
int connect_from(const char* source, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("connect failed");
  return fd;
}

std::string exchange_on(int fd, const std::string& request, std::chrono::milliseconds wait) {
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string got;
  const auto deadline = clock_type::now() + wait;
  while (got.find("\r\n\r\n") == std::string::npos && clock_type::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

// True when the server closes `fd` within `wait`.
bool closed_by_server(int fd, std::chrono::milliseconds wait) {
  const auto deadline = clock_type::now() + wait;
  while (clock_type::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    char buf[4096];
    if (::recv(fd, buf, sizeof buf, 0) <= 0)
      return true;
  }
  return false;
}

const std::string k_keep_alive_health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

} // namespace

// At the connection cap, the oldest idle kept-alive connection makes room for a newcomer, and
// /health and /ready still answer when every connection is busy.
TEST(resilience, the_connection_cap_sheds_idle_connections_and_keeps_room_for_probes) {
  private_cluster cluster;
  auto server = start_server(cluster.url(), {{"HTTP_MAX_CONNECTIONS", "4"}}, "api");
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_from("127.0.0.1", server.port));
    ASSERT_NE(exchange_on(idle.back(), k_keep_alive_health, 5s).find("200 OK"), std::string::npos);
  }
  // Four idle kept-alive connections fill the cap: a fifth client is served at once.
  auto start = clock_type::now();
  auto r = get(server.port, "/api/v3/queues", true);
  EXPECT_EQ(r.status, 200) << r.raw;
  EXPECT_LT(clock_type::now() - start, 5s);
  EXPECT_TRUE(closed_by_server(idle.front(), 5s)) << "the oldest idle connection was shed";
  for (int fd : idle)
    ::close(fd);

  // Now four connections busy sending their first request: none is idle to shed.
  std::vector<int> busy;
  for (int i = 0; i < 4; ++i) {
    busy.push_back(connect_from("127.0.0.1", server.port));
    const std::string started = "GET /api/v3/queues HTTP/1.1\r\n";
    ::send(busy.back(), started.data(), started.size(), MSG_NOSIGNAL);
  }
  ASSERT_TRUE(eventually([&] { return get(server.port, "/health").status == 200; }, 10s))
      << "/health answers with the cap full";
  EXPECT_EQ(get(server.port, "/ready").status, 200);
  auto api = get(server.port, "/api/v3/queues", true);
  EXPECT_EQ(api.status, 503) << "over the cap, only the probes run\n" << api.raw;
  for (int fd : busy)
    ::close(fd);
}

TEST(resilience, one_address_cannot_take_every_connection) {
  private_cluster cluster;
  // Two connections in all: the address's two fill the cap too.
  auto server = start_server(
      cluster.url(), {{"HTTP_MAX_CONNECTIONS_PER_ADDRESS", "2"}, {"HTTP_MAX_CONNECTIONS", "2"}},
      "api");
  int a = connect_from("127.0.0.1", server.port), b = connect_from("127.0.0.1", server.port);
  ASSERT_NE(exchange_on(a, k_keep_alive_health, 5s).find("200 OK"), std::string::npos);
  ASSERT_NE(exchange_on(b, k_keep_alive_health, 5s).find("200 OK"), std::string::npos);
  int third = connect_from("127.0.0.1", server.port);
  auto refused = exchange_on(third, k_keep_alive_health, 5s);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("too_many_connections"), std::string::npos) << refused;
  // Refused for its address, the newcomer made nobody else's idle connection go.
  EXPECT_FALSE(closed_by_server(a, 300ms));
  EXPECT_FALSE(closed_by_server(b, 300ms));
  // Another address is served.
  int other = connect_from("127.0.0.3", server.port);
  EXPECT_NE(exchange_on(other, k_keep_alive_health, 5s).find("200 OK"), std::string::npos);
  for (int fd : {a, b, third, other})
    ::close(fd);
}

// A kept-alive connection idles until its next request starts; from its first byte the whole
// request has one deadline, not a fresh idle timeout per header block.
TEST(resilience, a_started_request_has_one_deadline_on_a_kept_alive_connection) {
  private_cluster cluster;
  auto server = start_server(
      cluster.url(), {{"HTTP_REQUEST_TIMEOUT_SECONDS", "1"}, {"HTTP_IDLE_TIMEOUT_SECONDS", "60"}},
      "api");
  int fd = connect_from("127.0.0.1", server.port);
  ASSERT_NE(exchange_on(fd, k_keep_alive_health, 5s).find("200 OK"), std::string::npos);
  // Idle within the idle timeout: still open.
  EXPECT_FALSE(closed_by_server(fd, 1500ms));
  // A request started and never finished: closed at its request timeout, long before 60 s.
  const std::string started = "GET /health HTTP/1.1\r\nHo";
  ::send(fd, started.data(), started.size(), MSG_NOSIGNAL);
  EXPECT_TRUE(closed_by_server(fd, 10s));
  ::close(fd);
}

// After a PostgreSQL restart every pooled connection is dead; none may surface as an error.
TEST(resilience, a_database_restart_costs_no_failed_request) {
  private_cluster cluster;
  auto server = start_server(cluster.url(), {{"DB_POOL_SIZE", "4"}}, "api");
  // Fill the pool with several connections.
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t)
    clients.emplace_back([&] {
      for (int i = 0; i < 15; ++i)
        if (get(server.port, "/api/v3/queues", true).status != 200)
          ++failures;
    });
  for (auto& c : clients)
    c.join();
  ASSERT_EQ(failures.load(), 0);
  ASSERT_GE(count(cluster.url(), "SELECT count(*) FROM pg_stat_activity WHERE backend_type = "
                                 "'client backend' AND pid <> pg_backend_pid() AND "
                                 "application_name NOT LIKE 'scrapersky%'"),
            2)
      << "the pool should hold several connections before the restart";

  cluster.stop();
  cluster.start();
  for (int i = 0; i < 10; ++i) {
    auto r = get(server.port, "/api/v3/queues", true);
    EXPECT_EQ(r.status, 200) << "request " << i << " after the restart: " << r.raw;
  }
  EXPECT_TRUE(eventually([&] { return get(server.port, "/ready").status == 200; }, 10s));
}

// At HTTP_MAX_CONNECTIONS the server stops accepting; a waiting client is served as soon as a
// connection closes.
// Past the cap, with none idle to shed and the probes' slots taken, a newcomer gets 503 at once
// (not a hung connect); once a connection closes, the next one is served.
TEST(resilience, connections_past_the_cap_get_503_at_once_until_a_slot_frees) {
  scoped_database db;
  auto server = start_server(db.url(), {{"HTTP_MAX_CONNECTIONS", "3"}}, "api");
  // Three connections that have not sent a request yet: busy, none idle to shed.
  std::vector<std::unique_ptr<client_socket>> busy;
  for (int i = 0; i < 3; ++i)
    busy.push_back(std::make_unique<client_socket>(server.port));
  // Over the cap a few connections more are kept for the probes: a probe is answered there.
  {
    client_socket probe(server.port);
    probe.send_text(make_request("GET", "/health"));
    EXPECT_EQ(probe.receive(5s).rfind("HTTP/1.1 200", 0), 0u);
  }
  // Those taken too, two per address, by requests started and not finished.
  std::vector<int> probes;
  for (const char* source : {"127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4"})
    for (int i = 0; i < 2; ++i) {
      probes.push_back(connect_from(source, server.port));
      const std::string started = "GET /health HTTP/1.1\r\n";
      ::send(probes.back(), started.data(), started.size(), MSG_NOSIGNAL);
    }
  // A third probe from one address, and any client past the probes' slots, get 503 at once.
  int refused = connect_from("127.0.0.5", server.port);
  auto answer = exchange_on(refused, make_request("GET", "/health"), 5s);
  EXPECT_EQ(answer.rfind("HTTP/1.1 503", 0), 0u) << answer;
  EXPECT_NE(answer.find("too_many_connections"), std::string::npos) << answer;
  ::close(refused);
  busy.front().reset();
  ASSERT_TRUE(eventually([&] { return get(server.port, "/health").status == 200; }, 10s))
      << "a freed slot serves the next client";
  for (int fd : probes)
    ::close(fd);
}

// Under a low descriptor limit, more clients than descriptors: the server holds no more
// connections than leave it descriptors of its own, does not spin or flood its log while others
// wait, and serves again once they go.
TEST(resilience, a_low_descriptor_limit_neither_spins_nor_starves_the_server) {
  scoped_database db;
  auto server =
      start_server(db.url(), {}, "api", {"/bin/sh", "-c", "ulimit -n 48 && exec \"$@\"", "sh"});
  std::vector<std::unique_ptr<client_socket>> idle;
  for (int i = 0; i < 80; ++i)
    idle.push_back(std::make_unique<client_socket>(server.port));
  ASSERT_TRUE(server.process->wait_for_line("the most allowed", 10s).has_value())
      << server.process->output();

  const double before = cpu_seconds(server.process->pid());
  const auto window_start = clock_type::now();
  // Keep reading its output (so the pipe never fills) for the length of the window.
  server.process->wait_for_line("a line that never comes", 2s);
  const double window = std::chrono::duration<double>(clock_type::now() - window_start).count();
  const double used = cpu_seconds(server.process->pid()) - before;
  EXPECT_LT(used, 0.25 * window) << "the accept loop spun: " << used << " s of CPU in " << window
                                 << " s";
  const auto& log = server.process->output();
  EXPECT_EQ(count_lines(log, "the most allowed"), 1) << "waiting clients flood the log";
  EXPECT_EQ(count_lines(log, "accept failed"), 0) << "client sockets exhausted the descriptors";
  // Once the clients go, it serves again, database requests included.
  idle.clear();
  EXPECT_TRUE(
      eventually([&] { return get(server.port, "/api/v3/queues", true).status == 200; }, 20s));
  EXPECT_TRUE(eventually([&] { return get(server.port, "/health").status == 200; }, 10s));
}

TEST(resilience, the_connection_cap_leaves_descriptors_for_the_server) {
  EXPECT_EQ(http::connection_cap(1024, 1 << 20), 1024);
  EXPECT_EQ(http::connection_cap(1024, 1024), 768);
  EXPECT_EQ(http::connection_cap(1024, 48), 24);
  EXPECT_EQ(http::connection_cap(3, 48), 3);
  EXPECT_EQ(http::connection_cap(1024, 1), 1);
  EXPECT_EQ(http::connection_cap(1024, ~std::uint64_t{0}), 1024);
}

// A handler that throws something that is not a std::exception kills its session, yet its
// request still counts as finished: shutdown does not wait out its grace period for it.
TEST(resilience, a_request_whose_handler_throws_still_counts_as_finished) {
  http::router routes(
      http::open_routes(
          {{"GET", "/throws", [](http::request_context&) -> http::api_response { throw 42; }}}),
      std::string(32, 'x'));
  config::http_config cfg;
  cfg.port = 0;
  http::http_server server(cfg, routes);
  auto port = server.start();
  auto r = raw_exchange(port, make_request("GET", "/throws"));
  EXPECT_EQ(r.status, 0); // the session ended without an answer
  auto start = clock_type::now();
  server.shutdown(20s);
  EXPECT_LT(clock_type::now() - start, 10s) << "shutdown waited for a request that had ended";
}
