// Beast session coroutines: limits, timeouts, JSON errors for protocol faults, graceful stop.
#include "http/server.hpp"

#include "config/config.hpp"
#include "process/thread_watchdog.hpp"

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <poll.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <thread>
#include <utility>

namespace sky::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

constexpr auto k_no_throw = asio::as_tuple(use_awaitable);

bhttp::response<bhttp::string_body> to_beast(const api_response& r, unsigned version,
                                             bool keep_alive, bool head) {
  bhttp::response<bhttp::string_body> res{static_cast<bhttp::status>(r.status), version};
  res.set(bhttp::field::server, "scrapersky");
  res.set(bhttp::field::content_type, r.content_type);
  for (const auto& [name, value] : r.headers)
    res.set(name, value);
  res.keep_alive(keep_alive);
  if (head) {
    res.content_length(r.body.size());
  } else {
    res.body() = r.body;
    res.prepare_payload();
  }
  return res;
}

// At most one log line per `every`; the lines in between are counted and reported with the next.
class log_limiter {
public:
  explicit log_limiter(std::chrono::seconds every) : every_(every) {}
  // The number of events suppressed since the last line when this one should be logged.
  std::optional<long> admit() {
    auto now = std::chrono::steady_clock::now();
    if (logged_ && now - last_ < every_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_ = true;
    last_ = now;
    return std::exchange(suppressed_, 0);
  }

private:
  std::chrono::seconds every_;
  std::chrono::steady_clock::time_point last_{};
  bool logged_ = false;
  long suppressed_ = 0;
};

} // namespace

int connection_cap(int configured, std::uint64_t descriptor_limit) {
  const auto limit = static_cast<long long>(std::min<std::uint64_t>(descriptor_limit, 1u << 30));
  const long long reserve = std::max<long long>(64, limit / 4);
  const long long room = std::max(limit / 2, limit - reserve);
  return static_cast<int>(std::max<long long>(1, std::min<long long>(configured, room)));
}

struct http_server::impl {
  impl(const config::http_config& c, const router& r)
      : config(c), routes(r), handler_pool(static_cast<std::size_t>(c.handler_threads)),
        acceptor(io) {}

  const config::http_config config; // a copy: callers may pass a temporary
  const router& routes;
  // Declared before the I/O context: sessions still suspended when it is destroyed release
  // their counts into these.
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable idle;
  int active_requests = 0;
  std::atomic<int> open_connections{0};
  int max_connections = 1; // config.max_connections within the descriptor limit, set by start()
  // Connections by client address, and the kept-alive ones idling between requests (oldest
  // first): at the cap the oldest idle one is shed to make room. Also before the I/O context.
  std::mutex connections_mutex;
  std::map<std::string, int> per_address;
  // A session's socket as the shedding side sees it: posted to the session's strand, so that the
  // socket is only ever touched there; gone once the session stops idling.
  struct idle_token {
    asio::any_io_executor strand;
    tcp::socket* socket;
  };
  struct idle_connection {
    std::uint64_t id;
    std::weak_ptr<idle_token> token;
  };
  std::list<idle_connection> idle_connections;
  std::uint64_t next_connection_id = 1;
  int probe_connections = 0; // over the cap, serving /health and /ready alone
  std::map<std::string, int> probes_by_address;
  asio::io_context io;
  asio::thread_pool handler_pool;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  // For the watchdog: the threads' kernel ids and the handler tasks finished so far.
  std::mutex thread_ids_mutex;
  std::vector<int> io_thread_ids, handler_thread_ids;
  std::atomic<std::uint64_t> handled{0};
  std::vector<process::thread_watchdog::registration> watched; // cleared first at shutdown

  std::atomic<int> queued_handlers{0}; // requests waiting for a handler thread

  // 503 with Retry-After: the server cannot take the request now.
  static api_response overloaded(std::string_view why) {
    auto r = json_error(503, "overloaded", why);
    r.headers.emplace_back("Retry-After", "1");
    return r;
  }

