// Beast session coroutines: limits, timeouts, JSON errors for protocol faults, graceful stop.
#include "http/server.hpp"

#include "config/config.hpp"

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast.hpp>
#include <condition_variable>
#include <mutex>
#include <spdlog/spdlog.h>
#include <thread>

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

} // namespace

struct http_server::impl {
  impl(const config::http_config& c, const router& r)
      : config(c), routes(r), handler_pool(static_cast<std::size_t>(c.handler_threads)),
        acceptor(io) {}

  const config::http_config config; // a copy: callers may pass a temporary
  const router& routes;
  asio::io_context io;
  asio::thread_pool handler_pool;
  tcp::acceptor acceptor;
  std::vector<std::thread> threads;
  std::atomic<bool> stopping{false};
  std::mutex mutex;
  std::condition_variable idle;
  int active_requests = 0;

  void request_started() {
    std::lock_guard lock(mutex);
    ++active_requests;
  }
  void request_finished() {
    {
      std::lock_guard lock(mutex);
      --active_requests;
    }
    idle.notify_all();
  }

  awaitable<void> write_error(beast::tcp_stream& stream, int status, std::string_view code,
                              std::string_view detail) {
    auto res = to_beast(json_error(status, code, detail), 11, false, false);
    stream.expires_after(std::chrono::seconds(5));
    co_await bhttp::async_write(stream, res, k_no_throw);
  }

  awaitable<void> session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(config.max_header_bytes));
      parser.body_limit(config.max_body_bytes);
      // A fresh connection must send its request promptly; a kept-alive one may idle longer.
      stream.expires_after(first ? config.request_timeout : config.idle_timeout);
      first = false;
      auto [ec, n] = co_await bhttp::async_read_header(stream, buffer, parser, k_no_throw);
      if (!ec && parser.get()[bhttp::field::expect] == "100-continue") {
        bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, 11};
        co_await bhttp::async_write(stream, cont, k_no_throw);
      }
      if (!ec && !parser.is_done()) {
        stream.expires_after(config.request_timeout);
        std::tie(ec, n) = co_await bhttp::async_read(stream, buffer, parser, k_no_throw);
      }
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
      api_request request{std::string(req.method_string()),
                          std::string(req.target()),
                          std::string(req[bhttp::field::authorization]),
                          std::string(req[bhttp::field::content_type]),
                          std::move(req.body()),
                          std::string(req[bhttp::field::host])};
      request_started();
      // Handlers may block on the database, so they never run on an I/O thread.
      api_response response = co_await asio::co_spawn(
          handler_pool, [&]() -> awaitable<api_response> { co_return routes.handle(request); },
          use_awaitable);
      bool keep_alive = req.keep_alive() && !stopping.load();
      auto res = to_beast(response, req.version(), keep_alive, req.method() == bhttp::verb::head);
      stream.expires_after(config.request_timeout);
      auto [wec, written] = co_await bhttp::async_write(stream, res, k_no_throw);
      request_finished();
      if (wec || !keep_alive)
        break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(k_no_throw);
      if (ec) {
        if (ec == asio::error::operation_aborted || !acceptor.is_open())
          co_return;
        spdlog::warn("accept failed: {}", ec.message());
        continue;
      }
      asio::co_spawn(io, session(std::move(socket)), [](std::exception_ptr e) {
        if (e) {
          try {
            std::rethrow_exception(e);
          } catch (const std::exception& ex) {
            spdlog::error("http session ended with an exception: {}", ex.what());
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
  tcp::endpoint endpoint(asio::ip::make_address(s.config.host), s.config.port);
  s.acceptor.open(endpoint.protocol());
  s.acceptor.set_option(asio::socket_base::reuse_address(true));
  s.acceptor.bind(endpoint);
  s.acceptor.listen(asio::socket_base::max_listen_connections);
  auto port = s.acceptor.local_endpoint().port();
  asio::co_spawn(s.io, s.accept_loop(), asio::detached);
  for (int i = 0; i < s.config.io_threads; ++i)
    s.threads.emplace_back([&s] { s.io.run(); });
  return port;
}

void http_server::shutdown(std::chrono::milliseconds grace) {
  auto& s = *impl_;
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
