// scrapersky: the server (`serve`), schema migration (`migrate`), dev tokens (`token`).
#include "actors/runtime.hpp"
#include "config/config.hpp"
#include "fixtures/fixture_web.hpp"
#include "http/console_routes.hpp"
#include "http/jwt.hpp"
#include "http/routes.hpp"
#include "http/server.hpp"
#include "logging/log_setup.hpp"
#include "persistence/connection_pool.hpp"
#include "persistence/database_probe.hpp"
#include "persistence/migrator.hpp"
#include "process/exit_codes.hpp"
#include "process/library_init.hpp"
#include "process/thread_watchdog.hpp"
#include "process/timer_thread.hpp"
#include "scrape/page_report.hpp"
#include "workflows/handlers.hpp"

#include <CLI/CLI.hpp>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <thread>

namespace {

using namespace sky;

int fail(const std::string& message, int code = 2) {
  std::cerr << "scrapersky: " << message << "\n";
  return code;
}

config::app_config load_or_exit(config::config_purpose purpose) {
  try {
    auto cfg = config::load_config(config::process_env(), purpose);
    logging::configure(cfg.log_format, cfg.node_id, cfg.log_level,
                       purpose == config::config_purpose::command ? logging::log_stream::err
                                                                  : logging::log_stream::out);
    // Every connection of the process gets bounded connects and TCP keepalives, unless the URL
    // sets them itself.
    const std::vector<std::pair<std::string, std::string>> defaults{
        {"connect_timeout", std::to_string(cfg.database.connect_timeout.count())},
        {"keepalives", "1"},
        {"keepalives_idle", std::to_string(cfg.database.keepalive_idle.count())},
        {"keepalives_interval", "10"},
        {"keepalives_count", "3"}};
    for (auto* url : {&cfg.database_url, &cfg.database.direct_url})
      if (!url->empty())
        *url = persistence::with_connection_defaults(*url, defaults);
    return cfg;
  } catch (const config::config_error& e) {
    std::cerr << "scrapersky: " << e.what() << "\n";
    std::exit(2);
  }
}

http::jwt_policy jwt_policy_of(const config::app_config& cfg) {
  return http::jwt_policy(cfg.jwt_secret, cfg.jwt.issuer, cfg.jwt.audience, cfg.jwt.leeway,
                          cfg.jwt.max_lifetime);
}

// Migrations may take long locks and run long statements: a direct connection when there is one.
std::string migration_url(const config::app_config& cfg) {
  return cfg.database.direct_url.empty() ? cfg.database_url : cfg.database.direct_url;
}

int run_migrate(const config::app_config& cfg) {
  if (cfg.database_url.empty())
    return fail("DATABASE_URL is not set");
  pqxx::connection conn(migration_url(cfg));
  auto report = persistence::migrate(conn);
  std::cout << "schema at version " << report.version << " (" << report.applied.size()
            << " applied)\n";
  return 0;
}

int run_fixtures(std::uint16_t port, const std::string& places_key) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  config::http_config http;
  http.port = port;
  http.handler_threads = 16; // slow fixture pages must not hold up the others
  fixtures::fixture_options options;
  options.places_api_key = places_key;
  // A stand-in for the web: nothing here needs a token.
  http::router routes(http::open_routes(fixtures::fixture_routes(options)), std::string(32, 'x'));
  http::http_server server(http, routes);
  auto bound = server.start();
  std::cout << "fixtures listening on http://127.0.0.1:" << bound << std::endl;
  int received = 0;
  sigwait(&signals, &received);
  server.shutdown(std::chrono::seconds(1));
  return 0;
}

