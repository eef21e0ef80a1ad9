// Byte ranges of a page's visible text (page_metadata's code, listing and placeholder spans):
// sorted, not overlapping, [begin, end).
#pragma once

#include <algorithm>
#include <cstddef>
#include <span>
#include <utility>
#include <vector>

namespace sky::scrape {

using byte_range = std::pair<std::size_t, std::size_t>;
using text_spans = std::vector<byte_range>;

// Whether text[pos] lies in one of `spans`.
inline bool inside_span(std::span<const byte_range> spans, std::size_t pos) {
  auto after =
      std::upper_bound(spans.begin(), spans.end(), pos,
                       [](std::size_t p, const byte_range& span) { return p < span.first; });
  return after != spans.begin() && pos < std::prev(after)->second;
}

// Whether text[begin, end) shares a byte with one of `spans`.
inline bool touches_span(std::span<const byte_range> spans, std::size_t begin, std::size_t end) {
  auto after =
      std::lower_bound(spans.begin(), spans.end(), end,
                       [](const byte_range& span, std::size_t e) { return span.first < e; });
  return after != spans.begin() && std::prev(after)->second > begin;
}

} // namespace sky::scrape
