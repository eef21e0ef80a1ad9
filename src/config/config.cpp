// Reads and validates every environment variable the server understands.
#include "config/config.hpp"

#include "config/ip_network.hpp"
#include "config/queue_catalog.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <random>
#include <thread>
#include <unistd.h>

namespace sky::config {
namespace {

using apply_fn = std::function<std::optional<std::string>(app_config&, const std::string&)>;

// One variable: its name, default, meaning, and how a text value lands in the config.
struct variable {
  std::string name;
  std::string default_value;
  std::string description;
  apply_fn apply;
};

std::string quoted(const std::string& s) {
  return "'" + s + "'";
}

template <class Int>
std::optional<std::string> parse_int(const std::string& text, Int lo, Int hi, Int& out) {
  Int value{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || value < lo || value > hi)
    return "expected an integer from " + std::to_string(lo) + " to " + std::to_string(hi) +
           ", got " + quoted(text);
  out = value;
  return std::nullopt;
}

std::optional<std::string> parse_positive_minutes(const std::string& text,
                                                  std::chrono::milliseconds& out) {
  // Fractions are allowed (0.05 = 3 s); anything below 100 ms would hammer the database.
  char* end = nullptr;
  errno = 0;
  double minutes = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || errno != 0 || !std::isfinite(minutes) ||
      minutes * 60000.0 < 100.0 || minutes > 24 * 60)
    return "expected minutes from 0.002 to 1440 (fractions allowed), got " + quoted(text);
  out = std::chrono::milliseconds(static_cast<long long>(std::llround(minutes * 60000.0)));
  return std::nullopt;
}

std::optional<std::string> parse_bool(const std::string& text, bool& out) {
  std::string lower = text;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  if (lower == "1" || lower == "true" || lower == "yes" || lower == "on") {
    out = true;
  } else if (lower == "0" || lower == "false" || lower == "no" || lower == "off") {
    out = false;
  } else {
    return "expected true or false, got " + quoted(text);
  }
  return std::nullopt;
}

std::optional<std::string> parse_choice(const std::string& text,
                                        std::initializer_list<std::string_view> choices,
                                        std::string& out) {
  for (auto c : choices)
    if (text == c) {
      out = text;
      return std::nullopt;
    }
  std::string list;
  for (auto c : choices)
    list += (list.empty() ? "" : ", ") + std::string(c);
  return "expected one of " + list + ", got " + quoted(text);
}

// The queues that read web pages, and whether they render them by default: email scans and
// homepage metadata read what a visitor sees; page scrapes read the HTML as served unless a
// deployment asks for more. The other queues read no page (their render mode stays off).
std::optional<std::string_view> default_render_mode(std::string_view queue) {
  if (queue == "email_scan" || queue == "domain_metadata")
    return "auto";
  if (queue == "page_scrape")
    return "off";
  return std::nullopt;
}

std::optional<std::string> parse_connection_string(const std::string& text, std::string& out) {
  if (text.rfind("postgres://", 0) != 0 && text.rfind("postgresql://", 0) != 0 &&
      text.find('=') == std::string::npos)
    return "expected a postgresql:// URI or key=value connection string";
  out = text;
  return std::nullopt;
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> items;
  std::string current;
  for (char c : text + ",") {
    if (c == ',' || c == ' ') {
      if (!current.empty())
        items.push_back(current);
      current.clear();
    } else {
      current += c;
    }
  }
  return items;
}

// An integer count of `Unit` (seconds, milliseconds) from lo to hi, stored in the duration member
// that `field` returns (converted to that member's own unit).
template <class Unit, class Field>
apply_fn duration_field(long long lo, long long hi, Field field) {
  return [=](app_config& c, const std::string& t) -> std::optional<std::string> {
    long long v = 0;
    if (auto err = parse_int(t, lo, hi, v))
      return err;
    auto& target = field(c);
    target = std::chrono::duration_cast<std::remove_reference_t<decltype(target)>>(Unit(v));
    return std::nullopt;
  };
}

template <class Field> apply_fn seconds_field(long long lo, long long hi, Field field) {
  return duration_field<std::chrono::seconds>(lo, hi, field);
}

// The defaults are the structs' own initialisers: each typed variable's default text is read from a
// default-constructed app_config, so it is written once.
app_config& defaults() {
  static app_config d;
  return d;
}

// An integer anywhere in app_config: `field` returns the member, of whatever integer type.
template <class Field>
variable count_var(std::string name, std::string description, long long lo, long long hi,
                   Field field) {
  using Int = std::remove_reference_t<decltype(field(defaults()))>;
  return {std::move(name), std::to_string(field(defaults())), std::move(description),
          [=](app_config& c, const std::string& t) {
            return parse_int<Int>(t, static_cast<Int>(lo), static_cast<Int>(hi), field(c));
          }};
}

// A member of app_config itself, or of its workflows section.
template <class Int>
variable int_var(std::string name, std::string description, Int lo, Int hi,
                 Int app_config::*field) {
  return count_var(std::move(name), std::move(description), lo, hi,
                   [field](app_config& c) -> Int& { return c.*field; });
}

template <class Int>
variable workflow_var(std::string name, std::string description, Int lo, Int hi,
                      Int workflow_config::*field) {
  return count_var(std::move(name), std::move(description), lo, hi,
                   [field](app_config& c) -> Int& { return c.workflows.*field; });
}

template <class Unit, class Field>
variable duration_var(std::string name, std::string description, long long lo, long long hi,
                      Field field) {
  const auto count = std::chrono::duration_cast<Unit>(field(defaults())).count();
  return {std::move(name), std::to_string(count), std::move(description),
          duration_field<Unit>(lo, hi, field)};
}

template <class Field>
variable seconds_var(std::string name, std::string description, long long lo, long long hi,
                     Field field) {
  return duration_var<std::chrono::seconds>(std::move(name), std::move(description), lo, hi, field);
}

std::vector<variable> variables() {
  using std::chrono::seconds;
  std::vector<variable> v;
  v.push_back({"DATABASE_URL", "",
               "PostgreSQL connection URI; unset: ./scripts/run starts a local cluster",
               [](app_config& c, const std::string& t) {
                 return parse_connection_string(t, c.database_url);
               }});
  v.push_back({"HOST", defaults().http.host, "address the HTTP server binds",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.empty())
                   return "must not be empty";
                 c.http.host = t;
                 return std::nullopt;
               }});
  v.push_back({"OPS_PORT", "",
               "port of /health, /ready and /metrics alone (0 picks a free port); unset: they are "
               "served on PORT with the API, and a worker node (which serves no API) serves them "
               "alone on PORT",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.empty())
                   return std::nullopt;
                 return parse_int(t, 0, 65535, c.http.ops_port);
               }});
  v.push_back({"PORT", std::to_string(defaults().http.port), "HTTP port (0 picks a free port)",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 int port = 0;
                 if (auto err = parse_int(t, 0, 65535, port))
                   return err;
                 c.http.port = static_cast<std::uint16_t>(port);
                 return std::nullopt;
               }});
  v.push_back({"JWT_SECRET", "",
               "HS256 secret for /api/v3 tokens, at least 32 bytes; required unless "
               "ENVIRONMENT=development",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.size() < 32)
                   return "must be at least 32 bytes long";
                 c.jwt_secret = t;
                 return std::nullopt;
               }});
  v.push_back({"JWT_ISSUER", "", "when set, tokens must carry this `iss`",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 c.jwt.issuer = t;
                 return std::nullopt;
               }});
  v.push_back({"JWT_AUDIENCE", "", "when set, a token's `aud` must name this audience",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 c.jwt.audience = t;
                 return std::nullopt;
               }});
  v.push_back(seconds_var("JWT_LEEWAY_SECONDS", "clock skew tolerated on a token's exp and nbf", 0,
                          300, [](app_config& c) -> seconds& { return c.jwt.leeway; }));
  v.push_back(seconds_var("JWT_MAX_LIFETIME_SECONDS",
                          "longest validity a token may claim (exp - iat); 0 accepts any", 0,
                          31536000, [](app_config& c) -> seconds& { return c.jwt.max_lifetime; }));
  v.push_back({"ENVIRONMENT", defaults().environment,
               "production | development | test (./scripts/run sets development)",
               [](app_config& c, const std::string& t) {
                 return parse_choice(t, {"development", "test", "production"}, c.environment);
               }});
  v.push_back({"LOG_LEVEL", defaults().log_level, "trace | debug | info | warn | error",
               [](app_config& c, const std::string& t) {
                 return parse_choice(t, {"trace", "debug", "info", "warn", "error"}, c.log_level);
               }});
  v.push_back({"LOG_FORMAT", defaults().log_format,
               "text | json: one JSON object per line (time, level, message, node, and queue, "
               "item_id and attempt for lines about an item)",
               [](app_config& c, const std::string& t) {
                 return parse_choice(t, {"text", "json"}, c.log_format);
               }});
  v.push_back({"NODE_ID", "<hostname>:<pid>", "name of this process in locked_by columns",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.empty() || t.size() > 200)
                   return "expected 1 to 200 characters";
                 c.node_id = t;
                 return std::nullopt;
               }});
  v.push_back(
      {"MIGRATE_ON_START", defaults().migrate_on_start ? "true" : "false",
       "apply pending migrations when `serve` starts",
       [](app_config& c, const std::string& t) { return parse_bool(t, c.migrate_on_start); }});
  v.push_back(
      seconds_var("ENGINE_HEARTBEAT_SECONDS",
                  "an engine actor that answers no heartbeat for this long is taken as hung and "
                  "restarted (above the engine's statement timeout, which bounds its waits)",
                  1, 3600, [](app_config& c) -> seconds& { return c.heartbeat; }));
  v.push_back(
      int_var("WORK_THREADS",
              "threads running the queues' work steps, whatever their concurrency; 0: one per "
              "core",
              0, 256, &app_config::work_threads));
  v.push_back(int_var("ENGINE_ACTOR_THREADS",
                      "threads CAF schedules the engine's actors on; 0: half the cores, at least 1",
                      0, 64, &app_config::engine_actor_threads));
  v.push_back(int_var("ENGINE_DATABASE_THREADS",
                      "threads running the engine's database work (claims, commits, lease "
                      "renewals, LISTEN, maintenance) for every queue; 0: half the cores, at "
                      "least 2",
                      0, 64, &app_config::engine_database_threads));
  v.push_back(seconds_var("WORK_STALL_SECONDS",
                          "a thread pool (work steps, HTTP) that runs no heartbeat "
                          "for this long is reported stalled: /ready answers 503 and names it",
                          1, 3600, [](app_config& c) -> seconds& { return c.work_stall; }));
  v.push_back(
      seconds_var("WORK_STALL_ABORT_SECONDS",
                  "a pool stalled this long makes the process exit with code 3, so that it is "
                  "restarted and its leases return the work; 0 never exits",
                  0, 86400, [](app_config& c) -> seconds& { return c.work_stall_abort; }));
  v.push_back(int_var("DB_POOL_SIZE", "connections in the request-handling pool", 1, 200,
                      &app_config::db_pool_size));
  v.push_back({"DATABASE_POOLER", defaults().database.pooler,
               "none | transaction: DATABASE_URL goes through a transaction-mode pooler "
               "(PgBouncer, Supavisor), so no session state is used",
               [](app_config& c, const std::string& t) {
                 return parse_choice(t, {"none", "transaction"}, c.database.pooler);
               }});
  v.push_back({"DATABASE_DIRECT_URL", "",
               "with a pooler: a direct connection for LISTEN and migrations (else queues are "
               "polled every DATABASE_POLL_INTERVAL_MS)",
               [](app_config& c, const std::string& t) {
                 return parse_connection_string(t, c.database.direct_url);
               }});
  v.push_back(duration_var<std::chrono::milliseconds>(
      "DATABASE_POLL_INTERVAL_MS", "pooled without a direct URL: how often every queue is polled",
      100, 600000, [](app_config & c) -> auto& { return c.database.pooled_poll_interval; }));
  v.push_back(seconds_var("DB_CONNECT_TIMEOUT_SECONDS",
                          "time allowed to open a database connection", 1, 300,
                          [](app_config& c) -> seconds& { return c.database.connect_timeout; }));
  v.push_back(seconds_var("DB_KEEPALIVE_IDLE_SECONDS",
                          "TCP keepalive idle time of database connections (dead peers are found)",
                          1, 7200,
                          [](app_config& c) -> seconds& { return c.database.keepalive_idle; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "DB_POOL_WAIT_MS",
      "a request waits this long for a free connection, then gets 503 with Retry-After", 1, 600000,
      [](app_config & c) -> auto& { return c.database.pool_wait; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "DB_API_STATEMENT_TIMEOUT_MS",
      "statement_timeout of API requests; a stalled database answers 503 soon after it", 100,
      3600000, [](app_config & c) -> auto& { return c.database.api_statement_timeout; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "DB_ENGINE_STATEMENT_TIMEOUT_MS",
      "statement_timeout of the engine's claims, renewals and result writes", 100, 3600000,
      [](app_config & c) -> auto& { return c.database.engine_statement_timeout; }));
  v.push_back(
      int_var("JOBS_RETENTION_DAYS",
              "finished jobs older than this many days are deleted in small batches; 0 keeps "
              "every job",
              0, 36500, &app_config::jobs_retention_days));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "MAINTENANCE_LEASE_MS",
      "one node at a time rescues expired leases, deletes old jobs and folds status "
      "counts: the holder of a lease this long; another node takes over after it",
      300, 3600000, [](app_config & c) -> auto& { return c.maintenance_lease; }));
  v.push_back(seconds_var("DRAIN_TIMEOUT_SECONDS", "on SIGTERM, time allowed for in-flight work", 1,
                          3600, [](app_config& c) -> seconds& { return c.drain_timeout; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "RETRY_BACKOFF_BASE_MS", "first retry delay; doubles per attempt, with jitter", 1, 3600000,
      [](app_config & c) -> auto& { return c.retry_base; }));
  v.push_back(seconds_var(
      "RETRY_BACKOFF_CAP_SECONDS", "longest retry delay", 1, 86400,
      [](app_config & c) -> auto& { return c.retry_cap; }));
  v.push_back(count_var(
      "HTTP_MAX_BODY_BYTES", "larger request bodies get 413", 1, 64u << 20,
      [](app_config & c) -> auto& { return c.http.max_body_bytes; }));
  v.push_back(count_var(
      "HTTP_MAX_HEADER_BYTES", "larger request header blocks get 431", 1024, 1u << 20,
      [](app_config & c) -> auto& { return c.http.max_header_bytes; }));
  v.push_back(seconds_var("HTTP_REQUEST_TIMEOUT_SECONDS",
                          "a request must arrive completely within this", 1, 3600,
                          [](app_config& c) -> seconds& { return c.http.request_timeout; }));
  v.push_back(seconds_var("HTTP_IDLE_TIMEOUT_SECONDS",
                          "idle keep-alive connections close after this", 1, 3600,
                          [](app_config& c) -> seconds& { return c.http.idle_timeout; }));
  v.push_back(count_var(
      "HTTP_IO_THREADS", "threads running the HTTP event loop", 1, 64,
      [](app_config & c) -> auto& { return c.http.io_threads; }));
  v.push_back(count_var(
      "HTTP_MAX_CONNECTIONS_PER_ADDRESS",
      "open connections from one client address; more are answered 503 and closed", 1, 1'000'000,
      [](app_config & c) -> auto& { return c.http.max_connections_per_address; }));
  v.push_back(count_var(
      "HTTP_MAX_CONNECTIONS",
      "open client connections; past it the oldest idle keep-alive is closed, or a "
      "newcomer gets 503 too_many_connections at once (probes keep reserved slots)",
      1, 1'000'000, [](app_config & c) -> auto& { return c.http.max_connections; }));
  v.push_back(count_var(
      "HTTP_MAX_QUEUED_REQUESTS",
      "requests waiting for a handler thread; more get 503 at once (a request that "
      "waited past DB_POOL_WAIT_MS gets 503 without running, and one whose client left "
      "does not run)",
      1, 1000000, [](app_config & c) -> auto& { return c.http.max_queued_requests; }));
  v.push_back(count_var(
      "HTTP_HANDLER_THREADS", "threads running blocking request handlers", 1, 256,
      [](app_config & c) -> auto& { return c.http.handler_threads; }));
  v.push_back({"FETCH_USER_AGENT", fetch_config{}.user_agent,
               "User-Agent of every fetch and robots.txt group",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.empty() || t.size() > 256)
                   return "expected 1 to 256 characters";
                 c.fetch.user_agent = t;
                 return std::nullopt;
               }});
  v.push_back(seconds_var("FETCH_CONNECT_TIMEOUT_SECONDS", "connect timeout per fetch", 1, 300,
                          [](app_config& c) -> seconds& { return c.fetch.connect_timeout; }));
  v.push_back(seconds_var("FETCH_TOTAL_TIMEOUT_SECONDS", "total time allowed for one fetch", 1,
                          3600, [](app_config& c) -> seconds& { return c.fetch.total_timeout; }));
  v.push_back(count_var(
      "FETCH_MAX_RESPONSE_BYTES", "response size cap, counted after decompression", 1024, 1u << 30,
      [](app_config & c) -> auto& { return c.fetch.max_response_bytes; }));
  v.push_back(count_var(
      "FETCH_MAX_REDIRECTS", "redirects followed per fetch", 0, 20,
      [](app_config & c) -> auto& { return c.fetch.max_redirects; }));
  v.push_back(count_var(
      "FETCH_PER_HOST_CONNECTIONS", "concurrent connections per host", 1, 64,
      [](app_config & c) -> auto& { return c.fetch.per_host_connections; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "FETCH_PER_HOST_DELAY_MS", "minimum delay between requests to one host", 0, 60000,
      [](app_config & c) -> auto& { return c.fetch.per_host_delay; }));
  v.push_back(count_var(
      "FETCH_MAX_RETRIES",
      "retries of a transient fetch failure (refused/reset connection, 429, 502-504)", 0, 10,
      [](app_config & c) -> auto& { return c.fetch.max_retries; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "FETCH_RETRY_BASE_MS", "first fetch retry delay; doubles, with jitter", 1, 60000,
      [](app_config & c) -> auto& { return c.fetch.retry_base; }));
  v.push_back(seconds_var(
      "FETCH_MAX_RETRY_AFTER_SECONDS",
      "longest Retry-After the fetcher waits out itself; longer ones go back to the queue", 0, 3600,
      [](app_config& c) -> seconds& { return c.fetch.max_retry_after; }));
  v.push_back(
      {"FETCH_ALLOW_PRIVATE", "",
       "comma-separated addresses or CIDR blocks exempt from the SSRF guard (e.g. 127.0.0.1/32)",
       [](app_config& c, const std::string& t) -> std::optional<std::string> {
         c.fetch.allow_private = split_list(t);
         for (const auto& entry : c.fetch.allow_private)
           if (!parse_ip_network(entry))
             return "expected IP addresses or CIDR blocks, got " + quoted(entry);
         return std::nullopt;
       }});
  v.push_back(
      {"FETCH_CONNECT_TO", "",
       "comma-separated HOST:PORT:CONNECT-HOST:CONNECT-PORT overrides (empty HOST or PORT match "
       "any), e.g. ::127.0.0.1:8099 sends every fetch to a local fixture web",
       [](app_config& c, const std::string& t) -> std::optional<std::string> {
         c.fetch.connect_to = split_list(t);
         for (const auto& entry : c.fetch.connect_to)
           if (std::count(entry.begin(), entry.end(), ':') < 3)
             return "expected HOST:PORT:CONNECT-HOST:CONNECT-PORT, got " + quoted(entry);
         return std::nullopt;
       }});
  v.push_back(count_var(
      "FETCH_MAX_CACHED_CONNECTIONS",
      "idle connections kept open for reuse by later fetches and jobs", 4, 100'000,
      [](app_config & c) -> auto& { return c.fetch.max_cached_connections; }));
  v.push_back(count_var(
      "JOB_MAX_FETCH_BYTES",
      "bytes one job may download in all, every page and sitemap of it counted", 1024,
      std::size_t{1} << 40, [](app_config & c) -> auto& { return c.fetch.job_max_bytes; }));
  v.push_back(count_var(
      "FETCH_MAX_TRACKED_HOSTS",
      "hosts whose per-host delay is remembered; the least recently used are forgotten", 16,
      10'000'000, [](app_config & c) -> auto& { return c.fetch.max_tracked_hosts; }));
  v.push_back(count_var(
      "ROBOTS_CACHE_MAX_ORIGINS", "robots.txt files cached; the least recently used are dropped",
      16, 10'000'000, [](app_config & c) -> auto& { return c.fetch.robots_max_origins; }));
  v.push_back(seconds_var("ROBOTS_CACHE_TTL_SECONDS", "how long a fetched robots.txt is used", 1,
                          86400, [](app_config& c) -> seconds& { return c.fetch.robots_ttl; }));
  v.push_back(
      seconds_var("ROBOTS_FAILURE_TTL_SECONDS",
                  "how long a robots.txt that could not be read (timeout, connection error, 429, "
                  "5xx) keeps its site closed before it is asked again",
                  0, 3600, [](app_config& c) -> seconds& { return c.fetch.robots_failure_ttl; }));
  v.push_back(
      seconds_var("SITEMAP_DISCOVERY_TIMEOUT_SECONDS",
                  "time limit of one sitemap discovery; what was found by then is kept", 1, 86400,
                  [](app_config& c) -> seconds& { return c.workflows.sitemap_discovery_timeout; }));
  v.push_back({"RENDER_BROWSER", "",
               "headless Chromium binary of the rendering tier (empty: chromium-headless-shell "
               "or chromium on PATH; none found: nothing is rendered)",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 c.render.browser = t;
                 return std::nullopt;
               }});
  v.push_back(count_var(
      "RENDER_BROWSERS", "browser processes of the rendering tier", 1, 64,
      [](app_config & c) -> auto& { return c.render.browsers; }));
  v.push_back(count_var(
      "RENDER_PAGES_PER_BROWSER", "pages one browser renders at once", 1, 64,
      [](app_config & c) -> auto& { return c.render.pages_per_browser; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "RENDER_PAGE_TIMEOUT_MS", "time limit of one rendered page, loading and reading included",
      500, 300000, [](app_config & c) -> auto& { return c.render.page_timeout; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "RENDER_SLOT_WAIT_MS",
      "how long a page waits for a free browser before it is read without rendering", 100, 600000,
      [](app_config & c) -> auto& { return c.render.slot_wait; }));
  v.push_back(count_var(
      "RENDER_BROWSER_MAX_MB",
      "memory of one browser, all its processes; above it the browser is restarted", 64, 65536,
      [](app_config & c) -> auto& { return c.render.browser_max_mb; }));
  v.push_back(count_var(
      "RENDER_MAX_REQUESTS", "subresources (scripts, styles, data) one rendered page may load", 0,
      10000, [](app_config & c) -> auto& { return c.render.max_requests; }));
  v.push_back(count_var(
      "CRAWL_MAX_PAGES", "pages fetched by one email scan, homepage included", 1, 500,
      [](app_config & c) -> auto& { return c.workflows.crawl_max_pages; }));
  v.push_back(count_var(
      "CRAWL_MAX_DEPTH", "link hops an email scan follows from the homepage", 0, 10,
      [](app_config & c) -> auto& { return c.workflows.crawl_max_depth; }));
  v.push_back(count_var(
      "SITEMAP_MAX_URLS", "URLs read from one sitemap file", 1, 1'000'000,
      [](app_config & c) -> auto& { return c.workflows.sitemap_max_urls; }));
  v.push_back(count_var(
      "SITEMAP_MAX_BYTES",
      "size cap of one sitemap file (download and decompressed), 50 MB by the protocol", 1024,
      1u << 30, [](app_config & c) -> auto& { return c.workflows.sitemap_max_bytes; }));
  v.push_back(count_var(
      "SITEMAP_MAX_FILES", "sitemap files followed by one discovery", 1, 10'000,
      [](app_config & c) -> auto& { return c.workflows.sitemap_max_files; }));
  v.push_back(count_var(
      "SITEMAP_MAX_DEPTH", "nesting of sitemap indexes followed", 0, 10,
      [](app_config & c) -> auto& { return c.workflows.sitemap_max_depth; }));
  v.push_back(count_var(
      "PLACES_MAX_PAGES", "result pages read per Places search", 1, 10,
      [](app_config & c) -> auto& { return c.workflows.places_max_pages; }));
  v.push_back(duration_var<std::chrono::milliseconds>(
      "PLACES_PAGE_DELAY_MS",
      "legacy API: wait before using a next_page_token (Google activates them after a "
      "delay); the new API's page tokens are used at once",
      0, 60000, [](app_config & c) -> auto& { return c.workflows.places_page_delay; }));
  v.push_back(count_var(
      "API_MAX_BATCH_ITEMS", "items accepted in one batch request", 1, 100'000,
      [](app_config & c) -> auto& { return c.workflows.api_max_batch; }));
  v.push_back(workflow_var<std::size_t>(
      "API_LIST_MAX_BYTES",
      "size cap of one list answer; past it fewer items than `limit` come back, with "
      "next_cursor",
      16u << 10, 1u << 30, &workflow_config::api_list_max_bytes));
  v.push_back(workflow_var<std::size_t>(
      "RESULT_DATA_MAX_BYTES",
      "size cap of one job's result_data (and a domain's metadata); longer lists are "
      "cut and \"result_data\" added to its limits_hit",
      4096, 1u << 30, &workflow_config::result_max_bytes));
  v.push_back(workflow_var("PAGE_MAX_EMAILS", "distinct email addresses read from one page", 1,
                           1'000'000, &workflow_config::page_max_emails));
  v.push_back(workflow_var("PAGE_MAX_PHONES", "distinct phone numbers read from one page", 1,
                           1'000'000, &workflow_config::page_max_phones));
  v.push_back(workflow_var("PAGE_MAX_LINKS", "distinct links read from one page (crawl candidates)",
                           1, 1'000'000, &workflow_config::page_max_links));
  v.push_back(workflow_var("PAGE_MAX_TEL_LINKS", "tel: links read from one page", 0, 1'000'000,
                           &workflow_config::page_max_tel_links));
  v.push_back(
      workflow_var("CRAWL_MAX_EMAILS",
                   "email addresses (contacts rows) one email scan keeps; the crawl stops there", 1,
                   1'000'000, &workflow_config::crawl_max_emails));
  v.push_back(workflow_var("CRAWL_MAX_PHONES", "phone numbers one email scan keeps", 1, 1'000'000,
                           &workflow_config::crawl_max_phones));
  v.push_back(workflow_var("PLACES_MAX_RESULTS",
                           "places (places_staging rows) one Places search keeps", 1, 1'000'000,
                           &workflow_config::places_max_results));
  v.push_back({"PHONE_DEFAULT_REGION", defaults().workflows.phone_default_region,
               "ISO 3166 country assumed for phone numbers without a country code (a page's "
               "language may say otherwise)",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (t.size() != 2 || !std::isupper(static_cast<unsigned char>(t[0])) ||
                     !std::isupper(static_cast<unsigned char>(t[1])))
                   return "expected a two-letter upper-case country code, got " + quoted(t);
                 c.workflows.phone_default_region = t;
                 return std::nullopt;
               }});
  v.push_back({"PLACES_API_VERSION", "new",
               "Places API called: new (Places API (New), v1) or legacy (the Legacy web "
               "service, for keys of projects that still have it)",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 std::string chosen;
                 if (auto err = parse_choice(t, {"new", "legacy"}, chosen))
                   return err;
                 c.places_api =
                     chosen == "new" ? places_api_version::places_new : places_api_version::legacy;
                 return std::nullopt;
               }});
  v.push_back({"PLACES_API_BASE_URL", "",
               "base URL of the Places API; empty: Google's for PLACES_API_VERSION (new: " +
                   std::string(default_places_base_url(places_api_version::places_new)) +
                   ", legacy: " + std::string(default_places_base_url(places_api_version::legacy)) +
                   ")",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 if (!t.empty() && t.rfind("http://", 0) != 0 && t.rfind("https://", 0) != 0)
                   return "expected an http:// or https:// URL, got " + quoted(t);
                 c.places_api_base_url = t;
                 return std::nullopt;
               }});
  v.push_back({"PLACES_API_KEY", "", "key sent to the Places API",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 c.places_api_key = t;
                 return std::nullopt;
               }});

  v.push_back({"TEST_SYNTHETIC_HANDLERS", "false",
               "test only (ENVIRONMENT=test): page_scrape jobs run a synthetic workload",
               [](app_config& c, const std::string& t) {
                 return parse_bool(t, c.test.synthetic_handlers);
               }});
  v.push_back({"TEST_SYNTHETIC_COOPERATIVE", "false",
               "test only: the synthetic workload runs inline, without waits (benchmarks)",
               [](app_config& c, const std::string& t) {
                 return parse_bool(t, c.test.synthetic_cooperative);
               }});
  v.push_back({"TEST_EXECUTION_LOG", "", "test only: file where synthetic executions are logged",
               [](app_config& c, const std::string& t) -> std::optional<std::string> {
                 c.test.execution_log = t;
                 return std::nullopt;
               }});
  v.push_back(count_var(
      "TEST_WRITER_FAILURES",
      "test only: the first N db_writer commits fail as if the connection dropped", 0, 1000,
      [](app_config & c) -> auto& { return c.test.writer_failures; }));

  for (std::size_t i = 0; i < queue_definitions().size(); ++i) {
    const auto& def = queue_definitions()[i];
    std::string prefix(def.env_prefix);
    std::string queue(def.name);
    queue_config defaults;
    defaults.max_instances = def.default_max_instances;
    const auto render_default = default_render_mode(def.name);
    defaults.render_mode = render_default.value_or("off");
    auto q = [i](app_config& c) -> queue_config& { return c.queues[i]; };
    if (render_default)
      v.push_back({prefix + "_RENDER_MODE", defaults.render_mode,
                   queue + ": pages rendered in a browser after their HTTP read: off, auto "
                           "(when a page could hide contacts from it) or always",
                   [q](app_config& c, const std::string& t) {
                     return parse_choice(t, {"off", "auto", "always"}, q(c).render_mode);
                   }});
    v.push_back({prefix + "_INTERVAL_MINUTES", "1",
                 queue + ": fallback poll interval (NOTIFY wakes it sooner); fractions allowed",
                 [q](app_config& c, const std::string& t) {
                   return parse_positive_minutes(t, q(c).interval);
                 }});
    v.push_back({prefix + "_BATCH_SIZE",
                 defaults.batch_size > 0 ? std::to_string(defaults.batch_size) : "auto",
                 queue + ": most rows claimed per poll; auto: the worker count (at most 1000)",
                 [q](app_config& c, const std::string& t) -> std::optional<std::string> {
                   if (t == "auto") {
                     q(c).batch_size = 0;
                     return std::nullopt;
                   }
                   return parse_int(t, 1, 10000, q(c).batch_size);
                 }});
    v.push_back({prefix + "_COMMIT_INTERVAL_MS", std::to_string(defaults.commit_interval.count()),
                 queue + ": under load, results wait up to this long to share a commit (0: each "
                         "commits as soon as the writer is free)",
                 duration_field<std::chrono::milliseconds>(
                     0, 60000, [q](app_config & c) -> auto& { return q(c).commit_interval; })});
    v.push_back({prefix + "_MAX_INSTANCES", std::to_string(defaults.max_instances),
                 queue + ": concurrent workers", [q](app_config& c, const std::string& t) {
                   return parse_int(t, 1, 1024, q(c).max_instances);
                 }});
    v.push_back({prefix + "_LEASE_SECONDS", std::to_string(defaults.lease.count()),
                 queue + ": lease of a claimed row, renewed while worked on",
                 seconds_field(
                     5, 86400, [q](app_config & c) -> auto& { return q(c).lease; })});
    v.push_back({prefix + "_TIMEOUT_SECONDS", std::to_string(defaults.timeout.count()),
                 queue + ": time limit of one item before its worker is replaced",
                 seconds_field(
                     1, 86400, [q](app_config & c) -> auto& { return q(c).timeout; })});
    v.push_back({prefix + "_MAX_ATTEMPTS", std::to_string(defaults.max_attempts),
                 queue + ": attempts before a row ends in Error",
                 [q](app_config& c, const std::string& t) {
                   return parse_int(t, 1, 100, q(c).max_attempts);
                 }});
    v.push_back({prefix + "_MAX_RESTARTS", std::to_string(defaults.max_restarts),
                 queue + ": crashed steps, or restarts of its poller, pool and writer, tolerated "
                         "within the restart window before the queue pauses",
                 [q](app_config& c, const std::string& t) {
                   return parse_int(t, 0, 10000, q(c).max_restarts);
                 }});
    v.push_back({prefix + "_RESTART_WINDOW_SECONDS",
                 std::to_string(defaults.restart_window.count()),
                 queue + ": the sliding window restarts are counted in",
                 seconds_field(
                     1, 86400, [q](app_config & c) -> auto& { return q(c).restart_window; })});
    v.push_back({prefix + "_RESTART_PAUSE_SECONDS", std::to_string(defaults.restart_pause.count()),
                 queue + ": how long the queue pauses once its restarts exceed the limit",
                 seconds_field(
                     0, 86400, [q](app_config & c) -> auto& { return q(c).restart_pause; })});
  }
  return v;
}

