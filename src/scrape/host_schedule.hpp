// Per-host politeness: requests to one host start at least `delay` apart. The state is bounded:
// a host whose next slot has passed carries no information and is forgotten, and past
// `max_hosts` the least recently scheduled hosts are dropped (they may then be contacted again
// without waiting out their delay).
#pragma once

#include "scrape/lru_map.hpp"

#include <chrono>
#include <string>

namespace sky::scrape {

class host_schedule {
public:
  using clock = std::chrono::steady_clock;

  host_schedule(std::chrono::milliseconds delay, std::size_t max_hosts);

  // Reserves the next slot of `host` and returns when its request may start (`now` or later).
  clock::time_point reserve(const std::string& host, clock::time_point now);
  std::size_t tracked_hosts() const { return next_start_.size(); }

private:
  std::chrono::milliseconds delay_;
  lru_map<std::string, clock::time_point> next_start_; // earliest start of the next request
};

} // namespace sky::scrape
