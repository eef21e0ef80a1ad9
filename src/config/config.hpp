// Typed configuration read once from the environment at start-up, validated as a whole.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sky::config {

// Raised when one or more variables are invalid; what() names each offending variable.
class config_error : public std::runtime_error {
public:
  explicit config_error(std::vector<std::string> problems);
  const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
  std::vector<std::string> problems_;
};

// Per-queue scheduling knobs, from `<PREFIX>_SCHEDULER_*`.
struct queue_config {
  std::string name;       // queue name, e.g. "domain_metadata"
  std::string env_prefix; // e.g. "DOMAIN_SCHEDULER"
  // Fallback poll interval; NOTIFY normally wakes the poller long before. Also the period of the
  // queue's maintenance pass (rescue, status counts, retention) on the node that leads it.
  std::chrono::milliseconds interval{std::chrono::minutes(1)};
  // Most rows claimed by one poll (and results a commit waits for); 0 is "auto": as many as the
  // queue has workers, so that setting only the worker count gives claims that fill the pool.
  int batch_size = 0;
  int max_instances = 4; // worker concurrency for this queue
  static constexpr int k_max_auto_batch = 1000;
  int claim_batch() const {
    return batch_size > 0 ? batch_size : std::min(max_instances, k_max_auto_batch);
  }
  // Under load, results wait up to this long to share a commit (a full batch, or a writer idle
  // for longer, commits at once).
  std::chrono::milliseconds commit_interval{10};
  std::chrono::seconds lease{60};    // a claimed row's lease, renewed while worked on
  int max_attempts = 3;              // attempts before a row ends in Error
  std::chrono::seconds timeout{300}; // one item's time limit; past it the step is cancelled
  // Restart intensity: crashed steps (and restarts of the queue's poller, pool and writer)
  // tolerated within the window; past it the queue pauses for restart_pause.
  int max_restarts = 10;
  std::chrono::seconds restart_window{60};
  std::chrono::seconds restart_pause{60};
  // When the queue's pages are rendered in a browser after their HTTP read: off, auto (when a
  // page could hide contacts from the static read; scrape/render_rules.hpp) or always.
  std::string render_mode = "off";
};

// The rendering tier: headless Chromium driven over the DevTools protocol.
struct render_config {
  std::string browser; // the binary; empty: chromium-headless-shell or chromium, found at start
  int browsers = 1;    // browser processes in the pool
  int pages_per_browser = 4;                     // pages one browser renders at once
  std::chrono::milliseconds page_timeout{15000}; // one page, load and read included
  std::chrono::milliseconds slot_wait{30000};    // a page waits this long for a free browser
  int browser_max_mb = 1024;                     // a browser (all its processes) above is killed
  int max_requests = 60;                         // subresources one page may load
  std::size_t max_html_bytes = 8u << 20;         // the rendered DOM read back
};

// Test-only switches; load_config refuses them unless ENVIRONMENT=test.
struct test_hooks {
  bool synthetic_handlers = false;    // page_scrape runs the synthetic workload of workflows/
  bool synthetic_cooperative = false; // ... inline, without waits (benchmarks)
  std::string execution_log;          // where synthetic executions are recorded
  int writer_failures = 0;            // the first N db_writer commits fail as if the link dropped
};

// Bounds on every wait towards PostgreSQL.
struct database_config {
  std::chrono::seconds connect_timeout{5};   // libpq connect_timeout
  std::chrono::seconds keepalive_idle{30};   // TCP keepalives find a silently dead peer
  std::chrono::milliseconds pool_wait{2000}; // a request waits this long for a connection (503)
  // statement_timeout per kind of work: API requests are short reads and small writes; the
  // engine's claims and batch finishes may take longer on a large backlog.
  std::chrono::milliseconds api_statement_timeout{5000};
  std::chrono::milliseconds engine_statement_timeout{30000};
  // "transaction": DATABASE_URL goes through a transaction-mode pooler (PgBouncer, Supavisor), so
  // nothing may rely on session state: no named prepared statements, no session SET, no LISTEN.
  std::string pooler = "none";
  // A direct (session) connection for LISTEN and migrations when DATABASE_URL is pooled.
  std::string direct_url;
  // Pooled without a direct URL there is no NOTIFY: queues are polled this often instead.
  std::chrono::milliseconds pooled_poll_interval{1000};

  bool transaction_pooled() const { return pooler == "transaction"; }
};