  // Whether the client of `fd` has closed its side (or the connection is gone): a request it will
  // never read the answer of must not run, or a retry of it would do its work twice.
  static bool client_gone(int fd) {
    pollfd p{fd, POLLIN | POLLRDHUP, 0};
    if (::poll(&p, 1, 0) <= 0)
      return false;
    if (p.revents & (POLLRDHUP | POLLHUP | POLLERR))
      return true;
    char probe = 0;
    return ::recv(fd, &probe, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }

  // A blocking handler on the handler pool, within the queue's bounds: a full queue answers 503 at
  // once, a request that waited past queue_wait gets 503 without running, and one whose client
  // left does not run.
  awaitable<api_response> run_on_handler_pool(dispatch& resolved, int fd) {
    if (queued_handlers.load() >= config.max_queued_requests)
      co_return overloaded("too many requests are waiting; retry shortly");
    ++queued_handlers;
    const auto enqueued = std::chrono::steady_clock::now();
    co_return co_await asio::co_spawn(
        handler_pool,
        [&]() -> awaitable<api_response> {
          --queued_handlers;
          note_handler_thread();
          api_response answer;
          if (config.queue_wait.count() > 0 &&
              std::chrono::steady_clock::now() - enqueued > config.queue_wait) {
            answer = overloaded("the request waited too long for a handler; retry shortly");
          } else if (client_gone(fd)) {
            spdlog::debug("{} {}: the client left before it ran; not run",
                          resolved.context.request.method, resolved.target->pattern);
            answer = overloaded("the client left");
          } else {
            answer = routes.run(resolved);
          }
          ++handled;
          co_return answer;
        },
        use_awaitable);
  }

  void note_handler_thread() {
    thread_local const impl* noted_for = nullptr;
    if (noted_for == this)
      return;
    noted_for = this;
    process::name_this_thread("sky-http");
    std::lock_guard lock(thread_ids_mutex);
    handler_thread_ids.push_back(process::current_thread_id());
  }

  // Counts a request from its start until it is answered, however it ends (a handler that throws
  // included), so that shutdown waits for exactly the requests in flight.
  struct request_in_flight {
    explicit request_in_flight(impl& s) : s(s) {
      std::lock_guard lock(s.mutex);
      ++s.active_requests;
    }
    ~request_in_flight() {
      {
        std::lock_guard lock(s.mutex);
        --s.active_requests;
      }
      s.idle.notify_all();
    }
    request_in_flight(const request_in_flight&) = delete;
    request_in_flight& operator=(const request_in_flight&) = delete;
    impl& s;
  };

  static constexpr int k_probe_slots = 8;
  static constexpr int k_probe_slots_per_address = 2;

  struct connection_slot {
    connection_slot(impl& s, std::string address, bool probe_only)
        : s(s), address(std::move(address)), probe_only(probe_only) {
      if (!probe_only) // the probes' few connections are apart from the cap
        ++s.open_connections;
    }
    ~connection_slot() {
      if (!probe_only)
        --s.open_connections;
      std::lock_guard lock(s.connections_mutex);
      if (probe_only) {
        --s.probe_connections;
        if (auto it = s.probes_by_address.find(address);
            it != s.probes_by_address.end() && --it->second <= 0)
          s.probes_by_address.erase(it);
      }
      if (auto it = s.per_address.find(address); it != s.per_address.end() && --it->second <= 0)
        s.per_address.erase(it);
    }
    connection_slot(const connection_slot&) = delete;
    connection_slot& operator=(const connection_slot&) = delete;
    impl& s;
    const std::string address;
    const bool probe_only;
  };

  // While alive, the connection idles between requests and may be shed at the cap.
  struct idle_registration {
    idle_registration(impl& s, asio::any_io_executor strand, tcp::socket& socket)
        : s(s), token(std::make_shared<idle_token>(idle_token{std::move(strand), &socket})) {
      std::lock_guard lock(s.connections_mutex);
      id = s.next_connection_id++;
      s.idle_connections.push_back({id, token});
    }
    ~idle_registration() {
      std::lock_guard lock(s.connections_mutex);
      s.idle_connections.remove_if([&](const idle_connection& c) { return c.id == id; });
    }
    idle_registration(const idle_registration&) = delete;
    idle_registration& operator=(const idle_registration&) = delete;
    impl& s;
    std::shared_ptr<idle_token> token;
    std::uint64_t id = 0;
  };

  // Ends the oldest idle kept-alive connection that holds a counted slot: its shutdown is posted
  // to its session's strand, where its pending read then ends. False when none idles.
  bool shed_oldest_idle() {
    std::lock_guard lock(connections_mutex);
    while (!idle_connections.empty()) {
      auto oldest = idle_connections.front();
      idle_connections.pop_front();
      auto token = oldest.token.lock();
      if (!token)
        continue;
      asio::post(token->strand, [weak = oldest.token] {
        if (auto alive = weak.lock()) {
          boost::system::error_code ignored;
          alive->socket->shutdown(tcp::socket::shutdown_both, ignored);
        }
      });
      return true;
    }
    return false;
  }

  awaitable<void> write_error(beast::tcp_stream& stream, int status, std::string_view code,
                              std::string_view detail) {
    auto res = to_beast(json_error(status, code, detail), 11, false, false);
    stream.expires_after(std::chrono::seconds(5));
    co_await bhttp::async_write(stream, res, k_no_throw);
  }

  // Accepted over the cap, with nowhere to go: told so at once, and closed.
  awaitable<void> refuse(tcp::socket socket, std::string_view code, std::string_view detail) {
    beast::tcp_stream stream(std::move(socket));
    co_await write_error(stream, 503, code, detail);
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // `slot` counts the connection against the cap for as long as the session lives.
  awaitable<void> session(tcp::socket socket, std::shared_ptr<connection_slot> slot) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      parser.body_limit(config.max_body_bytes);
      // A kept-alive connection may idle until its next request starts; from its first byte on,
      // the whole request (header and body) must arrive within one request timeout.
      if (!first && buffer.size() == 0) {
        // Only a connection holding a counted slot is shed for a newcomer (a probe's is not one).
        std::optional<idle_registration> idling;
        if (!slot->probe_only)
          idling.emplace(*this, co_await asio::this_coro::executor, stream.socket());
        stream.expires_after(config.idle_timeout);
        auto [idle_ec, got] = co_await stream.async_read_some(buffer.prepare(4096), k_no_throw);
        if (idle_ec || got == 0)
          break;
        buffer.commit(got);
      }
      stream.expires_after(config.request_timeout);
      first = false;
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, k_no_throw);
      // The route and the caller's right to it are decided once, from the header alone: a
      // request that would get 401, 404 or 405 is answered before its body is read (and the
      // connection closed, the body unread), and only an authorised one is told to go on sending
      // it. The body joins the request once read; the resolved route refers to it.
      api_request request;
      std::optional<dispatch> resolved;
      if (!ec) {
        const auto& head = parser.get();
        request.method = std::string(head.method_string());
        request.target = std::string(head.target());
        request.authorization = std::string(head[bhttp::field::authorization]);
        request.content_type = std::string(head[bhttp::field::content_type]);
        request.host = std::string(head[bhttp::field::host]);
        request.if_none_match = std::string(head[bhttp::field::if_none_match]);
        for (const auto& field : head)
          request.headers.emplace_back(field.name_string(), field.value());
        resolved.emplace(routes.resolve(request));
        if (resolved->answer && !parser.is_done()) {
          auto res = to_beast(*resolved->answer, head.version(), false,
                              head.method() == bhttp::verb::head);
          stream.expires_after(std::chrono::seconds(5));
          co_await bhttp::async_write(stream, res, k_no_throw);
          // Closed with unread bytes, the socket would reset and the client might never read
          // the answer: say no more, and discard a little of what is still coming (bounded).
          beast::error_code ignored;
          stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
          stream.expires_after(std::chrono::milliseconds(250));
          std::array<char, 4096> discard;
          for (std::size_t drained = 0; drained < (64u << 10);) {
            auto [drain_ec, got] =
                co_await stream.async_read_some(asio::buffer(discard), k_no_throw);
            if (drain_ec)
              break;
            drained += got;
          }
          break;
        }
        if (head[bhttp::field::expect] == "100-continue") {
          bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
          co_await bhttp::async_write(stream, cont, k_no_throw);
        }
      }
      if (!ec && !parser.is_done())
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, k_no_throw);
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
          ec == beast::error::timeout || ec == asio::error::operation_aborted ||
          ec == asio::error::connection_reset)
        break;
      if (ec == bhttp::error::body_limit) {
        co_await write_error(stream, 413, "payload_too_large",
                             "request body exceeds " + std::to_string(config.max_body_bytes) +
                                 " bytes");
        break;
      }
      if (ec == bhttp::error::header_limit) {
        co_await write_error(stream, 431, "headers_too_large",
                             "request headers exceed " + std::to_string(config.max_header_bytes) +
                                 " bytes");
        break;
      }
      if (ec) {
        co_await write_error(stream, 400, "bad_request", "malformed HTTP request: " + ec.message());
        break;
      }

      auto req = parser.release();
      request.body = std::move(req.body());
      bool keep_alive = false;
      boost::system::error_code wec;
      {
        request_in_flight counted(*this);
        auto& route = *resolved;
        api_response response;
        // Handlers that may block (database, network) never run on an I/O thread; the ones that
        // only read memory (health) answer from it, so they stay fast when the pool is busy.
        if (slot->probe_only && !route.answer &&
            (route.target->auth != access::open || route.target->runs != execution::nonblocking)) {
          // A connection over the cap is there for the probes: nothing else runs on it.
          response = overloaded("the server is at its connection limit; retry shortly");
          req.keep_alive(false);
        } else if (route.answer || route.target->runs == execution::nonblocking)
          response = routes.run(route);
        else
          response = co_await run_on_handler_pool(route, stream.socket().native_handle());
        keep_alive = req.keep_alive() && !stopping.load();
        auto res = to_beast(response, req.version(), keep_alive, req.method() == bhttp::verb::head);
        stream.expires_after(config.request_timeout);
        std::tie(wec, std::ignore) = co_await bhttp::async_write(stream, res, k_no_throw);
      }
      if (wec || !keep_alive)
        break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  awaitable<void> pause(std::chrono::milliseconds how_long) {
    asio::steady_timer timer(io, how_long);
    co_await timer.async_wait(k_no_throw);
  }

  awaitable<void> accept_loop() {
    using std::chrono::milliseconds;
    const milliseconds k_first_backoff{10}, k_longest_backoff{1000};
    milliseconds backoff = k_first_backoff;
    log_limiter accept_errors(std::chrono::seconds(10)), at_capacity(std::chrono::seconds(10));
    for (;;) {
      // Each connection lives on a strand of its own: its session, its stream's timer and the
      // shedding of it at the cap all run there, one at a time, however many I/O threads run.
      auto strand = asio::make_strand(io);
      auto [ec, accepted] = co_await acceptor.async_accept(strand, k_no_throw);
      tcp::socket socket(std::move(accepted));
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open())
          co_return;
        // Out of descriptors or memory: the pending connection stays in the backlog, so retrying
        // at once would fail again at once. Back off, and log at most every few seconds.
        if (auto suppressed = accept_errors.admit())
          spdlog::warn("accept failed: {}; retrying in {} ms{}", ec.message(), backoff.count(),
                       *suppressed
                           ? fmt::format(" ({} more failures since last logged)", *suppressed)
                           : std::string());
        co_await pause(backoff);
        backoff = std::min(backoff * 2, k_longest_backoff);
        continue;
      }
      backoff = k_first_backoff;
      boost::system::error_code peer_ec;
      const auto peer = socket.remote_endpoint(peer_ec);
      const auto address = peer_ec ? std::string() : peer.address().to_string();
      // Where the newcomer goes: its address's share first, then a counted slot (shedding the
      // oldest idle kept-alive connection at the cap), else one of the probes' few slots, else
      // 503 at once. Nothing is shed for a client that is refused anyway.
      enum class placement { counted, probe, over_address_cap, full } place = placement::counted;
      {
        std::lock_guard lock(connections_mutex);
        auto& from_address = per_address[address];
        if (from_address >= config.max_connections_per_address)
          place = placement::over_address_cap;
        else if (open_connections.load() >= max_connections)
          place = placement::full; // decided below, outside the lock (shedding takes it)
        if (place == placement::counted)
          ++from_address;
      }
      if (place == placement::full) {
        const bool shed = shed_oldest_idle();
        std::lock_guard lock(connections_mutex);
        auto& from_address = per_address[address];
        if (shed) {
          place = placement::counted;
          ++from_address;
        } else if (probe_connections < k_probe_slots &&
                   probes_by_address[address] < k_probe_slots_per_address) {
          place = placement::probe;
          ++probe_connections;
          ++probes_by_address[address];
          ++from_address;
        }
      }
      if (place == placement::over_address_cap || place == placement::full) {
        if (place == placement::full)
          if (auto suppressed = at_capacity.admit())
            spdlog::warn(
                "{} open connections, the most allowed, and none idle: newcomers get 503{}",
                max_connections,
                *suppressed ? fmt::format(" ({} more times since last logged)", *suppressed)
                            : std::string());
        {
          std::lock_guard lock(connections_mutex);
          if (auto it = per_address.find(address); it != per_address.end() && it->second <= 0)
            per_address.erase(it);
        }
        asio::co_spawn(io,
                       refuse(std::move(socket), "too_many_connections",
                              place == placement::full
                                  ? "the server is at its connection limit; retry shortly"
                                  : "too many connections from this address; retry shortly"),
                       asio::detached);
        continue;
      }
      const bool probe_only = place == placement::probe;
      auto slot = std::make_shared<connection_slot>(*this, address, probe_only);
      asio::co_spawn(strand, session(std::move(socket), std::move(slot)), [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("http session ended with an exception: {}", ex.what());
          } catch (...) {
            spdlog::error("http session ended with an exception of unknown type");
          }
        }
      });
    }
  }
};

