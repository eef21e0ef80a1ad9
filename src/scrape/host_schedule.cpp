// Slot reservation for per-host politeness.
#include "scrape/host_schedule.hpp"

#include <algorithm>

namespace sky::scrape {

host_schedule::host_schedule(std::chrono::milliseconds delay, std::size_t max_hosts)
    : delay_(delay), next_start_(max_hosts) {}

host_schedule::clock::time_point host_schedule::reserve(const std::string& host,
                                                        clock::time_point now) {
  next_start_.drop_oldest_while([now](clock::time_point next) { return next <= now; });
  auto* next = next_start_.find(host);
  auto at = next ? std::max(now, *next) : now;
  next_start_.put(host, at + delay_);
  return at;
}

} // namespace sky::scrape
