#include "support/fixture_server.hpp"

#include "config/config.hpp"
#include "fixtures/fixture_web.hpp"
#include "http/server.hpp"

namespace sky::test_support {

struct fixture_server::impl {
  impl()
      : routes(http::open_routes(fixtures::fixture_routes()), std::string(32, 'x')),
        server(make_config(), routes) {}
  static config::http_config make_config() {
    config::http_config c;
    c.port = 0;
    c.handler_threads = 16;
    return c;
  }
  http::router routes;
  http::http_server server;
};

fixture_server::fixture_server() : impl_(std::make_unique<impl>()) {
  port_ = impl_->server.start();
}

fixture_server::~fixture_server() {
  impl_->server.shutdown(std::chrono::milliseconds(200));
}

std::map<std::string, std::string>
fixture_server::server_env(std::map<std::string, std::string> extra) const {
  std::map<std::string, std::string> env{
      {"FETCH_CONNECT_TO", "::127.0.0.1:" + std::to_string(port_)},
      {"FETCH_ALLOW_PRIVATE", "127.0.0.1/32"},
      {"FETCH_PER_HOST_DELAY_MS", "0"},
      {"FETCH_TOTAL_TIMEOUT_SECONDS", "30"},         // ample for loopback on a loaded machine
      {"PLACES_API_BASE_URL", "http://places.test"}, // Places API (New), the default version
      {"PLACES_API_KEY", "demo-key"},
      {"PLACES_PAGE_DELAY_MS", "0"},
      {"RETRY_BACKOFF_BASE_MS", "50"},
      // The fixture web's pages are short, so auto mode would render most of them: the
      // workflows' tests read pages as served, and the rendering tier's own tests turn it on.
      {"EMAIL_SCAN_SCHEDULER_RENDER_MODE", "off"},
      {"DOMAIN_SCHEDULER_RENDER_MODE", "off"},
  };
  for (auto& [k, v] : extra)
    env[k] = v;
  return env;
}

} // namespace sky::test_support