// The route table of a default (production) API node, as JSON: what docs/openapi.yaml describes.
int print_routes() {
  config::app_config cfg;
  http::app_services services{nullptr, nullptr, &cfg, {}, nullptr, nullptr, {}, {}, {}, {}};
  auto table = http::api_routes(services);
  for (auto& r : http::console_routes())
    table.push_back(std::move(r));
  std::cout << "[";
  bool first = true;
  for (const auto& r : table) {
    std::string_view auth = r.auth == http::access::open     ? "open"
                            : r.auth == http::access::bearer ? "bearer"
                                                             : "operator";
    std::cout << (first ? "" : ",") << "\n  {\"method\":\"" << r.method << "\",\"path\":\""
              << r.pattern << "\",\"auth\":\"" << auth << "\"}";
    first = false;
  }
  std::cout << "\n]\n";
  return 0;
}

// A server holds a socket per client, per database connection and per fetch: take the hard
// descriptor limit rather than the soft default (often 1024).
void raise_descriptor_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur < files.rlim_max) {
    files.rlim_cur = std::min<rlim_t>(files.rlim_max, 1 << 20);
    setrlimit(RLIMIT_NOFILE, &files);
  }
}

// SIGTERM's drain must end even when a thread never returns (a library deadlocked in a work step,
// say): past the drain limit and this grace, what is still stuck is abandoned and the process
// exits with k_exit_drain_incomplete. Leases return whatever it still held.
constexpr auto k_drain_grace = std::chrono::seconds(5);

class drain_deadline {
public:
  drain_deadline(std::chrono::seconds limit, const process::thread_watchdog& watchdog)
      : timer_(process::timer_thread::after(limit, [limit, &watchdog] {
          // run_serve cannot pass ended() (which waits for this) and destroy the watchdog.
          spdlog::critical("the drain did not end within {} s: abandoning the threads still "
                           "stuck, exiting with code {}; their leases return the work\n{}",
                           limit.count(), process::k_exit_drain_incomplete,
                           watchdog.describe_stalled());
          spdlog::default_logger()->flush();
          std::_Exit(process::k_exit_drain_incomplete);
        })) {}
  // The drain is over; the deadline never fires.
  void ended() { timer_.cancel(); }

private:
  process::timer_thread::handle timer_;
};