http_server::http_server(const config::http_config& config, const router& routes)
    : impl_(std::make_unique<impl>(config, routes)) {}

http_server::~http_server() {
  if (!impl_->threads.empty())
    shutdown(std::chrono::milliseconds(0));
}

std::uint16_t http_server::start() {
  auto& s = *impl_;
  rlimit files{};
  // Without a known limit, the configured cap stands.
  if (getrlimit(RLIMIT_NOFILE, &files) != 0)
    files.rlim_cur = RLIM_INFINITY;
  s.max_connections = connection_cap(s.config.max_connections, files.rlim_cur);
  if (s.max_connections < s.config.max_connections)
    spdlog::warn("at most {} client connections (HTTP_MAX_CONNECTIONS is {}, but the descriptor "
                 "limit is {})",
                 s.max_connections, s.config.max_connections, files.rlim_cur);
  tcp::endpoint endpoint(asio::ip::make_address(s.config.host), s.config.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  auto port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.io, s.accept_loop(), asio::detached);
  for (int i = 0; i < s.config.io_threads; ++i)
    s.threads.emplace_back([&s] {
      {
        std::lock_guard lock(s.thread_ids_mutex);
        s.io_thread_ids.push_back(process::current_thread_id());
      }
      process::name_this_thread("sky-http-io");
      s.io.run();
    });
  return port;
}

