// HTTP(S) fetcher: libcurl multi driven by Asio socket and timer callbacks on its own thread.
// Limits on time, size (after decompression), redirects and schemes; the SSRF guard checks the
// resolved address of every connection, so redirects and DNS rebinding cannot reach private
// networks.
#pragma once

#include "config/config.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sky::scrape {

// One request. A GET of `url` unless a body is given; `headers` are "Name: value" lines added
// to it. A request with a body or headers does not follow redirects: curl would send its headers
// (an API key, say) to whatever host a redirect names. POSTs are retried like GETs on transient
// failures, so send only idempotent ones (searches, not orders).
struct fetch_request {
  std::string url;
  std::optional<std::string> post_body; // sent as a POST when set
  std::vector<std::string> headers;
  std::optional<std::size_t> max_bytes; // overrides the configured response cap
};

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

class fetcher {
public:
  explicit fetcher(const config::fetch_config& config);
  ~fetcher(); // stops first
  fetcher(const fetcher&) = delete;
  fetcher& operator=(const fetcher&) = delete;

  // Thread-safe. `done` is called exactly once and must not block: on the fetcher's thread, or,
  // when the fetcher has stopped, with the error k_fetcher_stopped on the thread that stopped
  // it (or at once on the caller's). `max_bytes` overrides the configured response cap for this
  // request (sitemaps may be larger than pages).
  void fetch(fetch_request request, std::function<void(fetch_result)> done);
  void fetch(std::string url, std::function<void(fetch_result)> done,
             std::optional<std::size_t> max_bytes = std::nullopt);
  // Aborts the transfers in flight and the requests waiting for their slot, completing each
  // with k_fetcher_stopped; later fetches fail the same way at once. Idempotent.
  void stop();
  // Convenience for blocking callers (CLI, tests, blocking handlers).
  fetch_result fetch_blocking(fetch_request request);
  fetch_result fetch_blocking(std::string url, std::optional<std::size_t> max_bytes = std::nullopt);

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace sky::scrape