// Bearer tokens accepted by /api routes.
struct jwt_config {
  std::string issuer;   // when set, `iss` must match
  std::string audience; // when set, `aud` must contain it
  std::chrono::seconds leeway{30};
  std::chrono::seconds max_lifetime{std::chrono::hours(24 * 7)};
};

struct http_config {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t max_body_bytes = 1 << 20;     // larger bodies get 413
  std::size_t max_header_bytes = 16 << 10;  // larger header blocks get 431
  std::chrono::seconds request_timeout{30}; // whole request must arrive within this
  std::chrono::seconds idle_timeout{60};    // keep-alive connection closed after this
  int io_threads = 1;
  int handler_threads = 2;               // blocking handler work (database) runs here
  int max_connections = 1024;            // open client connections; more wait in the listen backlog
  int max_connections_per_address = 256; // from one client address; more are refused with 503
  // Requests waiting for a handler thread; past it, 503 at once. One that waited longer than
  // queue_wait (DB_POOL_WAIT_MS: it would get 503 from the pool anyway) is answered 503 without
  // running, and one whose client has left does not run at all.
  int max_queued_requests = 256;
  std::chrono::milliseconds queue_wait{2000};
  // Where /health, /ready and /metrics are served besides the API (-1: only on `port`). A worker
  // node serves no API: these three alone, on ops_port, else on port.
  int ops_port = -1;
};

struct fetch_config {
  std::string user_agent = "ScraperSkyBot/1.0 (+https://scrapersky.invalid/bot)";
  std::chrono::seconds connect_timeout{10};
  std::chrono::seconds total_timeout{30};
  std::size_t max_response_bytes = 10 << 20; // counted after decompression
  int max_redirects = 5;
  int per_host_connections = 4;
  std::chrono::milliseconds per_host_delay{250};
  // Transient failures (connection refused or reset, empty reply, 429, 502, 503, 504) are retried
  // this many times, after retry_base·2^n with jitter, or after Retry-After when it is at most
  // max_retry_after (a longer one is reported to the caller instead).
  int max_retries = 2;
  std::chrono::milliseconds retry_base{500};
  std::chrono::seconds max_retry_after{30};
  // Addresses or CIDR blocks exempt from the SSRF guard (e.g. "127.0.0.1/32" for tests).
  std::vector<std::string> allow_private;
  // curl CONNECT_TO entries "HOST:PORT:CONNECT-HOST:CONNECT-PORT" (empty HOST/PORT match any):
  // sends requests for a name to another address, e.g. a fixture web on loopback. The SSRF guard
  // still checks the address actually connected to.
  std::vector<std::string> connect_to;
  // Hosts whose politeness slot is remembered; past this the least recently used are forgotten.
  std::size_t max_tracked_hosts = 10'000;
  // robots.txt cache: origins kept (least recently used dropped beyond), how long an answer is
  // kept, and how long a transient failure (timeout, connection error, 429, 5xx) keeps an
  // origin closed before robots.txt is asked again.
  std::size_t robots_max_origins = 10'000;
  std::chrono::seconds robots_ttl{3600};
  std::chrono::seconds robots_failure_ttl{30};
  // Idle connections curl keeps open for reuse, across jobs; sized for the crawl concurrency so
  // that pages of one site reuse their connection (and TLS session) instead of reconnecting.
  long max_cached_connections = 1024;
  // Bytes one job may download in all (its session's budget); a crawl stops there.
  std::size_t job_max_bytes = 256u << 20;
};

// Bounds of the workflows: how far crawls go, how much one request may submit.
struct workflow_config {
  int crawl_max_pages = 10;                  // pages fetched by one email scan, homepage included
  int crawl_max_depth = 2;                   // link hops from the homepage
  int sitemap_max_urls = 50'000;             // URLs read from one sitemap file
  std::size_t sitemap_max_bytes = 50u << 20; // one sitemap file, after decompression
  int sitemap_max_files = 50;                // sitemap files followed by one discovery
  int sitemap_max_depth = 3;                 // nesting of sitemap indexes
  // One discovery stops here and keeps what it found (below the queue's 300 s item limit).
  std::chrono::seconds sitemap_discovery_timeout{240};
  int places_max_pages = 3;                          // result pages read per Places search
  std::chrono::milliseconds places_page_delay{2000}; // a legacy next_page_token activates late
  int api_max_batch = 1000;                          // items in one batch request
  std::size_t api_list_max_bytes = 2u << 20; // one list answer; fewer items than asked past it
  std::size_t result_max_bytes = 1u << 20;   // one stored result: result_data, domain metadata
  // What the web can make one page or one job cost; the defaults are far above real sites.
  int page_max_emails = 200;               // distinct addresses read from one page
  int page_max_phones = 200;               // distinct phone numbers read from one page
  int page_max_links = 2000;               // distinct links read from one page
  int page_max_tel_links = 500;            // tel: links read from one page
  int crawl_max_emails = 1000;             // addresses (contacts rows) kept by one email scan
  int crawl_max_phones = 1000;             // phone numbers kept by one email scan
  int places_max_results = 1000;           // places (places_staging rows) kept by one Places search
  std::string phone_default_region = "US"; // numbers without a country code
};