void http_server::watch_with(process::thread_watchdog& watchdog, const std::string& prefix) {
  auto& s = *impl_;
  s.watched.push_back(
      watchdog.watch({prefix + "http_io",
                      [&s](std::function<void()> task) { asio::post(s.io, std::move(task)); },
                      [&s] {
                        std::lock_guard lock(s.thread_ids_mutex);
                        return s.io_thread_ids;
                      },
                      {}}));
  // Handlers may wait on the database for seconds each: a queue of them is slow, not stalled,
  // as long as some finish.
  s.watched.push_back(watchdog.watch({prefix + "http_handlers",
                                      [&s](std::function<void()> task) {
                                        asio::post(s.handler_pool, [&s, task = std::move(task)] {
                                          s.note_handler_thread();
                                          task();
                                        });
                                      },
                                      [&s] {
                                        std::lock_guard lock(s.thread_ids_mutex);
                                        return s.handler_thread_ids;
                                      },
                                      [&s] { return s.handled.load(); }}));
}

void http_server::shutdown(std::chrono::milliseconds grace) {
  auto& s = *impl_;
  s.watched.clear(); // a server being stopped runs no heartbeats, and is not stalled for it
  s.stopping = true;
  asio::post(s.io, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
  });
  {
    std::unique_lock lock(s.mutex);
    s.idle.wait_for(lock, grace, [&] { return s.active_requests == 0; });
  }
  s.io.stop();
  for (auto& t : s.threads)
    t.join();
  s.threads.clear();
  s.handler_pool.join();
}

} // namespace sky::http