// Pings the database every probe interval until SIGINT or SIGTERM, which it returns. A ping
// delays a signal by at most the probe's connect and statement timeouts.
int ping_until_signalled(persistence::database_probe& probe) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  auto next_ping = std::chrono::steady_clock::now() + probe.interval();
  for (;;) {
    const auto wait =
        std::max(std::chrono::nanoseconds(0),
                 std::chrono::nanoseconds(next_ping - std::chrono::steady_clock::now()));
    const timespec limit{static_cast<time_t>(wait.count() / 1'000'000'000),
                         static_cast<long>(wait.count() % 1'000'000'000)};
    const int signal = ::sigtimedwait(&signals, nullptr, &limit);
    if (signal == SIGINT || signal == SIGTERM)
      return signal;
    if (std::chrono::steady_clock::now() >= next_ping) {
      probe.ping_once();
      next_ping = std::chrono::steady_clock::now() + probe.interval();
    }
  }
}

int serve_until_signalled(const config::app_config& cfg, const std::string& role,
                          process::thread_watchdog& watchdog,
                          std::optional<drain_deadline>& deadline_of_drain) {
  // A request's use of a connection is cut a second after its statement_timeout, for when the
  // server is not there to enforce that timeout. Through a transaction pooler a session
  // statement_timeout would leak to other clients, so there each transaction sets its own.
  persistence::pool_options pool_options{
      static_cast<std::size_t>(cfg.db_pool_size), cfg.database.pool_wait,
      cfg.database.transaction_pooled() ? std::chrono::milliseconds(0)
                                        : cfg.database.api_statement_timeout,
      cfg.database.api_statement_timeout + std::chrono::seconds(1),
      cfg.database.transaction_pooled() ? cfg.database.api_statement_timeout
                                        : std::chrono::milliseconds(0)};
  persistence::connection_pool pool(cfg.database_url, pool_options);
  std::unique_ptr<actors::runtime> actor_runtime;
  std::function<scrape::render_stats()> render_stats;
  if (role != "api") {
    auto handlers =
        cfg.test.synthetic_handlers
            ? workflows::test_handlers(cfg, cfg.test.execution_log, &watchdog, &render_stats)
            : workflows::production_handlers(cfg, &watchdog, &render_stats);
    actor_runtime = std::make_unique<actors::runtime>(cfg, std::move(handlers));
    actor_runtime->start();
  }

  // Every node answers /ready from the probe's last verdict, worker nodes too. Its pings run on
  // this thread, between signals.
  persistence::database_probe probe(cfg.database_url, std::chrono::seconds(1),
                                    std::chrono::seconds(1));
  http::app_services services{&pool, &probe, &cfg, {}, nullptr, nullptr, {}, {}, {}, {}};
  services.thread_pools = [&watchdog] { return watchdog.status(); };
  if (cfg.environment == "test")
    services.block_thread_pool = [&watchdog](std::string_view pool) {
      return watchdog.block_for_test(pool);
    };
  services.renderer = render_stats;
  std::atomic<bool> draining{false};
  services.draining = &draining;
  if (actor_runtime) {
    services.actors_ready = [&] { return actor_runtime->ready(); };
    services.metrics = &actor_runtime->metrics();
    services.maintenance = &actor_runtime->maintenance_metrics();
    if (cfg.environment == "test")
      services.inject_fault = [&](std::string_view q, std::string_view a, std::string_view f) {
        return actor_runtime->inject_fault(q, a, f);
      };
  }
  std::unique_ptr<http::router> routes;
  std::unique_ptr<http::http_server> server;
  if (role != "worker") {
    // The API under /api/v3 and the browser console that calls it, from "/".
    auto table = http::api_routes(services);
    for (auto& r : http::console_routes())
      table.push_back(std::move(r));
    routes = std::make_unique<http::router>(std::move(table), jwt_policy_of(cfg));
    server = std::make_unique<http::http_server>(cfg.http, *routes);
    auto port = server->start();
    server->watch_with(watchdog);
    spdlog::info("listening on http://{}:{} (node {}, role {})", cfg.http.host, port, cfg.node_id,
                 role);
  }
  // /health, /ready and /metrics alone: on OPS_PORT when it is set, and on a worker node (which
  // serves no API) on PORT otherwise, so that every node can be probed and scraped.
  std::unique_ptr<http::router> ops_routes;
  std::unique_ptr<http::http_server> ops_server;
  if (role == "worker" || cfg.http.ops_port >= 0) {
    auto ops_config = cfg.http;
    if (cfg.http.ops_port >= 0)
      ops_config.port = static_cast<std::uint16_t>(cfg.http.ops_port);
    ops_config.handler_threads = 2;
    ops_routes = std::make_unique<http::router>(http::ops_routes(services), jwt_policy_of(cfg));
    ops_server = std::make_unique<http::http_server>(ops_config, *ops_routes);
    auto port = ops_server->start();
    ops_server->watch_with(watchdog, "ops_");
    spdlog::info("ops endpoints listening on http://{}:{} (/health, /ready, /metrics; node {}, "
                 "role {})",
                 ops_config.host, port, cfg.node_id, role);
  }

  const int received = ping_until_signalled(probe);
  draining = true;
  spdlog::info("received {}, draining (up to {} s)", received == SIGINT ? "SIGINT" : "SIGTERM",
               cfg.drain_timeout.count());
  deadline_of_drain.emplace(cfg.drain_timeout + k_drain_grace, watchdog);
  auto deadline = std::chrono::steady_clock::now() + cfg.drain_timeout;
  if (server)
    server->shutdown(std::chrono::duration_cast<std::chrono::milliseconds>(cfg.drain_timeout));
  if (actor_runtime) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (!actor_runtime->shutdown(std::max(left, std::chrono::milliseconds(0)))) {
      spdlog::critical("drain timeout reached with actors still running: abandoning them, exiting "
                       "with code {}; their leases will expire",
                       process::k_exit_drain_incomplete);
      spdlog::default_logger()->flush();
      std::_Exit(process::k_exit_drain_incomplete);
    }
  }
  // What is left to stop (the work context among it) is stopped by the destructors, within the
  // drain deadline.
  return process::k_exit_ok;
}

int run_serve(const config::app_config& cfg, const std::string& role) {
  if (cfg.database_url.empty())
    return fail("DATABASE_URL is not set (./scripts/run starts a local cluster for you)");
  if (cfg.jwt_secret_generated)
    spdlog::warn("JWT_SECRET is not set: using a random secret, tokens die with this process");
  raise_descriptor_limit();

  // Signals are taken synchronously by serve_until_signalled; every thread started later inherits
  // the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if (cfg.migrate_on_start) {
    pqxx::connection conn(migration_url(cfg));
    auto report = persistence::migrate(conn);
    spdlog::info("schema at version {} ({} applied)", report.version, report.applied.size());
  }

  process::thread_watchdog watchdog(
      {std::chrono::seconds(1), cfg.work_stall, cfg.work_stall_abort, {}});
  std::optional<drain_deadline> deadline_of_drain;
  const int code = serve_until_signalled(cfg, role, watchdog, deadline_of_drain);
  if (deadline_of_drain)
    deadline_of_drain->ended();
  spdlog::info("stopped");
  return code;
}

} // namespace