// Which Google Places API the Places workflows call: Places API (New), or the legacy web
// service that new Google Cloud projects can no longer enable.
enum class places_api_version { places_new, legacy };

// Google's base URL of each version (PLACES_API_BASE_URL, when set, replaces it).
std::string_view default_places_base_url(places_api_version version);

struct app_config {
  std::string database_url;               // empty means "not set" (scripts start a local cluster)
  std::string environment = "production"; // development | test | production
  std::string log_level = "info";
  std::string log_format = "text";   // text | json (one object per line)
  std::string jwt_secret;            // required outside development
  bool jwt_secret_generated = false; // true when development fell back to a random secret
  std::string node_id;               // identifies this process in locked_by; default host:pid
  bool migrate_on_start = true;
  int db_pool_size = 8;
  database_config database;
  jwt_config jwt;
  std::chrono::seconds drain_timeout{20};
  // Threads that run the queues' work steps (coroutines) whatever the queues' concurrency;
  // 0 means one per core.
  int work_threads = 0;
  // Threads CAF schedules the engine's actors on; 0 means half the cores, at least one. Actors
  // only route messages: the work is on the work threads, the waits on the database threads.
  int engine_actor_threads = 0;
  // Threads the engine's database work runs on (every queue's claims, commits and lease
  // renewals, LISTEN and maintenance), each connection on a lane of its own; 0 means half the
  // cores, at least two (a queue's claims and commits overlap).
  int engine_database_threads = 0;
  // An engine actor silent to heartbeats this long is taken as hung and restarted.
  std::chrono::seconds heartbeat{60};
  // A thread pool that is not actors (work steps, HTTP, the database probe) that runs no
  // heartbeat for this long is reported stalled (/ready 503); past the abort time the process
  // exits non-zero so that it is restarted and its leases return the work.
  std::chrono::seconds work_stall{10};
  std::chrono::seconds work_stall_abort{60};
  int jobs_retention_days = 14; // finished jobs older than this are deleted; 0 keeps them all
  // One node at a time runs maintenance (rescue, retention, status counts): the holder of a lease
  // this long, renewed every third of it. A dead leader's successor takes over after it.
  std::chrono::milliseconds maintenance_lease{15'000};
  // Retry delay after attempt n: base * 2^(n-1), capped, with jitter in its upper half.
  std::chrono::milliseconds retry_base{2000};
  std::chrono::milliseconds retry_cap{std::chrono::minutes(10)};
  http_config http;
  fetch_config fetch;
  places_api_version places_api = places_api_version::places_new;
  std::string places_api_base_url; // after loading: the version's default unless set
  std::string places_api_key;
  workflow_config workflows;
  render_config render;
  std::vector<queue_config> queues;
  test_hooks test;

  bool is_development() const { return environment == "development"; }
  const queue_config* queue(std::string_view name) const;
};

using env_lookup = std::function<std::optional<std::string>(std::string_view)>;

// Reads the process environment.
env_lookup process_env();

// What the configuration is loaded for: serving (and minting tokens) needs JWT_SECRET outside
// development; the one-shot commands (migrate, scrape, sitemap) do not.
enum class config_purpose { serve, command };

// Builds the configuration from `env`; throws config_error naming every invalid variable.
// The thread counts a 0 above resolves to. With the fixed threads (main, CAF's clock and printer,
// HTTP's I/O thread and 2 handlers, the timer thread) they keep a node within 2 x cores + 8.
int cores(); // at least 2
int work_threads(const app_config& c);
int engine_actor_threads(const app_config& c);
int engine_database_threads(const app_config& c);

app_config load_config(const env_lookup& env, config_purpose purpose = config_purpose::serve);

// Every variable the server reads, with its default rendered as text (for .env.example and docs).
struct variable_doc {
  std::string name;
  std::string default_value;
  std::string description;
};
std::vector<variable_doc> documented_variables();

} // namespace sky::config