std::string default_node_id() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0)
    host[0] = '\0';
  return std::string(host[0] ? host : "node") + ":" + std::to_string(getpid());
}

std::string random_secret() {
  std::random_device rd;
  static constexpr char k_alphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (int i = 0; i < 48; ++i)
    s += k_alphabet[rd() % (sizeof k_alphabet - 1)];
  return s;
}

} // namespace

config_error::config_error(std::vector<std::string> problems)
    : std::runtime_error([&] {
        std::string msg = "invalid configuration:";
        for (const auto& p : problems)
          msg += "\n  " + p;
        return msg;
      }()),
      problems_(std::move(problems)) {}

std::string_view default_places_base_url(places_api_version version) {
  return version == places_api_version::legacy ? "https://maps.googleapis.com/maps/api/place"
                                               : "https://places.googleapis.com";
}

const queue_config* app_config::queue(std::string_view name) const {
  for (const auto& q : queues)
    if (q.name == name)
      return &q;
  return nullptr;
}

env_lookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    if (const char* value = std::getenv(std::string(name).c_str()))
      return std::string(value);
    return std::nullopt;
  };
}

int cores() {
  return static_cast<int>(std::max(2u, std::thread::hardware_concurrency()));
}

int work_threads(const app_config& c) {
  return c.work_threads > 0 ? c.work_threads : cores();
}