int main(int argc, char** argv) {
  // Before any thread exists: libraries with lazy global state (libxml2 above all) must not be
  // first used by two threads at once.
  sky::process::init_libraries();
  CLI::App app{"ScraperSky: lead-generation scraping pipeline over PostgreSQL"};
  app.require_subcommand(1);
  std::string role = "all";
  auto* serve = app.add_subcommand("serve", "run the HTTP API and the job engine");
  serve->add_option("--role", role, "all | api | worker")
      ->check(CLI::IsMember({"all", "api", "worker"}));
  auto* migrate = app.add_subcommand("migrate", "apply pending database migrations and exit");
  std::string subject;
  long long ttl_seconds = 24 * 3600;
  auto* token = app.add_subcommand("token", "print a development JWT signed with JWT_SECRET");
  token->add_option("--sub", subject, "subject (user id, a UUID)")->required();
  std::string token_role;
  token
      ->add_option("--role", token_role,
                   "a role claim: operator (queue controls, other subjects' jobs)")
      ->check(CLI::IsMember({"operator"}));
  token->add_option("--ttl", ttl_seconds, "lifetime in seconds")
      ->check(CLI::Range(1LL, 31536000LL));
  auto* env_example = app.add_subcommand("env-example", "print every variable with its default");
  auto* list_routes = app.add_subcommand(
      "routes", "print the HTTP route table as JSON (method, path, auth): docs/openapi.yaml is "
                "held to it");
  std::string scrape_url;
  bool allow_private = false;
  int crawl_pages = 1;
  auto* scrape = app.add_subcommand("scrape", "fetch a page (and more of its site) and print what "
                                              "it holds, as JSON");
  std::string urls_from;
  auto* scrape_one = scrape->add_option("url", scrape_url, "http(s) URL");
  scrape
      ->add_option("--urls-from", urls_from,
                   "a file of URLs, one per line (- for standard input): one JSON report per "
                   "line, in order, from one fetcher and one browser pool")
      ->excludes(scrape_one);
  scrape->add_option("--crawl", crawl_pages, "pages to fetch, contact pages first")
      ->check(CLI::Range(1, 500));
  scrape->add_flag("--allow-private", allow_private,
                   "turn the SSRF guard off (private and loopback addresses allowed)");
  std::string render_mode = "auto";
  scrape
      ->add_option("--render", render_mode,
                   "render pages in headless Chromium: off, auto (when a page could hide "
                   "contacts from its HTML) or always")
      ->check(CLI::IsMember({"off", "auto", "always"}));
  auto* sitemap = app.add_subcommand("sitemap", "find a site's sitemaps and count their URLs");
  sitemap->add_option("url", scrape_url, "site or sitemap URL")->required();
  sitemap->add_flag("--allow-private", allow_private,
                    "turn the SSRF guard off (private and loopback addresses allowed)");
  int fixtures_port = 0;
  std::string fixtures_key = "demo-key";
  auto* fixtures = app.add_subcommand(
      "fixtures", "serve the fixture web and a fake Places API on loopback (demo and tests)");
  fixtures->add_option("--port", fixtures_port, "port (0 picks a free one)")
      ->check(CLI::Range(0, 65535));
  fixtures->add_option("--places-key", fixtures_key, "the only API key the fake Places accepts");
  CLI11_PARSE(app, argc, argv);

  try {
    if (*list_routes)
      return print_routes();
    if (*env_example) {
      for (const auto& v : config::documented_variables())
        std::cout << "# " << v.description << "\n" << v.name << "=" << v.default_value << "\n";
      return 0;
    }
    if (*fixtures)
      return run_fixtures(static_cast<std::uint16_t>(fixtures_port), fixtures_key);
    auto cfg = load_or_exit(*serve || *token ? config::config_purpose::serve
                                             : config::config_purpose::command);
    if (*scrape || *sitemap) {
      auto fetch_config = cfg.fetch;
      if (allow_private)
        fetch_config.allow_private = {"0.0.0.0/0", "::/0"};
      scrape::fetcher fetcher(fetch_config);
      std::unique_ptr<scrape::browser_pool> browsers;
      const auto mode = scrape::render_mode_of(render_mode);
      if (*scrape && mode != scrape::render_mode::off)
        browsers = std::make_unique<scrape::browser_pool>(cfg.render, fetcher.context());
      bool all_ok = true;
      const auto report_one = [&](const std::string& url) {
        auto report = *scrape ? scrape::report_page(fetcher, url, crawl_pages, browsers.get(), mode)
                              : scrape::report_sitemaps(fetcher, url);
        all_ok &= report.ok;
        std::cout << report.json << std::endl; // a reader of a batch sees each report at once
      };
      if (!urls_from.empty()) {
        std::ifstream file;
        if (urls_from != "-") {
          file.open(urls_from);
          if (!file)
            return fail("cannot read " + urls_from);
        }
        std::istream& in = urls_from == "-" ? std::cin : file;
        for (std::string line; std::getline(in, line);) {
          const auto first = line.find_first_not_of(" \t\r");
          if (first != std::string::npos)
            report_one(line.substr(first, line.find_last_not_of(" \t\r") + 1 - first));
        }
      } else if (!scrape_url.empty()) {
        report_one(scrape_url);
      } else {
        return fail("scrape needs a URL or --urls-from");
      }
      if (browsers)
        browsers->stop(); // before the fetcher whose context its work runs on
      return all_ok ? 0 : 1;
    }
    if (*migrate)
      return run_migrate(cfg);
    if (*token) {
      if (cfg.jwt_secret_generated)
        return fail("JWT_SECRET is not set; a token needs the secret the server uses");
      if (cfg.jwt.max_lifetime.count() > 0 && ttl_seconds > cfg.jwt.max_lifetime.count())
        return fail("--ttl exceeds JWT_MAX_LIFETIME_SECONDS (" +
                    std::to_string(cfg.jwt.max_lifetime.count()) + "); the server would refuse it");
      std::cout << http::mint_token(subject, jwt_policy_of(cfg), std::chrono::seconds(ttl_seconds),
                                    std::chrono::system_clock::now(), token_role)
                << "\n";
      return 0;
    }
    return run_serve(cfg, role);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
}
