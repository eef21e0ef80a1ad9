// The rendering tier's counters, apart from the browser pool so that /metrics reads them without
// its headers.
#pragma once

#include <cstdint>

namespace sky::scrape {

struct render_stats {
  std::uint64_t browsers_started = 0;
  std::uint64_t browsers_restarted = 0; // after a crash, a hang, or the memory cap
  std::uint64_t pages_rendered = 0;
  std::uint64_t pages_failed = 0;
  std::uint64_t memory_bytes = 0;      // of every browser process (PSS), at the last check
  std::uint64_t peak_memory_bytes = 0; // the most seen at a check (once a second)
};

} // namespace sky::scrape
