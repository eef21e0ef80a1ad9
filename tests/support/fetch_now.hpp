// One fetch through the fetcher's own callback API, waited for: the fetcher's tests test that
// API (a site scan's tests wait with scrape::run_sync instead).
#pragma once

#include "scrape/fetcher.hpp"

#include <future>
#include <memory>
#include <optional>
#include <string>

namespace sky::test_support {

inline scrape::fetch_result fetch_now(scrape::fetcher& f, scrape::fetch_request request) {
  auto promise = std::make_shared<std::promise<scrape::fetch_result>>();
  auto result = promise->get_future();
  f.fetch(std::move(request),
          [promise](scrape::fetch_result r) { promise->set_value(std::move(r)); });
  return result.get();
}

inline scrape::fetch_result fetch_now(scrape::fetcher& f, std::string url,
                                      std::optional<std::size_t> max_bytes = std::nullopt) {
  return fetch_now(f, scrape::fetch_request{std::move(url), std::nullopt, {}, max_bytes, nullptr});
}

} // namespace sky::test_support
