// The rendering tier: a pool of headless Chromium processes driven over the DevTools protocol
// (a Boost.Beast websocket client). The browser itself touches no network: every request a page
// makes is paused (DevTools Fetch domain) and answered by the job's fetch_session, so the SSRF
// guard, the size limits, the job's budget and its cookies apply to subresources and redirects
// as they do to pages. The page's own document is served from its HTTP read, not fetched again.
#pragma once

#include "config/config.hpp"
#include "scrape/fetch_session.hpp"
#include "scrape/render_stats.hpp"

#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace sky::scrape {

struct render_request {
  std::string url;  // the page's URL after the HTTP read's redirects
  std::string html; // what the HTTP read got, as UTF-8: the browser is served this
};

struct render_result {
  std::string html;  // the rendered document (outerHTML), at most render_config::max_html_bytes
  std::string error; // why nothing was read; empty on success
  int requests = 0;  // subresources the page asked for
  int blocked = 0;   // refused: media, other hosts' documents, non-GET, the cap, the SSRF guard
  int refused_by_guard = 0; // of those, refused by the SSRF guard (an address not allowed)
  int dialogs = 0;          // alert/confirm/prompt dismissed
  double seconds = 0;       // wall time, waiting for a browser included
  bool ok() const { return error.empty(); }
};

class browser_pool {
public:
  // Work (DevTools I/O, the fetches of subresources) runs on `context`, the fetcher's.
  browser_pool(const config::render_config& config, boost::asio::io_context& context);
  ~browser_pool(); // stops
  browser_pool(const browser_pool&) = delete;
  browser_pool& operator=(const browser_pool&) = delete;

  // False when no browser binary was found: nothing can be rendered.
  bool available() const;
  const std::string& browser_path() const;
  // Renders one page in a browser context of its own (its own cookies and storage), disposed
  // afterwards. Never throws; a failure is in the result's error. `session` must be owned by a
  // shared_ptr: subresource fetches still in flight when the page ends (a script that never
  // comes) hold it until they end, within the fetcher's time limit; their answers are dropped.
  boost::asio::awaitable<render_result> render(fetch_session& session, render_request request);
  // Kills every browser; renders in flight end with an error, later ones fail at once.
  void stop();
  render_stats stats() const;
  // Process ids of the running browsers (tests kill one mid-page).
  std::vector<int> browser_pids() const;

private:
  struct impl;
  std::shared_ptr<impl> impl_;
};

// The binary named by `configured`, else the first of chromium-headless-shell and chromium on
// PATH; "" when none is executable.
std::string find_browser(const std::string& configured);

} // namespace sky::scrape
