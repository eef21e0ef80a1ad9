// HTTP(S) fetcher: libcurl multi driven by Asio socket and timer callbacks on its context's
// threads (WORK_THREADS), which also run every work step.
// Limits on time, size (after decompression), redirects and schemes; the SSRF guard checks the
// resolved address of every connection, so redirects and DNS rebinding cannot reach private
// networks.
#pragma once

#include "config/config.hpp"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sky::scrape {

// The cookies of one job: what its sites set is sent back to them within that job, and never
// seen by another job. Thread-safe (a job's fetches may run at once); bounded.
class cookie_jar {
public:
  static constexpr std::size_t k_max_cookies = 300;
  // In curl's Netscape format, one cookie per line.
  std::vector<std::string> lines() const;
  // Cookies as a transfer ended with them; one with the same domain, path and name is replaced.
  void merge(const std::vector<std::string>& lines);
  std::size_t size() const;

private:
  mutable std::mutex mutex_;
  std::map<std::string, std::string> by_key_; // "domain\tpath\tname" -> line
};

// One request. A GET of `url` unless a body is given; `headers` are "Name: value" lines added
// to it. A request with a body or headers does not follow redirects: curl would send its headers
// (an API key, say) to whatever host a redirect names. POSTs are retried like GETs on transient
// failures, so send only idempotent ones (searches, not orders).
struct fetch_request {
  std::string url;
  std::optional<std::string> post_body; // sent as a POST when set
  std::vector<std::string> headers;
  std::optional<std::size_t> max_bytes; // overrides the configured response cap
  std::shared_ptr<cookie_jar> cookies;  // the job's cookies; none kept when null
};

// Names one request to cancel it.
using fetch_id = std::uint64_t;

struct fetch_result {
  long status = 0;       // HTTP status of the final response (0 when none)
  std::string body;      // decoded (decompressed) body, at most max_response_bytes
  std::string final_url; // after redirects
  std::string content_type;
  std::string error;      // transport failure; empty when a response arrived
  bool blocked = false;   // the SSRF guard refused an address
  bool too_large = false; // the body exceeded the cap (it is truncated and error is set)
  long redirects = 0;
  int attempts = 1; // 1 + retries of transient failures
  double seconds = 0;
  std::optional<long> retry_after_s; // from Retry-After on 429/503

  bool ok() const { return error.empty(); }
};

// The error of every request the fetcher gave up because it stopped.
inline constexpr std::string_view k_fetcher_stopped = "fetcher stopped";
// The error of a request cancelled by its caller.
inline constexpr std::string_view k_fetch_cancelled = "fetch cancelled";

class fetcher {
public:
  // `threads` run the fetcher's I/O and whatever work awaits its fetches on its context.
  explicit fetcher(const config::fetch_config& config, int threads = 1);
  ~fetcher(); // stops first
  fetcher(const fetcher&) = delete;
  fetcher& operator=(const fetcher&) = delete;

  // Thread-safe. `done` is called exactly once and must not block: on the fetcher's thread, or,
  // when the fetcher has stopped, with the error k_fetcher_stopped on the thread that stopped
  // it (or at once on the caller's). `max_bytes` overrides the configured response cap for this
  // request (sitemaps may be larger than pages).
  fetch_id fetch(fetch_request request, std::function<void(fetch_result)> done);
  fetch_id fetch(std::string url, std::function<void(fetch_result)> done,
                 std::optional<std::size_t> max_bytes = std::nullopt);
  // Aborts one request, running or waiting for its slot; its callback gets k_fetch_cancelled.
  // Thread-safe; a request that already completed is left alone.
  void cancel(fetch_id id);
  // Aborts the transfers in flight and the requests waiting for their slot, completing each
  // with k_fetcher_stopped; later fetches fail the same way at once. Idempotent.
  void stop();

  // The context fetches complete on: coroutines that await them run here (fetch_session.hpp).
  boost::asio::io_context& context();
  // The kernel ids of the context's threads (the watchdog names them when they stall).
  std::vector<int> thread_ids() const;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sky::scrape