int engine_actor_threads(const app_config& c) {
  return c.engine_actor_threads > 0 ? c.engine_actor_threads : std::max(1, cores() / 2);
}

int engine_database_threads(const app_config& c) {
  return c.engine_database_threads > 0 ? c.engine_database_threads : std::max(2, cores() / 2);
}

app_config load_config(const env_lookup& env, config_purpose purpose) {
  app_config config;
  for (const auto& def : queue_definitions()) {
    queue_config q;
    q.name = def.name;
    q.env_prefix = def.env_prefix;
    q.max_instances = def.default_max_instances;
    q.render_mode = default_render_mode(def.name).value_or("off");
    config.queues.push_back(q);
  }
  std::vector<std::string> problems;
  for (const auto& var : variables()) {
    auto value = env(var.name);
    if (!value)
      continue;
    if (auto err = var.apply(config, *value))
      problems.push_back(var.name + ": " + *err);
  }
  // Fault injection must be unreachable from a production configuration.
  if (config.environment != "test") {
    for (const char* name : {"TEST_SYNTHETIC_HANDLERS", "TEST_SYNTHETIC_COOPERATIVE",
                             "TEST_EXECUTION_LOG", "TEST_WRITER_FAILURES"})
      if (env(name))
        problems.push_back(std::string(name) + ": only allowed with ENVIRONMENT=test");
  }
  if (config.work_stall_abort.count() != 0 && config.work_stall_abort <= config.work_stall)
    problems.push_back("WORK_STALL_ABORT_SECONDS: must be 0 or more than WORK_STALL_SECONDS");
  config.http.queue_wait = config.database.pool_wait;
  if (config.node_id.empty())
    config.node_id = default_node_id();
  if (config.places_api_base_url.empty())
    config.places_api_base_url = default_places_base_url(config.places_api);
  if (config.jwt_secret.empty()) {
    if (config.is_development()) {
      config.jwt_secret = random_secret();
      config.jwt_secret_generated = true;
    } else if (purpose == config_purpose::serve) {
      problems.push_back("JWT_SECRET: required when ENVIRONMENT is " + config.environment);
    }
  }
  if (!problems.empty())
    throw config_error(std::move(problems));
  return config;
}

std::vector<variable_doc> documented_variables() {
  std::vector<variable_doc> docs;
  for (auto& v : variables())
    docs.push_back({v.name, v.default_value, v.description});
  return docs;
}

} // namespace sky::config
